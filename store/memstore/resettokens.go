package memstore

import (
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// cloneResetToken returns a copy of t with its times in UTC.
func cloneResetToken(t *keel.ResetToken) *keel.ResetToken {
	c := *t
	c.CreatedAt = t.CreatedAt.UTC()
	c.ExpiresAt = t.ExpiresAt.UTC()
	return &c
}

// CreateResetToken inserts a copy of t and deletes the user's earlier
// reset tokens. NotFound when the user does not exist, Conflict when
// another user's token has the hash.
func (h *handle) CreateResetToken(ctx context.Context, t *keel.ResetToken) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[t.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the reset token's user does not exist")
		}
		for hash := range d.resetTokensByUser[t.UserID] {
			d.removeResetToken(log, hash)
		}
		if _, taken := d.resetTokens[t.TokenHash]; taken {
			return keel.Errorf(keel.Conflict, "memstore: reset token hash already taken")
		}
		set(log, d.resetTokens, t.TokenHash, cloneResetToken(t))
		d.resetTokensByUser.add(log, t.UserID, t.TokenHash)
		return nil
	})
}

// ConsumeResetToken deletes the token with the hash and returns it: of
// concurrent calls with one hash exactly one gets it. NotFound when there
// is none; expiry is keel's to check.
func (h *handle) ConsumeResetToken(ctx context.Context, tokenHash string) (*keel.ResetToken, error) {
	var out *keel.ResetToken
	err := h.write(ctx, func(d *db, log *undoLog) error {
		tok, ok := d.resetTokens[tokenHash]
		if !ok {
			return keel.Errorf(keel.NotFound, "memstore: reset token not found")
		}
		d.removeResetToken(log, tokenHash)
		out = cloneResetToken(tok)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUserResetTokens deletes every reset token of the user.
func (h *handle) DeleteUserResetTokens(ctx context.Context, userID uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		for hash := range d.resetTokensByUser[userID] {
			d.removeResetToken(log, hash)
		}
		return nil
	})
}

// removeResetToken deletes the token and its index entry.
func (d *db) removeResetToken(log *undoLog, tokenHash string) {
	tok, ok := d.resetTokens[tokenHash]
	if !ok {
		return
	}
	d.resetTokensByUser.remove(log, tok.UserID, tokenHash)
	del(log, d.resetTokens, tokenHash)
}
