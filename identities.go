package keel

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// Errors of linked identities and of removing ways to sign in.
var (
	// ErrIdentityNotFound: the user has no linked identity with that id.
	ErrIdentityNotFound = &Error{Code: NotFound, Message: "identity not found"}
	// ErrLastSignInMethod: removing it would leave the account with no way
	// to sign in (no password, no other identity, no passkey).
	ErrLastSignInMethod = &Error{Code: Conflict, Message: "this is the account's last way to sign in"}
)

// Identities lists the actor's linked provider accounts, newest first.
func (s *Service) Identities(ctx context.Context, actor *User) ([]*Identity, error) {
	if err := requireActive(actor, toRead); err != nil {
		return nil, err
	}
	ids, err := s.db(ctx).ListIdentities(ctx, actor.ID)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	return ids, nil
}

// UnlinkIdentity unlinks one of the actor's provider accounts
// (EventIdentityUnlinked), unless it is the account's last way to sign in
// (ErrLastSignInMethod). It manages the account's credentials, so an API
// token may not (ErrSessionRequired).
func (s *Service) UnlinkIdentity(ctx context.Context, actor *User, id uuid.UUID) error {
	if err := requireActive(actor, bySession); err != nil {
		return err
	}
	return s.removeSignIn(ctx, actor.ID, func(ctx context.Context, tx Tx, u *User, m *signInMethods) error {
		ident := m.identity(id)
		if ident == nil {
			return ErrIdentityNotFound
		}
		if m.count() <= 1 {
			return ErrLastSignInMethod
		}
		if err := tx.DeleteIdentity(ctx, actor.ID, id); err != nil {
			if ErrorCode(err) == NotFound {
				return ErrIdentityNotFound.withCause(err)
			}
			return err
		}
		e := s.newEvent(ctx, EventIdentityUnlinked, actor.ID, u)
		e.Method = "oidc:" + ident.Provider
		return s.emit(ctx, tx, e)
	})
}

// signInMethods are the ways a user can sign in. An account made through
// a provider has no password (an empty hash) until it sets one through
// password recovery.
type signInMethods struct {
	password   bool
	identities []*Identity
	passkeys   []*Passkey
}

func (m *signInMethods) count() int {
	n := len(m.identities) + len(m.passkeys)
	if m.password {
		n++
	}
	return n
}

func (m *signInMethods) identity(id uuid.UUID) *Identity {
	for _, i := range m.identities {
		if i.ID == id {
			return i
		}
	}
	return nil
}

func (m *signInMethods) passkey(id uuid.UUID) *Passkey {
	for _, p := range m.passkeys {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// removeSignIn runs remove in a transaction that first reads the user
// (which locks its row, so that two removals at once cannot each leave
// the other the last way in) and its ways to sign in.
func (s *Service) removeSignIn(ctx context.Context, userID uuid.UUID, remove func(ctx context.Context, tx Tx, u *User, m *signInMethods) error) error {
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		m := &signInMethods{password: u.PasswordHash != ""}
		if m.identities, err = tx.ListIdentities(ctx, userID); err != nil {
			return err
		}
		if m.passkeys, err = tx.ListPasskeys(ctx, userID); err != nil {
			return err
		}
		return remove(ctx, tx, u, m)
	})
	if v, ok := vetoed(err); ok {
		return v
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrIdentityNotFound), errors.Is(err, ErrPasskeyNotFound), errors.Is(err, ErrLastSignInMethod):
		return err
	}
	return userError(err)
}
