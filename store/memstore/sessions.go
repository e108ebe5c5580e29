package memstore

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errSessionNotFound = keel.Errorf(keel.NotFound, "memstore: session not found")

// cloneSession returns a deep copy of s with its times in UTC.
func cloneSession(s *keel.SessionRecord) *keel.SessionRecord {
	c := *s
	c.Data = bytes.Clone(s.Data)
	c.Expiry = s.Expiry.UTC()
	c.CreatedAt = s.CreatedAt.UTC()
	c.LastUsedAt = s.LastUsedAt.UTC()
	return &c
}

// FindSession returns the session with the token hash, if its Expiry is
// after now, and its user. NotFound otherwise.
func (h *handle) FindSession(ctx context.Context, tokenHash string, now time.Time) (*keel.SessionRecord, *keel.User, error) {
	var (
		sess *keel.SessionRecord
		user *keel.User
	)
	err := h.read(ctx, func(d *db) (err error) {
		sess, user, err = d.findSession(tokenHash, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sess, user, nil
}

// findSession is FindSession's read, copies of the session and its user.
func (d *db) findSession(tokenHash string, now time.Time) (*keel.SessionRecord, *keel.User, error) {
	stored, ok := d.sessions[tokenHash]
	if !ok || !stored.Expiry.After(now) {
		return nil, nil, errSessionNotFound
	}
	u, ok := d.users[stored.UserID]
	if !ok {
		// DeleteUser removes a user's sessions, so this is a bug.
		return nil, nil, keel.Errorf(keel.Internal, "memstore: a session outlived its user")
	}
	return cloneSession(stored), cloneUser(u), nil
}

// CreateSession inserts a copy of r. Conflict when the token hash or the
// ID exists, NotFound when the user does not.
func (h *handle) CreateSession(ctx context.Context, r *keel.SessionRecord) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[r.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the session's user does not exist")
		}
		if _, taken := d.sessions[r.TokenHash]; taken {
			return keel.Errorf(keel.Conflict, "memstore: session token hash already taken")
		}
		if _, taken := d.sessionIDs[r.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: session id already taken")
		}
		set(log, d.sessions, r.TokenHash, cloneSession(r))
		set(log, d.sessionIDs, r.ID, r.TokenHash)
		d.sessionsByUser.add(log, r.UserID, r.TokenHash)
		return nil
	})
}

// UpdateSession sets Data and Expiry of an existing session. NotFound when
// it is gone; it never creates one.
func (h *handle) UpdateSession(ctx context.Context, tokenHash string, data []byte, expiry time.Time) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		old, ok := d.sessions[tokenHash]
		if !ok {
			return errSessionNotFound
		}
		upd := *old
		upd.Data = bytes.Clone(data)
		upd.Expiry = expiry.UTC()
		set(log, d.sessions, tokenHash, &upd)
		return nil
	})
}

// DeleteSession deletes a session; deleting a missing one is not an error.
func (h *handle) DeleteSession(ctx context.Context, tokenHash string) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		d.removeSession(log, tokenHash)
		return nil
	})
}

// DeleteUserSessions deletes every session of the user except the one
// with the token hash except ("" keeps none), and returns how many went.
// It reads only the user's sessions.
func (h *handle) DeleteUserSessions(ctx context.Context, userID uuid.UUID, except string) (int64, error) {
	var n int64
	err := h.write(ctx, func(d *db, log *undoLog) error {
		n = 0
		for hash := range d.sessionsByUser[userID] {
			if hash == except && except != "" {
				continue
			}
			d.removeSession(log, hash)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// ListUserSessions returns the user's unexpired sessions, newest first.
func (h *handle) ListUserSessions(ctx context.Context, userID uuid.UUID, now time.Time) ([]*keel.SessionRecord, error) {
	var out []*keel.SessionRecord
	err := h.read(ctx, func(d *db) error {
		out = []*keel.SessionRecord{}
		for hash := range d.sessionsByUser[userID] {
			if s := d.sessions[hash]; s.Expiry.After(now) {
				out = append(out, cloneSession(s))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *keel.SessionRecord) int {
		return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
	})
	return out, nil
}

// DeleteUserSession deletes the session with the ID if it is the user's.
// NotFound otherwise.
func (h *handle) DeleteUserSession(ctx context.Context, userID, id uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		hash, ok := d.sessionIDs[id]
		if !ok || d.sessions[hash].UserID != userID {
			return errSessionNotFound
		}
		d.removeSession(log, hash)
		return nil
	})
}

// TouchSession moves LastUsedAt of the session forward to at; a missing
// session is not an error.
func (h *handle) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		old, ok := d.sessions[tokenHash]
		if !ok || !at.After(old.LastUsedAt) {
			return nil
		}
		upd := *old
		upd.LastUsedAt = at.UTC()
		set(log, d.sessions, tokenHash, &upd)
		return nil
	})
}

// TrimUserSessions deletes the user's unexpired sessions but the keep most
// recently used ones, and returns how many went.
func (h *handle) TrimUserSessions(ctx context.Context, userID uuid.UUID, keep int, now time.Time) (int64, error) {
	if keep < 1 {
		return 0, keel.Errorf(keel.Invalid, "memstore: trim user sessions: keep %d is below 1", keep)
	}
	var n int64
	err := h.write(ctx, func(d *db, log *undoLog) error {
		n = 0
		var live []*keel.SessionRecord
		for hash := range d.sessionsByUser[userID] {
			if s := d.sessions[hash]; s.Expiry.After(now) {
				live = append(live, s)
			}
		}
		if len(live) <= keep {
			return nil
		}
		slices.SortFunc(live, mostRecentlyUsedFirst)
		for _, s := range live[keep:] {
			d.removeSession(log, s.TokenHash)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// mostRecentlyUsedFirst orders sessions as TrimUserSessions keeps them:
// LastUsedAt descending, then CreatedAt descending, then ID descending.
func mostRecentlyUsedFirst(a, b *keel.SessionRecord) int {
	if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
		return c
	}
	return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
}

// removeSession deletes the session and its index entries.
func (d *db) removeSession(log *undoLog, tokenHash string) {
	sess, ok := d.sessions[tokenHash]
	if !ok {
		return
	}
	d.sessionsByUser.remove(log, sess.UserID, tokenHash)
	del(log, d.sessionIDs, sess.ID)
	del(log, d.sessions, tokenHash)
}

// FindSessionItem is FindSession and Item under one read lock: the item
// is nil when there is none.
func (h *handle) FindSessionItem(ctx context.Context, tokenHash string, now time.Time, itemID uuid.UUID) (*keel.SessionRecord, *keel.User, *keel.Item, error) {
	var (
		sess *keel.SessionRecord
		user *keel.User
		item *keel.Item
	)
	err := h.read(ctx, func(d *db) error {
		var err error
		if sess, user, err = d.findSession(tokenHash, now); err != nil {
			return err
		}
		if it, ok := d.items[itemID]; ok {
			item = cloneItem(it)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return sess, user, item, nil
}
