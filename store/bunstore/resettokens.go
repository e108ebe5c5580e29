package bunstore

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

const (
	msgResetTokenNotFound = "Reset token not found"
	msgResetTokenExists   = "Reset token already exists"
)

// CreateResetToken inserts t and deletes the user's other reset tokens, in
// one transaction.
func (h *handle) CreateResetToken(ctx context.Context, t *keel.ResetToken) error {
	err := h.atomically(ctx, func(db bun.IDB) error {
		_, err := db.NewInsert().Model(&resetTokenRow{
			TokenHash: t.TokenHash,
			UserID:    t.UserID,
			CreatedAt: t.CreatedAt,
			ExpiresAt: t.ExpiresAt,
		}).Exec(ctx)
		if err != nil {
			return err
		}
		_, err = db.NewDelete().Model((*resetTokenRow)(nil)).
			Where("user_id = ?", t.UserID).
			Where("token_hash <> ?", t.TokenHash).
			Exec(ctx)
		return err
	})
	return storeError("create reset token", err, msgUserNotFound, msgResetTokenExists)
}

// ConsumeResetToken deletes the token with the hash and returns it, with one
// DELETE ... RETURNING: of concurrent calls, only one deletes the row.
func (h *handle) ConsumeResetToken(ctx context.Context, tokenHash string) (*keel.ResetToken, error) {
	var rows []resetTokenRow
	err := h.writer.NewDelete().Model(&rows).
		Where("token_hash = ?", tokenHash).
		Returning("token_hash, user_id, created_at, expires_at").
		Scan(ctx)
	if err != nil {
		return nil, storeError("consume reset token", err, msgResetTokenNotFound, "")
	}
	if len(rows) == 0 {
		return nil, notFound("consume reset token", msgResetTokenNotFound)
	}
	return rows[0].token(), nil
}

// DeleteUserResetTokens deletes every reset token of the user.
func (h *handle) DeleteUserResetTokens(ctx context.Context, userID uuid.UUID) error {
	_, err := h.writer.NewDelete().Model((*resetTokenRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
	return storeError("delete user reset tokens", err, "", "")
}
