package keel

import (
	"context"

	"github.com/google/uuid"
)

// An operation with an actor states what it needs of the credential the
// actor came with, and requireActive (or requireSuperuser) checks it: one
// rule, the same for a Go caller and for HTTP. A session may do all its
// user may; a personal API token (see Scope) less.
type need int

const (
	// toRead: any credential, a read-only API token included.
	toRead need = iota
	// toWrite: a session or a full API token.
	toWrite
	// bySession: a session, never an API token. Whatever manages the
	// account's credentials needs one: making or revoking tokens, changing
	// a password or an email, ending sessions, deleting one's own account.
	bySession
)

// requireActive is the check of every operation with an actor: there is
// one, it is active, and its credential may do what the operation needs.
func requireActive(actor *User, n need) error {
	if actor == nil {
		return ErrNotAuthenticated
	}
	if !actor.IsActive {
		return ErrInactiveUser
	}
	switch {
	case actor.scope == "" || n == toRead:
	case n == bySession:
		return ErrSessionRequired
	case actor.scope != ScopeFull:
		return ErrReadOnlyToken
	}
	return nil
}

// requireSuperuser is the check of every superuser-only operation.
func requireSuperuser(actor *User, n need) error {
	if err := requireActive(actor, n); err != nil {
		return err
	}
	if !actor.IsSuperuser {
		return ErrNotSuperuser
	}
	return nil
}

// requireSelfOrSuperuser is the check of an operation on the account with
// userID: its own user may, and a superuser may on any account that
// exists (ErrUserNotFound otherwise). It returns the account.
func (s *Service) requireSelfOrSuperuser(ctx context.Context, actor *User, userID uuid.UUID, n need) (*User, error) {
	if err := requireActive(actor, n); err != nil {
		return nil, err
	}
	if userID == actor.ID {
		return actor, nil
	}
	if !actor.IsSuperuser {
		return nil, ErrNotSuperuser
	}
	u, err := s.db(ctx).User(ctx, userID)
	if err != nil {
		return nil, userError(err)
	}
	return u, nil
}
