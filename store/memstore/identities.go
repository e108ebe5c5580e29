package memstore

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errIdentityNotFound = keel.Errorf(keel.NotFound, "memstore: identity not found")

// identityKey is the unique key of a provider's account.
type identityKey struct{ provider, subject string }

func cloneIdentity(id *keel.Identity) *keel.Identity {
	c := *id
	c.CreatedAt = id.CreatedAt.UTC()
	return &c
}

// CreateIdentity inserts a copy of id. Conflict when the provider's account
// is linked already or the ID is taken, NotFound when the user does not
// exist.
func (h *handle) CreateIdentity(ctx context.Context, id *keel.Identity) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[id.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the identity's user does not exist")
		}
		key := identityKey{id.Provider, id.Subject}
		if _, taken := d.identityKeys[key]; taken {
			return keel.Errorf(keel.Conflict, "memstore: the provider's account is linked already")
		}
		if _, taken := d.identities[id.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: identity id already taken")
		}
		set(log, d.identities, id.ID, cloneIdentity(id))
		set(log, d.identityKeys, key, id.ID)
		d.identitiesByUser.add(log, id.UserID, id.ID)
		return nil
	})
}

// Identity returns the identity of the provider's account with the subject.
func (h *handle) Identity(ctx context.Context, provider, subject string) (*keel.Identity, error) {
	var out *keel.Identity
	err := h.read(ctx, func(d *db) error {
		id, ok := d.identityKeys[identityKey{provider, subject}]
		if !ok {
			return errIdentityNotFound
		}
		out = cloneIdentity(d.identities[id])
		return nil
	})
	return out, err
}

// ListIdentities returns the user's identities, newest first.
func (h *handle) ListIdentities(ctx context.Context, userID uuid.UUID) ([]*keel.Identity, error) {
	var out []*keel.Identity
	err := h.read(ctx, func(d *db) error {
		out = make([]*keel.Identity, 0, len(d.identitiesByUser[userID]))
		for id := range d.identitiesByUser[userID] {
			out = append(out, cloneIdentity(d.identities[id]))
		}
		slices.SortFunc(out, func(a, b *keel.Identity) int {
			return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
		})
		return nil
	})
	return out, err
}

// DeleteIdentity deletes the user's identity with the id.
func (h *handle) DeleteIdentity(ctx context.Context, userID, id uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		ident, ok := d.identities[id]
		if !ok || ident.UserID != userID {
			return errIdentityNotFound
		}
		d.removeIdentity(log, id)
		return nil
	})
}

// removeIdentity deletes the identity and its index entries.
func (d *db) removeIdentity(log *undoLog, id uuid.UUID) {
	ident, ok := d.identities[id]
	if !ok {
		return
	}
	d.identitiesByUser.remove(log, ident.UserID, id)
	del(log, d.identityKeys, identityKey{ident.Provider, ident.Subject})
	del(log, d.identities, id)
}
