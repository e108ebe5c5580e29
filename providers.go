package keel

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// IdentityProvider is an OpenID Connect provider that users sign in with.
// Package oidc implements it over the provider's discovery document, the
// authorization-code flow with PKCE and ID tokens verified by go-oidc;
// keel keeps the state, nonce and PKCE verifier of each sign-in and decides
// what the verified claims may do.
type IdentityProvider interface {
	// Name is the provider's name in keel: in URLs, in configuration and in
	// linked identities ("google", "corp"). It never changes.
	Name() string
	// AuthCodeURL returns the URL of the provider's authorization endpoint
	// that asks for a code, carrying the state, the nonce and the S256
	// challenge of the PKCE verifier.
	AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// Exchange trades an authorization code and its PKCE verifier for the
	// provider's tokens and returns the claims of the ID token once it is
	// verified: its signature, issuer, audience (this client), expiry, and
	// a nonce equal to nonce. A code, token or nonce the provider or the
	// checks refuse is Unauthenticated; a provider that cannot be reached
	// is Unavailable.
	Exchange(ctx context.Context, code, verifier, nonce string) (*ProviderClaims, error)
}

// ProviderClaims is what a provider vouches for about the account that
// signed in.
type ProviderClaims struct {
	// Subject is the provider's stable identifier of the account.
	Subject string
	// Email is the account's address; "" when the provider gave none.
	Email string
	// EmailVerified says the provider checked that the account owns Email.
	EmailVerified bool
	// Name is the account's display name; "" when the provider gave none.
	Name string
}

// ProviderCallback is what the provider sends the browser back with.
type ProviderCallback struct {
	// Provider is the name of the provider whose callback this is.
	Provider string
	// State and Code are the callback's parameters of those names.
	State string
	Code  string
	// Error is the callback's error parameter: the provider did not sign
	// the user in (the user declined, for one). "" when there is none.
	Error string
}

// Events of linked identities.
const (
	// EventIdentityLinked: a provider's account was linked to the user, at
	// its first sign-in (Method names the provider).
	EventIdentityLinked EventKind = "identity_linked"
	// EventIdentityUnlinked: the user unlinked a provider's account.
	EventIdentityUnlinked EventKind = "identity_unlinked"
)

// Reasons of EventLoginFailed for sign-ins through a provider.
const (
	ReasonInvalidState            = "invalid_state"             // the flow's state (a callback's, a passkey ceremony's) is unknown, used, expired or another's
	ReasonProviderDenied          = "provider_denied"           // the provider answered with an error
	ReasonProviderRefused         = "provider_refused"          // the code or the ID token failed the checks
	ReasonProviderEmailUnverified = "provider_email_unverified" // a first sign-in without an email the provider verified
	ReasonAccountNotLinked        = "account_not_linked"        // a first sign-in with the email of an account that cannot be linked
)

// Errors of provider sign-ins.
var (
	// ErrUnknownProvider: no identity provider of that name is configured.
	ErrUnknownProvider = &Error{Code: NotFound, Message: "identity provider is not configured"}
	// ErrInvalidProviderState: the callback's state names no sign-in that
	// is pending: unknown, used, expired, or begun with another provider.
	ErrInvalidProviderState = &Error{Code: Unauthenticated, Message: "sign-in state is unknown, expired or used"}
	// ErrProviderDenied: the provider answered the callback with an error.
	ErrProviderDenied = &Error{Code: Unauthenticated, Message: "the provider did not sign the user in"}
	// ErrProviderEmailUnverified: a first sign-in, and the provider does
	// not vouch for the account's email address (or gave none).
	ErrProviderEmailUnverified = &Error{Code: PermissionDenied, Message: "the provider has not verified the account's email address"}
	// ErrAccountNotLinked: a first sign-in with the email of an existing
	// account that cannot be linked to it, because the account's own
	// address is not verified: taking it over must need more than an
	// address at a provider.
	ErrAccountNotLinked = &Error{Code: Conflict, Message: "an account with this email address exists; sign in to it another way"}
	// ErrProviderRefused: the provider refused the code, or its ID token
	// failed the checks (signature, issuer, audience, expiry, nonce).
	ErrProviderRefused = &Error{Code: Unauthenticated, Message: "the provider sign-in could not be verified"}
	// ErrInvalidLoginCode: the login code is unknown, expired or used.
	ErrInvalidLoginCode = &Error{Code: Unauthenticated, Message: "login code is unknown, expired or used"}
)

// providerFlow is what keel keeps of a provider sign-in between the
// redirect and the callback.
type providerFlow struct {
	Provider string `json:"provider"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// loginCode is what a login code stands for: a user who signed in.
type loginCode struct {
	Method string `json:"method"`
}

// Providers returns the names of the configured identity providers, in
// their configured order.
func (s *Service) Providers() []string {
	names := make([]string, len(s.cfg.IdentityProviders))
	for i, p := range s.cfg.IdentityProviders {
		names[i] = p.Name()
	}
	return names
}

func (s *Service) provider(name string) (IdentityProvider, error) {
	i := slices.IndexFunc(s.cfg.IdentityProviders, func(p IdentityProvider) bool { return p.Name() == name })
	if i < 0 {
		return nil, ErrUnknownProvider
	}
	return s.cfg.IdentityProviders[i], nil
}

// BeginProviderLogin starts a sign-in with the named provider and returns
// the provider's URL to send the browser to, and the sign-in's state. The
// state, nonce and PKCE verifier stay with keel, single-use, for ten
// minutes. An adapter should also tie the state to the browser (httpapi
// keeps it in a cookie and refuses a callback from any other browser), so
// that a callback URL an attacker made for their own account cannot sign
// a victim in to it.
func (s *Service) BeginProviderLogin(ctx context.Context, provider string) (authURL, state string, err error) {
	p, err := s.provider(provider)
	if err != nil {
		return "", "", err
	}
	nonce, err := newFlowSecret()
	if err != nil {
		return "", "", err
	}
	verifier, err := newFlowSecret()
	if err != nil {
		return "", "", err
	}
	state, err = s.startFlow(ctx, FlowOIDC, uuid.Nil, providerFlow{Provider: provider, Nonce: nonce, Verifier: verifier}, providerFlowLifetime)
	if err != nil {
		return "", "", err
	}
	authURL, err = p.AuthCodeURL(ctx, state, nonce, verifier)
	if err != nil {
		return "", "", classify(err, Unavailable)
	}
	return authURL, state, nil
}

// FinishProviderLogin completes a sign-in at the provider's callback: it
// spends the state (once, with the provider it was begun with), has the
// provider exchange the code and verify the ID token, and finds the user:
//
//   - the user the provider's account is linked to; or, at the account's
//     first sign-in, and only when the provider vouches for its email
//     address (ErrProviderEmailUnverified otherwise):
//   - the user with that email, to whom the account is linked, only when
//     that user's own address is verified too (ErrAccountNotLinked
//     otherwise: an address at a provider is not enough to take an
//     account over);
//   - or a new user, active, with that email and no password
//     (EventSignedUp, which before hooks may veto as they veto SignUp).
//
// Linking emits EventIdentityLinked; a refusal, EventLoginFailed with the
// Method and a Reason. It returns a login code, single-use and valid for a
// minute, that RedeemLoginCode turns into the session: the two steps let a
// browser flow hand the sign-in to a frontend without a token in a URL.
func (s *Service) FinishProviderLogin(ctx context.Context, in ProviderCallback) (string, error) {
	method := "oidc:" + in.Provider
	refuse := func(reason string, u *User, email string, err error) (string, error) {
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Method, e.Reason = method, reason
		if u == nil {
			e.Email = email
		}
		return "", s.refusal(ctx, e, err)
	}
	var flow providerFlow
	if _, err := s.takeFlow(ctx, FlowOIDC, in.State, &flow, ErrInvalidProviderState); err != nil {
		if errors.Is(err, ErrInvalidProviderState) {
			return refuse(ReasonInvalidState, nil, "", err)
		}
		return "", err
	}
	if flow.Provider != in.Provider {
		return refuse(ReasonInvalidState, nil, "", ErrInvalidProviderState)
	}
	if in.Error != "" {
		return refuse(ReasonProviderDenied, nil, "", ErrProviderDenied.withCause(errors.New("the provider answered: "+in.Error)))
	}
	p, err := s.provider(in.Provider)
	if err != nil {
		return "", err
	}
	claims, err := p.Exchange(ctx, in.Code, flow.Verifier, flow.Nonce)
	if err != nil {
		if ErrorCode(err) == Unauthenticated {
			return refuse(ReasonProviderRefused, nil, "", ErrProviderRefused.withCause(err))
		}
		return "", classify(err, Unavailable)
	}
	u, err := s.providerUser(ctx, in.Provider, claims)
	switch {
	case errors.Is(err, ErrProviderEmailUnverified):
		return refuse(ReasonProviderEmailUnverified, nil, NormalizeEmail(claims.Email), err)
	case errors.Is(err, ErrAccountNotLinked):
		// Someone tried to sign in to an existing account through a
		// provider: its owner's audit should show it.
		existing, _ := s.db(ctx).UserByEmail(ctx, NormalizeEmail(claims.Email))
		return refuse(ReasonAccountNotLinked, existing, claims.Email, err)
	case err != nil:
		return "", err
	}
	if !u.IsActive {
		return refuse(ReasonInactiveUser, u, "", ErrInactiveUser)
	}
	return s.startFlow(ctx, FlowOIDCCode, u.ID, loginCode{Method: method}, loginCodeLifetime)
}

// providerUser finds, links or creates the user of a provider's account,
// in one transaction. Two first sign-ins of one account at once both end
// with the same user: the loser of the race on the unique indexes runs
// again and finds the winner's link.
func (s *Service) providerUser(ctx context.Context, provider string, c *ProviderClaims) (*User, error) {
	var u *User
	var err error
	for range 2 {
		err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			var err error
			u, err = s.linkProviderAccount(ctx, tx, provider, c)
			return err
		})
		if ErrorCode(err) != Conflict || errors.Is(err, ErrAccountNotLinked) || s.joined(ctx) != nil {
			break
		}
	}
	if err != nil {
		if v, ok := vetoed(err); ok {
			return nil, v
		}
		var e *Error
		if errors.As(err, &e) && e.Message != "" {
			return nil, err
		}
		return nil, classify(err, Unavailable)
	}
	return u, nil
}

func (s *Service) linkProviderAccount(ctx context.Context, tx Tx, provider string, c *ProviderClaims) (*User, error) {
	ident, err := tx.Identity(ctx, provider, c.Subject)
	switch {
	case err == nil:
		return tx.User(ctx, ident.UserID)
	case ErrorCode(err) != NotFound:
		return nil, err
	}
	email := NormalizeEmail(c.Email)
	if email == "" || !c.EmailVerified {
		return nil, ErrProviderEmailUnverified
	}
	if err := s.validate(providerEmail{email}); err != nil {
		return nil, ErrProviderEmailUnverified.withCause(err)
	}
	method := "oidc:" + provider
	now := s.now()
	u, err := tx.UserByEmail(ctx, email)
	switch {
	case err == nil:
		// Both must vouch for the address: the provider (above) and keel,
		// by a verification the account's owner completed.
		if !u.IsVerified {
			return nil, ErrAccountNotLinked
		}
	case ErrorCode(err) != NotFound:
		return nil, err
	default:
		// The provider verified the address: so is the new user's.
		u = &User{ID: newID(), Email: email, IsActive: true, IsVerified: true, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
		// The provider's display name, when it passes keel's rules for a
		// full name; a user is not refused for the provider's choice.
		if name := strings.TrimSpace(c.Name); name != "" && s.validator.Var(name, "text,max=255") == nil {
			u.FullName = &name
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		e := s.newEvent(ctx, EventSignedUp, u.ID, u)
		e.Method = method
		if err := s.emit(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	err = tx.CreateIdentity(ctx, &Identity{ID: newID(), UserID: u.ID, Provider: provider, Subject: c.Subject, Email: email, CreatedAt: now})
	if err != nil {
		return nil, err
	}
	e := s.newEvent(ctx, EventIdentityLinked, u.ID, u)
	e.Method = method
	if err := s.emit(ctx, tx, e); err != nil {
		return nil, err
	}
	return u, nil
}

// providerEmail vets an address a provider gave, by keel's rules for one.
type providerEmail struct {
	Email string `json:"email" validate:"max=255,email"`
}

// RedeemLoginCode turns a login code from FinishProviderLogin into a new
// session, once (EventLoginSucceeded, with the provider as Method). The
// user is read again: one deactivated meanwhile gets ErrInactiveUser.
func (s *Service) RedeemLoginCode(ctx context.Context, code string) (*Session, error) {
	var lc loginCode
	f, err := s.takeFlow(ctx, FlowOIDCCode, code, &lc, ErrInvalidLoginCode)
	if err != nil {
		return nil, err
	}
	u, err := s.db(ctx).User(ctx, f.UserID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, ErrInvalidLoginCode.withCause(err)
		}
		return nil, classify(err, Unavailable)
	}
	return s.signIn(ctx, u, lc.Method)
}

// signIn starts a session for u, who proved itself by method (a provider
// or a passkey), and emits EventLoginSucceeded, on Login's terms: an
// inactive u is refused, and one whose address is unverified when
// verification is required (EventLoginFailed); a u with a second factor
// gets a *Challenge instead of a session, as from Login.
func (s *Service) signIn(ctx context.Context, u *User, method string) (*Session, error) {
	refuse := func(reason string, err error) error {
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Method, e.Reason = method, reason
		return s.refusal(ctx, e, err)
	}
	if !u.IsActive {
		return nil, refuse(ReasonInactiveUser, ErrInactiveUser)
	}
	if s.cfg.EmailVerification == VerificationRequired && !u.IsVerified {
		return nil, refuse(ReasonEmailNotVerified, ErrEmailNotVerified)
	}
	ch, err := s.challenge(ctx, u)
	if err != nil {
		return nil, err
	}
	if ch != nil {
		return nil, ch
	}
	return s.startSignedIn(ctx, u, method)
}

// startSignedIn starts the session of u, who proved itself by method, and
// gives its client a device token.
func (s *Service) startSignedIn(ctx context.Context, u *User, method string) (*Session, error) {
	var sess *Session
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if sess, err = s.startSession(ctx, tx, u); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventLoginSucceeded, u.ID, u)
		e.Method = method
		return s.emit(ctx, tx, e)
	})
	if err != nil {
		if v, ok := vetoed(err); ok {
			return nil, v
		}
		return nil, classify(err, Internal)
	}
	// The client proved it holds the account as surely as with its
	// password: it is the owner's device too.
	sess.DeviceToken = s.issueDeviceToken(ctx, u)
	return sess, nil
}
