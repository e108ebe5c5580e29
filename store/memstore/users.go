package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var (
	errUserNotFound = keel.Errorf(keel.NotFound, "memstore: user not found")
	errEmailTaken   = keel.Errorf(keel.Conflict, "memstore: email already taken")
)

// emailKey is the key of the unique email index: case does not count.
func emailKey(email string) string { return strings.ToLower(email) }

// cloneUser returns a deep copy of u with its times in UTC.
func cloneUser(u *keel.User) *keel.User {
	c := *u
	if u.FullName != nil {
		name := *u.FullName
		c.FullName = &name
	}
	c.PasswordChangedAt = u.PasswordChangedAt.UTC()
	c.CreatedAt = u.CreatedAt.UTC()
	c.UpdatedAt = u.UpdatedAt.UTC()
	return &c
}

// CreateUser inserts a copy of u. Conflict when the email is taken.
func (h *handle) CreateUser(ctx context.Context, u *keel.User) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, taken := d.emails[emailKey(u.Email)]; taken {
			return errEmailTaken
		}
		if _, taken := d.users[u.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: user id already taken")
		}
		set(log, d.users, u.ID, cloneUser(u))
		set(log, d.emails, emailKey(u.Email), u.ID)
		return nil
	})
}

// User returns the user with the id. NotFound when there is none.
func (h *handle) User(ctx context.Context, id uuid.UUID) (*keel.User, error) {
	var out *keel.User
	err := h.read(ctx, func(d *db) error {
		u, ok := d.users[id]
		if !ok {
			return errUserNotFound
		}
		out = cloneUser(u)
		return nil
	})
	return out, err
}

// UserByEmail returns the user with the email, whatever its case. NotFound
// when there is none.
func (h *handle) UserByEmail(ctx context.Context, email string) (*keel.User, error) {
	var out *keel.User
	err := h.read(ctx, func(d *db) error {
		id, ok := d.emails[emailKey(email)]
		if !ok {
			return errUserNotFound
		}
		out = cloneUser(d.users[id])
		return nil
	})
	return out, err
}

// ListUsers returns a page of users, newest first, and the number of users.
func (h *handle) ListUsers(ctx context.Context, p keel.Page) ([]*keel.User, int, error) {
	var (
		out   []*keel.User
		total int
	)
	err := h.read(ctx, func(d *db) error {
		all := make([]*keel.User, 0, len(d.users))
		for _, u := range d.users {
			all = append(all, u)
		}
		slices.SortFunc(all, func(a, b *keel.User) int {
			return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
		})
		out, total = page(all, p, cloneUser), len(all)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateUser replaces every field of the user with u.ID except ID and
// CreatedAt. NotFound when there is none, Conflict when another user has
// the email.
func (h *handle) UpdateUser(ctx context.Context, u *keel.User) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		old, ok := d.users[u.ID]
		if !ok {
			return errUserNotFound
		}
		oldKey, newKey := emailKey(old.Email), emailKey(u.Email)
		if owner, taken := d.emails[newKey]; taken && owner != u.ID {
			return errEmailTaken
		}
		upd := cloneUser(u)
		upd.CreatedAt = old.CreatedAt
		if oldKey != newKey {
			del(log, d.emails, oldKey)
			set(log, d.emails, newKey, u.ID)
		}
		set(log, d.users, u.ID, upd)
		return nil
	})
}

// DeleteUser deletes the user with its items, sessions, reset tokens, API
// tokens, one-time tokens, TOTP and recovery codes, identities, passkeys,
// user handle and authentication flows. NotFound when there is none.
func (h *handle) DeleteUser(ctx context.Context, id uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		u, ok := d.users[id]
		if !ok {
			return errUserNotFound
		}
		for itemID := range d.itemsByOwner[id] {
			d.removeItem(log, itemID)
		}
		for hash := range d.sessionsByUser[id] {
			d.removeSession(log, hash)
		}
		for hash := range d.resetTokensByUser[id] {
			d.removeResetToken(log, hash)
		}
		for tokenID := range d.apiTokensByUser[id] {
			d.removeAPIToken(log, tokenID)
		}
		for hash := range d.oneTimeTokensByUser[id] {
			d.removeOneTimeToken(log, hash)
		}
		del(log, d.totps, id)
		del(log, d.recoveryCodes, id)
		for identityID := range d.identitiesByUser[id] {
			d.removeIdentity(log, identityID)
		}
		for credID := range d.passkeysByUser[id] {
			d.removePasskey(log, credID)
		}
		if handle, ok := d.userHandles[id]; ok {
			del(log, d.handleUsers, handle)
			del(log, d.userHandles, id)
		}
		for hash := range d.authFlowsByUser[id] {
			d.removeAuthFlow(log, hash)
		}
		del(log, d.emails, emailKey(u.Email))
		del(log, d.users, id)
		return nil
	})
}
