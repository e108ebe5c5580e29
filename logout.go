package keel

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// Logout ends the session with the token. Ending one that is already gone
// is not an error. An API token is not a session: Logout refuses it with
// ErrSessionRequired (revoke it with RevokeAPIToken).
func (s *Service) Logout(ctx context.Context, token string) error {
	if strings.HasPrefix(token, APITokenPrefix) {
		return ErrSessionRequired
	}
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	if err := s.sessions.End(ctx, token); err != nil {
		return classify(err, Unavailable)
	}
	return nil
}

// LogoutAll ends every session of the actor, this one included. It takes
// a session, not an API token.
func (s *Service) LogoutAll(ctx context.Context, actor *User) error {
	if err := requireActive(actor, bySession); err != nil {
		return err
	}
	if _, err := s.store.DeleteUserSessions(ctx, actor.ID, ""); err != nil {
		return classify(err, Unavailable)
	}
	return nil
}

// EndSession ends the user's session with the id (as Sessions lists it) at
// once, in every process on the store. A user ends its own sessions, the
// current one too; a superuser ends anyone's. Someone else's session, or
// one that is gone, is ErrSessionNotFound. It takes a session, not an API
// token.
func (s *Service) EndSession(ctx context.Context, actor *User, userID, sessionID uuid.UUID) error {
	if err := s.requireSelfOrSuperuser(ctx, actor, userID, bySession); err != nil {
		return err
	}
	if err := s.store.DeleteUserSession(ctx, userID, sessionID); err != nil {
		if ErrorCode(err) == NotFound {
			return ErrSessionNotFound.withCause(err)
		}
		return classify(err, Unavailable)
	}
	return nil
}

// EndOtherSessions ends every session of sess's user but sess, and returns
// how many it ended. It takes a session, not an API token.
func (s *Service) EndOtherSessions(ctx context.Context, sess *Session) (int64, error) {
	if sess == nil {
		return 0, ErrNotAuthenticated
	}
	if err := requireActive(sess.User, bySession); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteUserSessions(ctx, sess.User.ID, sess.tokenHash)
	if err != nil {
		return 0, classify(err, Unavailable)
	}
	return n, nil
}
