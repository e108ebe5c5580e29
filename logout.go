package keel

import "context"

// Logout ends the session with the token. Ending one that is already gone
// is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	if err := s.sessions.End(ctx, token); err != nil {
		return classify(err, Unavailable)
	}
	return nil
}

// LogoutAll ends every session of the actor, this one included.
func (s *Service) LogoutAll(ctx context.Context, actor *User) error {
	if actor == nil {
		return ErrNotAuthenticated
	}
	if _, err := s.store.DeleteUserSessions(ctx, actor.ID, ""); err != nil {
		return classify(err, Unavailable)
	}
	return nil
}
