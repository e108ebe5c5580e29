package bunstore

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

const (
	msgSessionNotFound = "Session not found"
	msgSessionExists   = "Session already exists"
)

// FindSession returns the unexpired session with the token hash and its
// user, in one query that joins sessions to users.
func (h *handle) FindSession(ctx context.Context, tokenHash string, now time.Time) (*keel.SessionRecord, *keel.User, error) {
	if st := h.readStmts.stmt(ctx, sqlFindSession); st != nil {
		row := sessionRow{User: &userRow{}}
		u := row.User
		err := st.QueryRowContext(ctx, tokenHash, h.timeArg(now)).Scan(
			&row.TokenHash, &row.UserID, &row.Data, &row.Expiry,
			&u.ID, &u.Email, &u.FullName, &u.IsActive, &u.IsSuperuser, &u.IsVerified, &u.PasswordHash, &u.PasswordChangedAt, &u.CreatedAt, &u.UpdatedAt)
		if err != nil {
			return nil, nil, storeError("find session", err, msgSessionNotFound, "")
		}
		return row.record(), u.user(), nil
	}
	var row sessionRow
	err := h.reader.NewSelect().Model(&row).
		Relation("User").
		Where("s.token_hash = ?", tokenHash).
		Where("s.expiry > ?", now).
		Scan(ctx)
	if err != nil {
		return nil, nil, storeError("find session", err, msgSessionNotFound, "")
	}
	if row.User == nil || row.User.ID == uuid.Nil {
		// The foreign key makes this impossible; never hand out a session
		// without its user.
		return nil, nil, notFound("find session", msgSessionNotFound)
	}
	return row.record(), row.User.user(), nil
}

// CreateSession inserts a session. Conflict when the token hash exists,
// NotFound when the user does not.
func (h *handle) CreateSession(ctx context.Context, rec *keel.SessionRecord) error {
	data := rec.Data
	if data == nil {
		data = []byte{}
	}
	_, err := h.writer.NewInsert().Model(&sessionRow{
		TokenHash: rec.TokenHash,
		UserID:    rec.UserID,
		Data:      data,
		Expiry:    rec.Expiry,
	}).Exec(ctx)
	return storeError("create session", err, msgUserNotFound, msgSessionExists)
}

// UpdateSession sets Data and Expiry of an existing session with one UPDATE;
// NotFound when it matched no row. It never inserts.
func (h *handle) UpdateSession(ctx context.Context, tokenHash string, data []byte, expiry time.Time) error {
	if data == nil {
		data = []byte{}
	}
	res, err := h.writer.NewUpdate().Model((*sessionRow)(nil)).
		Set("data = ?", data).
		Set("expiry = ?", expiry).
		Where("token_hash = ?", tokenHash).
		Exec(ctx)
	if err != nil {
		return storeError("update session", err, "", "")
	}
	return requireRow("update session", res, msgSessionNotFound)
}

// DeleteSession deletes a session; a missing one is not an error.
func (h *handle) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := h.writer.NewDelete().Model((*sessionRow)(nil)).Where("token_hash = ?", tokenHash).Exec(ctx)
	return storeError("delete session", err, "", "")
}

// DeleteUserSessions deletes the user's sessions, but the one with the hash
// except, through the index on user_id.
func (h *handle) DeleteUserSessions(ctx context.Context, userID uuid.UUID, except string) (int64, error) {
	q := h.writer.NewDelete().Model((*sessionRow)(nil)).Where("user_id = ?", userID)
	if except != "" {
		q = q.Where("token_hash <> ?", except)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, storeError("delete user sessions", err, "", "")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, storeError("delete user sessions", err, "", "")
	}
	return n, nil
}
