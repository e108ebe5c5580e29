package bunstore

import (
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

const (
	msgIdentityNotFound = "Identity not found"
	msgIdentityLinked   = "The provider's account is linked already"
)

// CreateIdentity inserts id; the unique index on (provider, subject) keeps
// a provider's account linked to one user.
func (h *handle) CreateIdentity(ctx context.Context, id *keel.Identity) error {
	_, err := h.writer.NewInsert().Model(&identityRow{
		ID:        id.ID,
		UserID:    id.UserID,
		Provider:  id.Provider,
		Subject:   id.Subject,
		Email:     id.Email,
		CreatedAt: id.CreatedAt,
	}).Exec(ctx)
	return storeError("create identity", err, msgUserNotFound, msgIdentityLinked)
}

// Identity returns the identity of the provider's account with the subject.
func (h *handle) Identity(ctx context.Context, provider, subject string) (*keel.Identity, error) {
	var row identityRow
	err := h.reader.NewSelect().Model(&row).
		Where("idn.provider = ?", provider).
		Where("idn.subject = ?", subject).
		Scan(ctx)
	if err != nil {
		return nil, storeError("identity", err, msgIdentityNotFound, "")
	}
	return row.identity(), nil
}

// ListIdentities returns the user's identities, newest first.
func (h *handle) ListIdentities(ctx context.Context, userID uuid.UUID) ([]*keel.Identity, error) {
	var rows []identityRow
	err := h.reader.NewSelect().Model(&rows).
		Where("idn.user_id = ?", userID).
		OrderExpr("idn.created_at DESC, idn.id DESC").
		Scan(ctx)
	if err != nil {
		return nil, storeError("list identities", err, "", "")
	}
	out := make([]*keel.Identity, len(rows))
	for i := range rows {
		out[i] = rows[i].identity()
	}
	return out, nil
}

// DeleteIdentity deletes the user's identity with the id.
func (h *handle) DeleteIdentity(ctx context.Context, userID, id uuid.UUID) error {
	res, err := h.writer.NewDelete().Model((*identityRow)(nil)).
		Where("id = ?", id).
		Where("user_id = ?", userID).
		Exec(ctx)
	if err != nil {
		return storeError("delete identity", err, "", "")
	}
	return requireRow("delete identity", res, msgIdentityNotFound)
}
