package memstore

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var (
	errPasskeyNotFound    = keel.Errorf(keel.NotFound, "memstore: passkey not found")
	errUserHandleNotFound = keel.Errorf(keel.NotFound, "memstore: user handle not found")
)

func clonePasskey(p *keel.Passkey) *keel.Passkey {
	c := *p
	c.CredentialID = bytes.Clone(p.CredentialID)
	c.PublicKey = bytes.Clone(p.PublicKey)
	c.AAGUID = bytes.Clone(p.AAGUID)
	c.Transports = slices.Clone(p.Transports)
	if c.Transports == nil {
		c.Transports = []string{}
	}
	c.CreatedAt = p.CreatedAt.UTC()
	if !p.LastUsedAt.IsZero() {
		c.LastUsedAt = p.LastUsedAt.UTC()
	}
	return &c
}

// CreateUserHandle gives the user the handle. Conflict when the user has
// one or the handle is taken, NotFound when the user does not exist.
func (h *handle) CreateUserHandle(ctx context.Context, userID uuid.UUID, userHandle []byte) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[userID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the handle's user does not exist")
		}
		if _, has := d.userHandles[userID]; has {
			return keel.Errorf(keel.Conflict, "memstore: the user has a handle already")
		}
		key := string(userHandle)
		if _, taken := d.handleUsers[key]; taken {
			return keel.Errorf(keel.Conflict, "memstore: user handle already taken")
		}
		set(log, d.userHandles, userID, key)
		set(log, d.handleUsers, key, userID)
		return nil
	})
}

// UserHandle returns the user's handle.
func (h *handle) UserHandle(ctx context.Context, userID uuid.UUID) ([]byte, error) {
	var out []byte
	err := h.read(ctx, func(d *db) error {
		hd, ok := d.userHandles[userID]
		if !ok {
			return errUserHandleNotFound
		}
		out = []byte(hd)
		return nil
	})
	return out, err
}

// UserByHandle returns the user with the handle.
func (h *handle) UserByHandle(ctx context.Context, userHandle []byte) (*keel.User, error) {
	var out *keel.User
	err := h.read(ctx, func(d *db) error {
		id, ok := d.handleUsers[string(userHandle)]
		if !ok {
			return errUserNotFound
		}
		out = cloneUser(d.users[id])
		return nil
	})
	return out, err
}

// CreatePasskey inserts a copy of p. Conflict when its ID or credential id
// is taken, NotFound when the user does not exist.
func (h *handle) CreatePasskey(ctx context.Context, p *keel.Passkey) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[p.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the passkey's user does not exist")
		}
		key := string(p.CredentialID)
		if _, taken := d.passkeys[key]; taken {
			return keel.Errorf(keel.Conflict, "memstore: credential id already registered")
		}
		if _, taken := d.passkeyIDs[p.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: passkey id already taken")
		}
		set(log, d.passkeys, key, clonePasskey(p))
		set(log, d.passkeyIDs, p.ID, key)
		d.passkeysByUser.add(log, p.UserID, key)
		return nil
	})
}

// Passkey returns the passkey with the credential id.
func (h *handle) Passkey(ctx context.Context, credentialID []byte) (*keel.Passkey, error) {
	var out *keel.Passkey
	err := h.read(ctx, func(d *db) error {
		p, ok := d.passkeys[string(credentialID)]
		if !ok {
			return errPasskeyNotFound
		}
		out = clonePasskey(p)
		return nil
	})
	return out, err
}

// ListPasskeys returns the user's passkeys, newest first.
func (h *handle) ListPasskeys(ctx context.Context, userID uuid.UUID) ([]*keel.Passkey, error) {
	var out []*keel.Passkey
	err := h.read(ctx, func(d *db) error {
		out = make([]*keel.Passkey, 0, len(d.passkeysByUser[userID]))
		for key := range d.passkeysByUser[userID] {
			out = append(out, clonePasskey(d.passkeys[key]))
		}
		slices.SortFunc(out, func(a, b *keel.Passkey) int {
			return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
		})
		return nil
	})
	return out, err
}

// UsePasskey records a use of the passkey when its counter moved on.
func (h *handle) UsePasskey(ctx context.Context, credentialID []byte, signCount uint32, flags keel.PasskeyFlags, at time.Time) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		key := string(credentialID)
		p, ok := d.passkeys[key]
		if !ok {
			return errPasskeyNotFound
		}
		if signCount <= p.SignCount && (signCount != 0 || p.SignCount != 0) {
			return keel.Errorf(keel.Conflict, "memstore: the signature counter did not move on")
		}
		upd := clonePasskey(p)
		upd.SignCount, upd.Flags, upd.LastUsedAt = signCount, flags, at.UTC()
		set(log, d.passkeys, key, upd)
		return nil
	})
}

// DeletePasskey deletes the user's passkey with the id.
func (h *handle) DeletePasskey(ctx context.Context, userID, id uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		key, ok := d.passkeyIDs[id]
		if !ok || d.passkeys[key].UserID != userID {
			return errPasskeyNotFound
		}
		d.removePasskey(log, key)
		return nil
	})
}

// removePasskey deletes the passkey with the credential id and its index
// entries.
func (d *db) removePasskey(log *undoLog, key string) {
	p, ok := d.passkeys[key]
	if !ok {
		return
	}
	d.passkeysByUser.remove(log, p.UserID, key)
	del(log, d.passkeyIDs, p.ID)
	del(log, d.passkeys, key)
}
