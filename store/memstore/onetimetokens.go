package memstore

import (
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errOneTimeTokenNotFound = keel.Errorf(keel.NotFound, "memstore: one-time token not found")

// cloneOneTimeToken returns a copy of t with its times in UTC.
func cloneOneTimeToken(t *keel.OneTimeToken) *keel.OneTimeToken {
	c := *t
	c.CreatedAt = t.CreatedAt.UTC()
	c.ExpiresAt = t.ExpiresAt.UTC()
	return &c
}

// CreateOneTimeToken inserts a copy of t and deletes the user's earlier
// tokens of its purpose. NotFound when the user does not exist, Conflict
// when the hash is taken.
func (h *handle) CreateOneTimeToken(ctx context.Context, t *keel.OneTimeToken) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[t.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the one-time token's user does not exist")
		}
		for hash := range d.oneTimeTokensByUser[t.UserID] {
			if d.oneTimeTokens[hash].Purpose == t.Purpose {
				d.removeOneTimeToken(log, hash)
			}
		}
		if _, taken := d.oneTimeTokens[t.TokenHash]; taken {
			return keel.Errorf(keel.Conflict, "memstore: one-time token hash already taken")
		}
		set(log, d.oneTimeTokens, t.TokenHash, cloneOneTimeToken(t))
		d.oneTimeTokensByUser.add(log, t.UserID, t.TokenHash)
		return nil
	})
}

// OneTimeToken returns the token with the purpose and hash, leaving it in
// place. NotFound when there is none.
func (h *handle) OneTimeToken(ctx context.Context, purpose keel.TokenPurpose, tokenHash string) (*keel.OneTimeToken, error) {
	var out *keel.OneTimeToken
	err := h.read(ctx, func(d *db) error {
		tok, ok := d.oneTimeTokens[tokenHash]
		if !ok || tok.Purpose != purpose {
			return errOneTimeTokenNotFound
		}
		out = cloneOneTimeToken(tok)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConsumeOneTimeToken deletes the token with the purpose and hash and
// returns it: of concurrent calls exactly one gets it. NotFound when there
// is none.
func (h *handle) ConsumeOneTimeToken(ctx context.Context, purpose keel.TokenPurpose, tokenHash string) (*keel.OneTimeToken, error) {
	var out *keel.OneTimeToken
	err := h.write(ctx, func(d *db, log *undoLog) error {
		tok, ok := d.oneTimeTokens[tokenHash]
		if !ok || tok.Purpose != purpose {
			return errOneTimeTokenNotFound
		}
		d.removeOneTimeToken(log, tokenHash)
		out = cloneOneTimeToken(tok)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUserOneTimeTokens deletes the user's tokens of the purpose.
func (h *handle) DeleteUserOneTimeTokens(ctx context.Context, userID uuid.UUID, purpose keel.TokenPurpose) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		for hash := range d.oneTimeTokensByUser[userID] {
			if d.oneTimeTokens[hash].Purpose == purpose {
				d.removeOneTimeToken(log, hash)
			}
		}
		return nil
	})
}

// removeOneTimeToken deletes the token and its index entry.
func (d *db) removeOneTimeToken(log *undoLog, tokenHash string) {
	tok, ok := d.oneTimeTokens[tokenHash]
	if !ok {
		return
	}
	d.oneTimeTokensByUser.remove(log, tok.UserID, tokenHash)
	del(log, d.oneTimeTokens, tokenHash)
}
