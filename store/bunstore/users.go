package bunstore

import (
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var (
	msgUserNotFound = keel.ErrUserNotFound.Message
	msgEmailTaken   = keel.ErrEmailTaken.Message
)

// CreateUser inserts u. Conflict when the email (or the ID) is taken.
func (h *handle) CreateUser(ctx context.Context, u *keel.User) error {
	_, err := h.writer.NewInsert().Model(toUserRow(u)).Exec(ctx)
	return storeError("create user", err, "", msgEmailTaken)
}

// User returns the user with the id.
func (h *handle) User(ctx context.Context, id uuid.UUID) (*keel.User, error) {
	var row userRow
	if err := h.lockInTx(h.reader.NewSelect().Model(&row).Where("u.id = ?", id)).Scan(ctx); err != nil {
		return nil, storeError("user", err, msgUserNotFound, "")
	}
	return row.user(), nil
}

// UserByEmail returns the user with the (normalised) email, through the
// unique index on it.
func (h *handle) UserByEmail(ctx context.Context, email string) (*keel.User, error) {
	var row userRow
	if err := h.reader.NewSelect().Model(&row).Where("u.email = ?", email).Scan(ctx); err != nil {
		return nil, storeError("user by email", err, msgUserNotFound, "")
	}
	return row.user(), nil
}

// ListUsers returns a page of users, newest first, and their total count.
func (h *handle) ListUsers(ctx context.Context, p keel.Page) ([]*keel.User, int, error) {
	var rows []userRow
	q := h.reader.NewSelect().Model(&rows).OrderExpr("u.created_at DESC, u.id DESC")
	if err := page(q, p).Scan(ctx); err != nil {
		return nil, 0, storeError("list users", err, "", "")
	}
	total, err := count(ctx, p, len(rows), h.reader.NewSelect().Model((*userRow)(nil)))
	if err != nil {
		return nil, 0, storeError("count users", err, "", "")
	}
	users := make([]*keel.User, len(rows))
	for i := range rows {
		users[i] = rows[i].user()
	}
	return users, total, nil
}

// UpdateUser replaces every field of the user with u.ID except ID and
// CreatedAt.
func (h *handle) UpdateUser(ctx context.Context, u *keel.User) error {
	res, err := h.writer.NewUpdate().Model(toUserRow(u)).
		ExcludeColumn("id", "created_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return storeError("update user", err, msgUserNotFound, msgEmailTaken)
	}
	return requireRow("update user", res, msgUserNotFound)
}

// DeleteUser deletes the user; the foreign keys' ON DELETE CASCADE deletes
// its items, sessions, reset tokens, API tokens, one-time tokens, TOTP and
// recovery codes, identities, passkeys, user handle and authentication
// flows in the same statement.
func (h *handle) DeleteUser(ctx context.Context, id uuid.UUID) error {
	res, err := h.writer.NewDelete().Model((*userRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return storeError("delete user", err, "", "")
	}
	return requireRow("delete user", res, msgUserNotFound)
}
