package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errAPITokenNotFound = keel.Errorf(keel.NotFound, "memstore: API token not found")

// cloneAPIToken returns a copy of t with its times in UTC.
func cloneAPIToken(t *keel.APIToken) *keel.APIToken {
	c := *t
	c.CreatedAt = t.CreatedAt.UTC()
	c.LastUsedAt = t.LastUsedAt.UTC()
	c.ExpiresAt = t.ExpiresAt.UTC()
	return &c
}

// CreateAPIToken inserts a copy of t. Conflict when its hash or ID is
// taken, NotFound when its user does not exist.
func (h *handle) CreateAPIToken(ctx context.Context, t *keel.APIToken) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[t.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the API token's user does not exist")
		}
		if _, taken := d.apiTokenHashes[t.TokenHash]; taken {
			return keel.Errorf(keel.Conflict, "memstore: API token hash already taken")
		}
		if _, taken := d.apiTokens[t.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: API token id already taken")
		}
		set(log, d.apiTokens, t.ID, cloneAPIToken(t))
		set(log, d.apiTokenHashes, t.TokenHash, t.ID)
		d.apiTokensByUser.add(log, t.UserID, t.ID)
		return nil
	})
}

// FindAPIToken returns the unexpired token with the hash and its user.
// NotFound otherwise.
func (h *handle) FindAPIToken(ctx context.Context, tokenHash string, now time.Time) (*keel.APIToken, *keel.User, error) {
	var (
		tok  *keel.APIToken
		user *keel.User
	)
	err := h.read(ctx, func(d *db) error {
		id, ok := d.apiTokenHashes[tokenHash]
		if !ok || !d.apiTokens[id].ExpiresAt.After(now) {
			return errAPITokenNotFound
		}
		stored := d.apiTokens[id]
		u, ok := d.users[stored.UserID]
		if !ok {
			// DeleteUser removes a user's tokens, so this is a bug.
			return keel.Errorf(keel.Internal, "memstore: an API token outlived its user")
		}
		tok, user = cloneAPIToken(stored), cloneUser(u)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return tok, user, nil
}

// ListUserAPITokens returns the user's unexpired tokens, newest first.
func (h *handle) ListUserAPITokens(ctx context.Context, userID uuid.UUID, now time.Time) ([]*keel.APIToken, error) {
	var out []*keel.APIToken
	err := h.read(ctx, func(d *db) error {
		out = []*keel.APIToken{}
		for id := range d.apiTokensByUser[userID] {
			if t := d.apiTokens[id]; t.ExpiresAt.After(now) {
				out = append(out, cloneAPIToken(t))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *keel.APIToken) int {
		return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
	})
	return out, nil
}

// DeleteUserAPIToken deletes the token with the ID if it is the user's.
// NotFound otherwise.
func (h *handle) DeleteUserAPIToken(ctx context.Context, userID, id uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		t, ok := d.apiTokens[id]
		if !ok || t.UserID != userID {
			return errAPITokenNotFound
		}
		d.removeAPIToken(log, id)
		return nil
	})
}

// DeleteUserAPITokens deletes every token of the user and counts them.
func (h *handle) DeleteUserAPITokens(ctx context.Context, userID uuid.UUID) (int64, error) {
	var n int64
	err := h.write(ctx, func(d *db, log *undoLog) error {
		n = 0
		for id := range d.apiTokensByUser[userID] {
			d.removeAPIToken(log, id)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// TouchAPIToken moves LastUsedAt of the token forward to at; a missing
// token is not an error.
func (h *handle) TouchAPIToken(ctx context.Context, id uuid.UUID, at time.Time) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		old, ok := d.apiTokens[id]
		if !ok || !at.After(old.LastUsedAt) {
			return nil
		}
		upd := *old
		upd.LastUsedAt = at.UTC()
		set(log, d.apiTokens, id, &upd)
		return nil
	})
}

// removeAPIToken deletes the token and its index entries.
func (d *db) removeAPIToken(log *undoLog, id uuid.UUID) {
	t, ok := d.apiTokens[id]
	if !ok {
		return
	}
	d.apiTokensByUser.remove(log, t.UserID, id)
	del(log, d.apiTokenHashes, t.TokenHash)
	del(log, d.apiTokens, id)
}
