package memstore

import (
	"bytes"
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errSessionNotFound = keel.Errorf(keel.NotFound, "memstore: session not found")

// cloneSession returns a deep copy of s with its expiry in UTC.
func cloneSession(s *keel.SessionRecord) *keel.SessionRecord {
	c := *s
	c.Data = bytes.Clone(s.Data)
	c.Expiry = s.Expiry.UTC()
	return &c
}

// FindSession returns the session with the token hash, if its Expiry is
// after now, and its user. NotFound otherwise.
func (h *handle) FindSession(ctx context.Context, tokenHash string, now time.Time) (*keel.SessionRecord, *keel.User, error) {
	var (
		sess *keel.SessionRecord
		user *keel.User
	)
	err := h.read(ctx, func(d *db) error {
		stored, ok := d.sessions[tokenHash]
		if !ok || !stored.Expiry.After(now) {
			return errSessionNotFound
		}
		u, ok := d.users[stored.UserID]
		if !ok {
			// DeleteUser removes a user's sessions, so this is a bug.
			return keel.Errorf(keel.Internal, "memstore: a session outlived its user")
		}
		sess, user = cloneSession(stored), cloneUser(u)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return sess, user, nil
}

// CreateSession inserts a copy of r. Conflict when the token hash exists,
// NotFound when the user does not.
func (h *handle) CreateSession(ctx context.Context, r *keel.SessionRecord) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[r.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the session's user does not exist")
		}
		if _, taken := d.sessions[r.TokenHash]; taken {
			return keel.Errorf(keel.Conflict, "memstore: session token hash already taken")
		}
		set(log, d.sessions, r.TokenHash, cloneSession(r))
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

// removeSession deletes the session and its index entry.
func (d *db) removeSession(log *undoLog, tokenHash string) {
	sess, ok := d.sessions[tokenHash]
	if !ok {
		return
	}
	d.sessionsByUser.remove(log, sess.UserID, tokenHash)
	del(log, d.sessions, tokenHash)
}
