package bunstore

import (
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

const (
	msgAuthFlowNotFound = "Authentication flow not found"
	msgAuthFlowExists   = "Authentication flow already exists"
)

// CreateAuthFlow inserts f; a flow without a user has a NULL user_id.
func (h *handle) CreateAuthFlow(ctx context.Context, f *keel.AuthFlow) error {
	_, err := h.writer.NewInsert().Model(&authFlowRow{
		KeyHash:   f.KeyHash,
		Kind:      string(f.Kind),
		UserID:    uuid.NullUUID{UUID: f.UserID, Valid: f.UserID != uuid.Nil},
		Data:      nonNil(f.Data),
		CreatedAt: f.CreatedAt,
		ExpiresAt: f.ExpiresAt,
	}).Exec(ctx)
	return storeError("create auth flow", err, msgUserNotFound, msgAuthFlowExists)
}

// ConsumeAuthFlow deletes the flow of the kind with the hash and returns
// it, with one DELETE ... RETURNING: of concurrent calls, only one deletes
// the row.
func (h *handle) ConsumeAuthFlow(ctx context.Context, kind keel.AuthFlowKind, keyHash string) (*keel.AuthFlow, error) {
	var rows []authFlowRow
	err := h.writer.NewDelete().Model(&rows).
		Where("key_hash = ?", keyHash).
		Where("kind = ?", string(kind)).
		Returning("key_hash, kind, user_id, data, created_at, expires_at").
		Scan(ctx)
	if err != nil {
		return nil, storeError("consume auth flow", err, msgAuthFlowNotFound, "")
	}
	if len(rows) == 0 {
		return nil, notFound("consume auth flow", msgAuthFlowNotFound)
	}
	return rows[0].flow(), nil
}
