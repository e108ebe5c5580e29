package bunstore

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

const (
	msgOneTimeTokenNotFound = "One-time token not found"
	msgOneTimeTokenExists   = "One-time token already exists"
)

// CreateOneTimeToken inserts t and deletes the user's other tokens of its
// purpose, in one transaction.
func (h *handle) CreateOneTimeToken(ctx context.Context, t *keel.OneTimeToken) error {
	err := h.atomically(ctx, func(db bun.IDB) error {
		if _, err := db.NewInsert().Model(toOneTimeTokenRow(t)).Exec(ctx); err != nil {
			return err
		}
		_, err := db.NewDelete().Model((*oneTimeTokenRow)(nil)).
			Where("user_id = ?", t.UserID).
			Where("purpose = ?", string(t.Purpose)).
			Where("token_hash <> ?", t.TokenHash).
			Exec(ctx)
		return err
	})
	return storeError("create one-time token", err, msgUserNotFound, msgOneTimeTokenExists)
}

// OneTimeToken returns the token with the purpose and hash.
func (h *handle) OneTimeToken(ctx context.Context, purpose keel.TokenPurpose, tokenHash string) (*keel.OneTimeToken, error) {
	var row oneTimeTokenRow
	err := h.reader.NewSelect().Model(&row).
		Where("ot.token_hash = ?", tokenHash).
		Where("ot.purpose = ?", string(purpose)).
		Scan(ctx)
	if err != nil {
		return nil, storeError("one-time token", err, msgOneTimeTokenNotFound, "")
	}
	return row.token(), nil
}

// ConsumeOneTimeToken deletes the token with the purpose and hash and
// returns it, with one DELETE ... RETURNING: of concurrent calls, only one
// deletes the row.
func (h *handle) ConsumeOneTimeToken(ctx context.Context, purpose keel.TokenPurpose, tokenHash string) (*keel.OneTimeToken, error) {
	var rows []oneTimeTokenRow
	err := h.writer.NewDelete().Model(&rows).
		Where("token_hash = ?", tokenHash).
		Where("purpose = ?", string(purpose)).
		Returning("token_hash, user_id, purpose, email, created_at, expires_at").
		Scan(ctx)
	if err != nil {
		return nil, storeError("consume one-time token", err, msgOneTimeTokenNotFound, "")
	}
	if len(rows) == 0 {
		return nil, notFound("consume one-time token", msgOneTimeTokenNotFound)
	}
	return rows[0].token(), nil
}

// DeleteUserOneTimeTokens deletes the user's tokens of the purpose.
func (h *handle) DeleteUserOneTimeTokens(ctx context.Context, userID uuid.UUID, purpose keel.TokenPurpose) error {
	_, err := h.writer.NewDelete().Model((*oneTimeTokenRow)(nil)).
		Where("user_id = ?", userID).
		Where("purpose = ?", string(purpose)).
		Exec(ctx)
	return storeError("delete user one-time tokens", err, "", "")
}
