package keel

import (
	"context"

	"github.com/google/uuid"
)

// Password length bounds, in Unicode code points (SECURITY.md). They are
// the one statement of the rule: the validate tag "password" stands for
// them, and CheckPassword and Login apply them.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// ChangePasswordInput is what ChangePassword needs.
type ChangePasswordInput struct {
	CurrentPassword string `json:"current_password" required:"true" validate:"password"`
	NewPassword     string `json:"new_password" required:"true" validate:"password,notcommon"`
}

// ChangePassword sets a new password for the session's user, given the
// current one, ends every other session of that user and revokes its API
// tokens; sess stays valid. It takes a session, not an API token. Wrong
// current passwords count against a limit of the session's own (as many as
// RateLimits.LoginPerAccount allows), not the account's: a lockout of the
// account by strangers never keeps its logged-in owner from changing the
// password.
func (s *Service) ChangePassword(ctx context.Context, sess *Session, in ChangePasswordInput) error {
	if err := s.notInTx(ctx, "ChangePassword"); err != nil {
		return err
	}
	if sess == nil {
		return ErrNotAuthenticated
	}
	if err := requireActive(sess.User, bySession); err != nil {
		return err
	}
	if err := s.validate(in); err != nil {
		return err
	}
	guesses := s.passwordChangeLimit(sess)
	if reason, err := s.checkLimits(ctx, guesses); err != nil {
		return s.rateLimitRefusal(ctx, reason, err, sess.User.Email, sess.User)
	}
	// Counted before the check, as in Login, so parallel guesses stay
	// within the limit; a right password clears the count.
	if reason, err := s.hitLimits(ctx, guesses); err != nil {
		return s.rateLimitRefusal(ctx, reason, err, sess.User.Email, sess.User)
	}
	u, err := s.db(ctx).User(ctx, sess.User.ID)
	if err != nil {
		return userError(err)
	}
	ok, _, err := s.hasher.Verify(ctx, in.CurrentPassword, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		e := s.newEvent(ctx, EventLoginFailed, u.ID, u)
		e.Reason = ReasonPasswordCheck
		return s.refusal(ctx, e, ErrIncorrectPassword)
	}
	s.resetCounter(ctx, guesses)
	if in.CurrentPassword == in.NewPassword {
		return ErrSamePassword
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return err
	}
	if _, err := s.setPassword(ctx, EventPasswordChanged, u.ID, hash, sess.tokenHash, nil); err != nil {
		return userError(err)
	}
	return nil
}

// setPassword, shared by ChangePassword and ResetPassword, stores a new
// password hash and, in the same transaction, ends every session of the
// user but the one with keepTokenHash ("" ends them all), revokes every
// API token and voids every reset token; it emits kind and, when sessions
// ended, EventSessionsEnded. check, when not nil, vets the user as read
// inside the transaction first and may refuse. Errors are the store's,
// unclassified, or a before hook's veto.
func (s *Service) setPassword(ctx context.Context, kind EventKind, userID uuid.UUID, hash, keepTokenHash string, check func(u *User) error) (*User, error) {
	var out *User
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(u); err != nil {
				return err
			}
		}
		now := s.now()
		u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt = hash, now, now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		sessions, tokens, err := endCredentials(ctx, tx, userID, keepTokenHash)
		if err != nil {
			return err
		}
		if err := tx.DeleteUserResetTokens(ctx, userID); err != nil {
			return err
		}
		if err := s.emit(ctx, tx, s.newEvent(ctx, kind, u.ID, u)); err != nil {
			return err
		}
		if err := s.emitCredentialsEnded(ctx, tx, u.ID, u, sessions, tokens); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// CheckPassword reports whether a password meets keel's rules
// (MinPasswordLength to MaxPasswordLength code points, not a common
// password): nil, or an Invalid *Error naming the field "password".
// Programs use it to vet a configured password before creating an
// account with it.
func (s *Service) CheckPassword(password string) error {
	in := struct {
		Password string `json:"password" validate:"password,notcommon"`
	}{password}
	return s.validate(in)
}
