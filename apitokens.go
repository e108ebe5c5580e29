package keel

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Personal API tokens stand in for a session on the calls their scope
// allows: a program, a script or CI acts as its user without the password.
// A token is 256 random bits with a recognisable prefix; keel keeps only
// its SHA-256, shows the token once, and reads it back with its user in one
// round trip. Authenticate takes it as it takes a session token.
//
// What ends tokens: revoking one (RevokeAPIToken), its expiry, and every
// change that ends a user's other sessions: a new password (the owner's
// ChangePassword, a reset, a superuser's UpdateUser) and a deactivation
// revoke all of the user's tokens, as each is how an account is taken back
// from whoever holds a credential of it. Deleting the user deletes them. A
// deactivated user's tokens fail at once, like its sessions. Ending
// sessions (Logout, EndSession, EndOtherSessions, LogoutAll) leaves tokens
// alone.

// Scope is what a personal API token may do. Whatever its scope, a token
// never manages credentials: it cannot make or revoke tokens, change a
// password or an email, end a session, or deactivate or delete a user
// (which ends the user's sessions). Those take a session, a login with the
// password.
type Scope string

// The scopes.
const (
	// ScopeRead reads: every call that changes nothing.
	ScopeRead Scope = "read"
	// ScopeFull does what its user may do with a session, but for the
	// calls no token may make.
	ScopeFull Scope = "full"
)

// Valid reports whether sc is one of the scopes above.
func (sc Scope) Valid() bool { return sc == ScopeRead || sc == ScopeFull }

// APITokenPrefix begins every personal API token, so that secret scanners
// (and people) recognise a leaked one, and so that keel tells a token from
// a session's without a lookup.
const APITokenPrefix = "keel_pat_"

// MaxAPITokensPerUser bounds the live tokens of one user.
const MaxAPITokensPerUser = 100

// CreateAPITokenInput is what a user gives to make a personal API token.
type CreateAPITokenInput struct {
	// Name is the user's label for the token.
	Name  string `json:"name" required:"true" validate:"text,min=1,max=100"`
	Scope Scope  `json:"scope" required:"true" enum:"read,full"`
	// ExpiresInDays is how long the token works: from 1 day to
	// Config.MaxAPITokenLifetime.
	ExpiresInDays int `json:"expires_in_days" required:"true" validate:"min=1"`
}

// APITokenInfo is what a user sees of a token: never the token or its
// hash.
type APITokenInfo struct {
	ID         uuid.UUID
	Name       string
	Scope      Scope
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
	ExpiresAt  time.Time
}

// NewAPIToken is a token just made. Token is the secret, shown this once:
// keel keeps only its hash.
type NewAPIToken struct {
	APITokenInfo
	Token string
}

// CreateAPIToken makes a personal API token of the actor's. It takes a
// session: a token cannot make tokens. A user has at most
// MaxAPITokensPerUser live tokens.
func (s *Service) CreateAPIToken(ctx context.Context, actor *User, in CreateAPITokenInput) (*NewAPIToken, error) {
	if err := requireActive(actor, bySession); err != nil {
		return nil, err
	}
	if err := s.validateAPIToken(in); err != nil {
		return nil, err
	}
	token, hash, err := newAPIToken()
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &APIToken{
		ID:        newID(),
		UserID:    actor.ID,
		Name:      in.Name,
		Scope:     in.Scope,
		TokenHash: hash,
		CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour),
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		// Reading the user locks its row: concurrent creates of one user's
		// tokens take turns, so the count below holds.
		if _, err := tx.User(ctx, actor.ID); err != nil {
			return err
		}
		live, err := tx.ListUserAPITokens(ctx, actor.ID, now)
		if err != nil {
			return err
		}
		if len(live) >= MaxAPITokensPerUser {
			return ErrTooManyAPITokens
		}
		if err := tx.CreateAPIToken(ctx, t); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventAPITokenCreated, actor.ID, actor)
		info := apiTokenInfo(t)
		e.APIToken = &info
		return s.emit(ctx, tx, e)
	})
	switch {
	case errors.Is(err, ErrTooManyAPITokens):
		return nil, err
	case err != nil:
		return nil, userError(err)
	}
	return &NewAPIToken{APITokenInfo: apiTokenInfo(t), Token: token}, nil
}

// validateAPIToken checks in against its tags (the name's characters
// among them, see textFault) and the rules they cannot state: the scope,
// the configured longest lifetime.
func (s *Service) validateAPIToken(in CreateAPITokenInput) error {
	var fields []FieldError
	if err := s.validate(in); err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Code != Invalid {
			return err
		}
		fields = e.Fields
	}
	switch {
	case in.Scope == "":
		fields = append(fields, violation("scope", Required, 0, in.Scope))
	case !in.Scope.Valid():
		f := violation("scope", Malformed, 0, in.Scope)
		f.Message = `must be "read" or "full"`
		fields = append(fields, f)
	}
	if maxDays := int(s.cfg.MaxAPITokenLifetime / (24 * time.Hour)); in.ExpiresInDays > maxDays {
		fields = append(fields, violation("expires_in_days", TooLarge, maxDays, in.ExpiresInDays))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	return nil
}

// APITokens lists the user's live tokens, newest first. A user lists its
// own; a superuser lists anyone's.
func (s *Service) APITokens(ctx context.Context, actor *User, userID uuid.UUID) ([]APITokenInfo, error) {
	if _, err := s.requireSelfOrSuperuser(ctx, actor, userID, toRead); err != nil {
		return nil, err
	}
	ts, err := s.db(ctx).ListUserAPITokens(ctx, userID, s.now())
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	out := make([]APITokenInfo, len(ts))
	for i, t := range ts {
		out[i] = apiTokenInfo(t)
	}
	return out, nil
}

// RevokeAPIToken ends the user's token with the id at once. A user revokes
// its own; a superuser revokes anyone's. It takes a session.
func (s *Service) RevokeAPIToken(ctx context.Context, actor *User, userID, tokenID uuid.UUID) error {
	u, err := s.requireSelfOrSuperuser(ctx, actor, userID, bySession)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.DeleteUserAPIToken(ctx, userID, tokenID); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventAPITokenRevoked, actor.ID, u)
		e.APIToken = &APITokenInfo{ID: tokenID}
		return s.emit(ctx, tx, e)
	})
	if err != nil {
		if _, veto := vetoed(err); !veto && ErrorCode(err) == NotFound {
			return ErrAPITokenNotFound.withCause(err)
		}
		return classify(err, Unavailable)
	}
	return nil
}

// authenticateAPIToken resolves a personal API token to its session: the
// user, read fresh in the same round trip, and what the token may do.
func (s *Service) authenticateAPIToken(ctx context.Context, token string) (*Session, error) {
	if !wellFormedAPIToken(token) {
		return nil, ErrInvalidCredentials
	}
	now := s.now()
	t, u, err := s.db(ctx).FindAPIToken(ctx, hashToken(token), now)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, ErrInvalidCredentials.withCause(err)
		}
		return nil, classify(err, Unavailable)
	}
	if !u.IsActive {
		return nil, ErrInactiveUser
	}
	if now.Sub(t.LastUsedAt) >= lastUsedInterval {
		if err := s.db(ctx).TouchAPIToken(ctx, t.ID, now); err != nil {
			s.log.WarnContext(ctx, "keel: recording an API token's use failed", "user_id", u.ID, "err", err)
		}
	}
	u.scope = t.Scope
	return &Session{Token: token, Expiry: t.ExpiresAt, User: u, ID: t.ID, APIToken: true, Scope: t.Scope}, nil
}

func apiTokenInfo(t *APIToken) APITokenInfo {
	return APITokenInfo{ID: t.ID, Name: t.Name, Scope: t.Scope, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt}
}
