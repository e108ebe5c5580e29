package keel

import "context"

// Logout ends the session with the token. Ending one that is already gone
// is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
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

// LogoutAll ends every session of the actor, this one included.
func (s *Service) LogoutAll(ctx context.Context, actor *User) error {
	if actor == nil {
		return ErrNotAuthenticated
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
