package bunstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

const (
	msgSessionNotFound = "Session not found"
	msgSessionExists   = "Session already exists"
)

// FindSession returns the unexpired session with the token hash and its
// user, in one query that joins sessions to users.
func (h *handle) FindSession(ctx context.Context, tokenHash string, now time.Time) (*keel.SessionRecord, *keel.User, error) {
	if p := h.readStmts; p != nil {
		sc := sessionScans.Get().(*sessionScan)
		defer sessionScans.Put(sc)
		if err := p.queryRow(ctx, qFindSession, []any{tokenHash, h.timeArg(now)}, sc.dest[:]); err != nil {
			return nil, nil, storeError("find session", err, msgSessionNotFound, "")
		}
		return sc.row.record(), sc.user.user(), nil
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

// FindSessionItem is FindSession with the item with itemID (nil when
// there is none): one query, the item LEFT JOINed, on the prepared path;
// FindSession then Item otherwise (in a transaction, where Item locks the
// row as it always does there).
func (h *handle) FindSessionItem(ctx context.Context, tokenHash string, now time.Time, itemID uuid.UUID) (*keel.SessionRecord, *keel.User, *keel.Item, error) {
	p := h.readStmts
	if p == nil {
		rec, u, err := h.FindSession(ctx, tokenHash, now)
		if err != nil {
			return nil, nil, nil, err
		}
		it, err := h.Item(ctx, itemID)
		if err != nil && keel.ErrorCode(err) != keel.NotFound {
			return nil, nil, nil, err
		}
		return rec, u, it, nil
	}
	sc := sessionItemScans.Get().(*sessionItemScan)
	defer sessionItemScans.Put(sc)
	sc.item.ID = uuid.Nil
	if err := p.queryRow(ctx, qFindSessionItem, []any{itemID, tokenHash, h.timeArg(now)}, sc.dest[:]); err != nil {
		return nil, nil, nil, storeError("find session", err, msgSessionNotFound, "")
	}
	var it *keel.Item
	if sc.item.ID != uuid.Nil {
		sc.item.Title = sc.title.String
		it = sc.item.item()
	}
	return sc.row.record(), sc.user.user(), it, nil
}

// CreateSession inserts a session. Conflict when the token hash or the ID
// exists, NotFound when the user does not.
func (h *handle) CreateSession(ctx context.Context, rec *keel.SessionRecord) error {
	_, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
		return h.writer.NewInsert().Conn(conn).Model(toSessionRow(rec)).Exec(ctx)
	})
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

// ListUserSessions returns the user's unexpired sessions, newest first,
// through the index on user_id.
func (h *handle) ListUserSessions(ctx context.Context, userID uuid.UUID, now time.Time) ([]*keel.SessionRecord, error) {
	var rows []sessionRow
	err := h.reader.NewSelect().Model(&rows).
		Where("user_id = ?", userID).
		Where("expiry > ?", now).
		OrderExpr("created_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, storeError("list user sessions", err, "", "")
	}
	out := make([]*keel.SessionRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// DeleteUserSession deletes the session with the ID if it is the user's;
// NotFound when no row matched.
func (h *handle) DeleteUserSession(ctx context.Context, userID, id uuid.UUID) error {
	res, err := h.writer.NewDelete().Model((*sessionRow)(nil)).
		Where("id = ?", id).
		Where("user_id = ?", userID).
		Exec(ctx)
	if err != nil {
		return storeError("delete user session", err, "", "")
	}
	return requireRow("delete user session", res, msgSessionNotFound)
}

// TouchSession moves last_used_at forward with one conditional UPDATE, so
// concurrent touches never move it back.
func (h *handle) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	_, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
		return h.writer.NewUpdate().Conn(conn).Model((*sessionRow)(nil)).
			Set("last_used_at = ?", at).
			Where("token_hash = ?", tokenHash).
			Where("last_used_at < ?", at).
			Exec(ctx)
	})
	return storeError("touch session", err, "", "")
}

// TrimUserSessions deletes, in one statement, the user's unexpired
// sessions that are not among the keep most recently used.
func (h *handle) TrimUserSessions(ctx context.Context, userID uuid.UUID, keep int, now time.Time) (int64, error) {
	if keep < 1 {
		return 0, keel.Errorf(keel.Invalid, "bunstore: trim user sessions: keep %d is below 1", keep)
	}
	keepers := h.writer.NewSelect().Model((*sessionRow)(nil)).Column("token_hash").
		Where("user_id = ?", userID).
		Where("expiry > ?", now).
		OrderExpr("last_used_at DESC, created_at DESC, id DESC").
		Limit(int64(keep))
	res, err := h.writer.NewDelete().Model((*sessionRow)(nil)).
		Where("user_id = ?", userID).
		Where("expiry > ?", now).
		Where("token_hash NOT IN (?)", keepers).
		Exec(ctx)
	if err != nil {
		return 0, storeError("trim user sessions", err, "", "")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, storeError("trim user sessions", err, "", "")
	}
	return n, nil
}
