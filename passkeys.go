package keel

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
)

// PasskeyVerifier runs the two halves of the WebAuthn ceremonies that
// register passkeys and sign in with them. Package passkey implements it
// with github.com/go-webauthn/webauthn; keel keeps each ceremony's state
// between its halves (single-use, expiring) and the passkeys themselves.
// Options and responses are JSON, passed between the browser's
// navigator.credentials calls and keel untouched.
type PasskeyVerifier interface {
	// BeginRegistration returns the options of navigator.credentials.create
	// for a new discoverable passkey of the user, excluding the passkeys it
	// has, and the ceremony's state.
	BeginRegistration(user PasskeyUser, registered []*Passkey) (options, state []byte, err error)
	// FinishRegistration checks the browser's response to the ceremony
	// with the state and returns the new passkey (its credential, key,
	// counter and flags; keel fills in the rest). A response that fails
	// the checks is Invalid.
	FinishRegistration(user PasskeyUser, state, response []byte) (*Passkey, error)
	// BeginLogin returns the options of navigator.credentials.get and the
	// ceremony's state: for any discoverable passkey when user is nil, for
	// one of the user's registered passkeys otherwise (a second factor).
	BeginLogin(user *PasskeyUser, registered []*Passkey) (options, state []byte, err error)
	// FinishLogin checks the browser's response to the ceremony with the
	// state: the challenge, origin, relying party, signature, user
	// verification, and that the credential is one of those owner returns
	// for the user handle (the response's, or the user's the ceremony was
	// begun for). A signature counter that did not move on is refused. A
	// response that fails the checks is Unauthenticated.
	FinishLogin(state, response []byte, owner func(userHandle []byte) (PasskeyUser, []*Passkey, error)) (*PasskeyAssertion, error)
}

// PasskeyUser is a user as WebAuthn sees it.
type PasskeyUser struct {
	// Handle is the user's WebAuthn user handle: 64 random bytes, never
	// the user's id or email.
	Handle      []byte
	Name        string // the email
	DisplayName string // the full name, or the email
}

// PasskeyAssertion is a passkey sign-in that passed the checks.
type PasskeyAssertion struct {
	UserHandle   []byte
	CredentialID []byte
	// SignCount and Flags are the authenticator's, from this sign-in.
	SignCount uint32
	Flags     PasskeyFlags
}

// Events of passkeys.
const (
	// EventPasskeyRegistered: the user registered a passkey.
	EventPasskeyRegistered EventKind = "passkey_registered"
	// EventPasskeyDeleted: the user deleted a passkey.
	EventPasskeyDeleted EventKind = "passkey_deleted"
)

// ReasonPasskeyRefused is the Reason of EventLoginFailed for a passkey
// answer that failed the checks.
const ReasonPasskeyRefused = "passkey_refused"

// Errors of passkeys.
var (
	// ErrPasskeysDisabled: no PasskeyVerifier is configured.
	ErrPasskeysDisabled = &Error{Code: NotFound, Message: "passkeys are not enabled"}
	// ErrInvalidCeremony: the ceremony id names no pending ceremony: unknown,
	// used, expired, or another user's.
	ErrInvalidCeremony = &Error{Code: Unauthenticated, Message: "passkey ceremony is unknown, expired or used"}
	// ErrPasskeyRefused: the passkey's answer failed the checks (signature,
	// challenge, origin, owner, signature counter).
	ErrPasskeyRefused = &Error{Code: Unauthenticated, Message: "the passkey was refused"}
	// ErrPasskeyNotRegistered: the browser's answer to a registration
	// failed the checks.
	ErrPasskeyNotRegistered = &Error{Code: Invalid, Message: "the passkey could not be registered"}
	// ErrPasskeyTaken: the credential is registered already.
	ErrPasskeyTaken = &Error{Code: Conflict, Message: "the passkey is registered already"}
	// ErrPasskeyNotFound: the user has no passkey with that id.
	ErrPasskeyNotFound = &Error{Code: NotFound, Message: "passkey not found"}
)

// PasskeyCeremony is the first half of a WebAuthn ceremony: the options
// for the browser's navigator.credentials call, and the id that names the
// ceremony in the second half. The id works once, until ExpiresAt.
type PasskeyCeremony struct {
	ID        string
	Options   json.RawMessage
	ExpiresAt time.Time
}

// PasskeyRegistrationInput is the second half of a registration: the
// ceremony id, the passkey's name, and the browser's answer (the
// PublicKeyCredential as JSON).
type PasskeyRegistrationInput struct {
	Ceremony   string          `json:"ceremony" required:"true"`
	Name       string          `json:"name" required:"true" validate:"text,min=1,max=64"`
	Credential json.RawMessage `json:"credential" required:"true" nullable:"false"`
}

// PasskeyLoginInput is the second half of a passkey sign-in, and the
// client's address for the per-address limit ("" when there is none).
type PasskeyLoginInput struct {
	Ceremony   string          `json:"ceremony" required:"true"`
	Credential json.RawMessage `json:"credential" required:"true" nullable:"false"`
	ClientAddr string          `json:"-"`
}

// passkeyCeremony is what keel keeps of a ceremony between its halves.
type passkeyCeremony struct {
	State []byte `json:"state"`
}

func (s *Service) passkeys() (PasskeyVerifier, error) {
	if s.cfg.Passkeys == nil {
		return nil, ErrPasskeysDisabled
	}
	return s.cfg.Passkeys, nil
}

// userHandle returns the user's WebAuthn user handle, making it (64
// random bytes) the first time.
func (s *Service) userHandle(ctx context.Context, userID uuid.UUID) ([]byte, error) {
	h, err := s.db(ctx).UserHandle(ctx, userID)
	if err == nil || ErrorCode(err) != NotFound {
		return h, err
	}
	h = make([]byte, 64)
	if _, err := rand.Read(h); err != nil {
		return nil, Wrap(err, Internal, "")
	}
	if err := s.db(ctx).CreateUserHandle(ctx, userID, h); err != nil {
		if ErrorCode(err) != Conflict {
			return nil, err
		}
		return s.db(ctx).UserHandle(ctx, userID) // made by a concurrent call
	}
	return h, nil
}

func passkeyUser(u *User, handle []byte) PasskeyUser {
	display := u.Email
	if u.FullName != nil && *u.FullName != "" {
		display = *u.FullName
	}
	return PasskeyUser{Handle: handle, Name: u.Email, DisplayName: display}
}

// BeginPasskeyRegistration starts registering a passkey for the session's
// user.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, sess *Session) (*PasskeyCeremony, error) {
	u, err := sessionActor(sess)
	if err != nil {
		return nil, err
	}
	pv, err := s.passkeys()
	if err != nil {
		return nil, err
	}
	handle, err := s.userHandle(ctx, u.ID)
	if err != nil {
		return nil, userError(err)
	}
	registered, err := s.db(ctx).ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	options, state, err := pv.BeginRegistration(passkeyUser(u, handle), registered)
	if err != nil {
		return nil, classify(err, Internal)
	}
	return s.startCeremony(ctx, FlowPasskeyRegistration, u.ID, options, state)
}

func (s *Service) startCeremony(ctx context.Context, kind AuthFlowKind, userID uuid.UUID, options, state []byte) (*PasskeyCeremony, error) {
	id, err := s.startFlow(ctx, kind, userID, passkeyCeremony{State: state}, passkeyCeremonyLifetime)
	if err != nil {
		return nil, err
	}
	return &PasskeyCeremony{ID: id, Options: options, ExpiresAt: s.now().Add(passkeyCeremonyLifetime)}, nil
}

// FinishPasskeyRegistration checks the browser's answer to a ceremony the
// session's user began and keeps the new passkey under its name.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, sess *Session, in PasskeyRegistrationInput) (*Passkey, error) {
	u, err := sessionActor(sess)
	if err != nil {
		return nil, err
	}
	pv, err := s.passkeys()
	if err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := s.validate(in); err != nil {
		return nil, err
	}
	var c passkeyCeremony
	f, err := s.takeFlow(ctx, FlowPasskeyRegistration, in.Ceremony, &c, ErrInvalidCeremony)
	if err != nil {
		return nil, err
	}
	if f.UserID != u.ID {
		return nil, ErrInvalidCeremony
	}
	handle, err := s.db(ctx).UserHandle(ctx, u.ID)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	p, err := pv.FinishRegistration(passkeyUser(u, handle), c.State, in.Credential)
	if err != nil {
		if c := ErrorCode(err); c == Invalid || c == Unauthenticated {
			return nil, ErrPasskeyNotRegistered.withCause(err)
		}
		return nil, classify(err, Internal)
	}
	p.ID, p.UserID, p.Name, p.CreatedAt = newID(), u.ID, in.Name, s.now()
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.CreatePasskey(ctx, p); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventPasskeyRegistered, u.ID, u)
		e.Method = "passkey"
		return s.emit(ctx, tx, e)
	})
	if err != nil {
		if v, ok := vetoed(err); ok {
			return nil, v
		}
		switch ErrorCode(err) {
		case Conflict:
			return nil, ErrPasskeyTaken.withCause(err)
		case NotFound:
			return nil, ErrUserNotFound.withCause(err)
		}
		return nil, classify(err, Unavailable)
	}
	return p, nil
}

// Passkeys lists the actor's passkeys, newest first.
func (s *Service) Passkeys(ctx context.Context, actor *User) ([]*Passkey, error) {
	if err := requireActive(actor, toRead); err != nil {
		return nil, err
	}
	ps, err := s.db(ctx).ListPasskeys(ctx, actor.ID)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	return ps, nil
}

// DeletePasskey removes one of the actor's passkeys, unless it is the
// account's last way to sign in (ErrLastSignInMethod). An API token may
// not (ErrSessionRequired).
func (s *Service) DeletePasskey(ctx context.Context, actor *User, id uuid.UUID) error {
	if err := requireActive(actor, bySession); err != nil {
		return err
	}
	return s.removeSignIn(ctx, actor.ID, func(ctx context.Context, tx Tx, u *User, m *signInMethods) error {
		if m.passkey(id) == nil {
			return ErrPasskeyNotFound
		}
		if m.count() <= 1 {
			return ErrLastSignInMethod
		}
		if err := tx.DeletePasskey(ctx, actor.ID, id); err != nil {
			if ErrorCode(err) == NotFound {
				return ErrPasskeyNotFound.withCause(err)
			}
			return err
		}
		e := s.newEvent(ctx, EventPasskeyDeleted, actor.ID, u)
		e.Method = "passkey"
		return s.emit(ctx, tx, e)
	})
}

// BeginPasskeyLogin starts a sign-in with a discoverable passkey: the
// browser lets the user pick one, and its user handle names the user.
func (s *Service) BeginPasskeyLogin(ctx context.Context) (*PasskeyCeremony, error) {
	pv, err := s.passkeys()
	if err != nil {
		return nil, err
	}
	options, state, err := pv.BeginLogin(nil, nil)
	if err != nil {
		return nil, classify(err, Internal)
	}
	return s.startCeremony(ctx, FlowPasskeyLogin, uuid.Nil, options, state)
}

// FinishPasskeyLogin checks the browser's answer to a sign-in ceremony
// and starts a session for the passkey's user (EventLoginSucceeded, Method
// "passkey"). The ceremony works once; a signature counter that did not
// move on (a replay, a cloned authenticator) is refused, even when two
// answers race. A refused answer (EventLoginFailed) counts against the
// client address's login limit.
func (s *Service) FinishPasskeyLogin(ctx context.Context, in PasskeyLoginInput) (*Session, error) {
	if err := s.notInTx(ctx, "FinishPasskeyLogin"); err != nil {
		return nil, err
	}
	pv, err := s.passkeys()
	if err != nil {
		return nil, err
	}
	ctx = withClientAddr(ctx, in.ClientAddr)
	_, byAddress := s.loginLimits("", in.ClientAddr)
	if reason, err := s.checkLimits(ctx, byAddress...); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, "", nil)
	}
	u, err := s.verifyPasskey(ctx, pv, FlowPasskeyLogin, in.Ceremony, uuid.Nil, in.Credential)
	if err != nil {
		if ErrorCode(err) != Unauthenticated {
			return nil, err
		}
		if _, lerr := s.hitLimits(ctx, byAddress...); lerr != nil && ErrorCode(lerr) != RateLimited {
			return nil, lerr
		}
		var ru *refusedUser
		errors.As(err, &ru)
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, ru.user())
		e.Method, e.Reason = "passkey", ReasonPasskeyRefused
		if errors.Is(err, ErrInvalidCeremony) {
			e.Reason = ReasonInvalidState
		}
		return nil, s.refusal(ctx, e, err)
	}
	return s.signIn(ctx, u, "passkey")
}

// refusedUser carries, with a refused passkey, the user it claimed to be
// when keel knows it, for the event.
type refusedUser struct {
	err error
	u   *User
}

func (r *refusedUser) Error() string { return r.err.Error() }
func (r *refusedUser) Unwrap() error { return r.err }

func (r *refusedUser) user() *User {
	if r == nil {
		return nil
	}
	return r.u
}

// verifyPasskey spends the ceremony of the kind, has the verifier check
// the answer against the passkeys of the user it names (who must be
// userID, unless that is uuid.Nil), records the use, and returns the user.
func (s *Service) verifyPasskey(ctx context.Context, pv PasskeyVerifier, kind AuthFlowKind, ceremony string, userID uuid.UUID, credential []byte) (*User, error) {
	var c passkeyCeremony
	f, err := s.takeFlow(ctx, kind, ceremony, &c, ErrInvalidCeremony)
	if err != nil {
		return nil, err
	}
	if f.UserID != userID {
		return nil, ErrInvalidCeremony
	}
	var (
		owner       *User
		ownerHandle []byte
	)
	a, err := pv.FinishLogin(c.State, credential, func(handle []byte) (PasskeyUser, []*Passkey, error) {
		u, err := s.db(ctx).UserByHandle(ctx, handle)
		if err != nil {
			return PasskeyUser{}, nil, err
		}
		registered, err := s.db(ctx).ListPasskeys(ctx, u.ID)
		if err != nil {
			return PasskeyUser{}, nil, err
		}
		owner, ownerHandle = u, bytes.Clone(handle)
		return passkeyUser(u, handle), registered, nil
	})
	if err != nil {
		if ErrorCode(err) == Unauthenticated {
			return nil, &refusedUser{ErrPasskeyRefused.withCause(err), owner}
		}
		return nil, classify(err, Unavailable)
	}
	// The verifier checked the answer against owner's passkeys; make sure
	// it vouches for that same user.
	if owner == nil || !bytes.Equal(a.UserHandle, ownerHandle) {
		return nil, ErrPasskeyRefused
	}
	if userID != uuid.Nil && owner.ID != userID {
		return nil, ErrPasskeyRefused
	}
	if err := s.db(ctx).UsePasskey(ctx, a.CredentialID, a.SignCount, a.Flags, s.now()); err != nil {
		switch ErrorCode(err) {
		case Conflict, NotFound: // the counter did not move on; deleted meanwhile
			return nil, &refusedUser{ErrPasskeyRefused.withCause(err), owner}
		}
		return nil, classify(err, Unavailable)
	}
	return owner, nil
}

// sessionActor is the active user of a session, which must be a real
// session: registering a passkey adds a way into the account, which an
// API token may not (ErrSessionRequired).
func sessionActor(sess *Session) (*User, error) {
	if sess == nil {
		return nil, ErrNotAuthenticated
	}
	if err := requireActive(sess.User, bySession); err != nil {
		return nil, err
	}
	return sess.User, nil
}
