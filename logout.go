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
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		stored, found, err := s.sessions.Load(ctx, token)
		if err != nil || !found {
			return err
		}
		if err := s.sessions.End(stored); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventLoggedOut, stored.Owner, stored.Payload.user)
		e.UserID, e.Sessions = stored.Owner, 1
		return s.emit(ctx, tx, e)
	})
	if err != nil {
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
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		ended, err := endSessions(ctx, tx, actor.ID, "")
		if err != nil {
			return err
		}
		return s.emitSessionsEnded(ctx, tx, actor.ID, actor, ended)
	})
	if err != nil {
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
	u, err := s.requireSelfOrSuperuser(ctx, actor, userID, bySession)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.DeleteUserSession(ctx, userID, sessionID); err != nil {
			return err
		}
		return s.emitSessionsEnded(ctx, tx, actor.ID, u, 1)
	})
	if err != nil {
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
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) (err error) {
		if n, err = endSessions(ctx, tx, sess.User.ID, sess.tokenHash); err != nil {
			return err
		}
		return s.emitSessionsEnded(ctx, tx, sess.User.ID, sess.User, n)
	})
	if err != nil {
		return 0, classify(err, Unavailable)
	}
	return n, nil
}
