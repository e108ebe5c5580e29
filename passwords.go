package keel

import (
	"context"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/trustelem/zxcvbn"
)

// Password length bounds, in Unicode code points (SECURITY.md). They are
// the one statement of the rule: the validate tag "password" stands for
// them, and CheckPassword and Login apply them.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// A new password must take an attacker at least minPasswordGuesses guesses
// by the estimate of zxcvbn (github.com/trustelem/zxcvbn, a port of
// Dropbox's estimator), which knows the 30,000 most common passwords of
// public breach corpora, common words and names, and the patterns
// guessers try (keyboard runs, repeats, sequences, dates, l33t, appended
// digits). zxcvbn's cost grows with the cube of the length, so it judges
// at most the first guessLength code points: a password that starts with
// a guessable run of that length is refused, and the check stays a small
// part of an argon2id hash (BenchmarkPasswordHashing).
const (
	minPasswordGuesses = 1e8 // zxcvbn's score 3: "safely unguessable", for an online attack
	guessLength        = 32
)

// easyToGuess reports whether a password falls short of minPasswordGuesses.
func easyToGuess(password string) bool {
	if utf8.RuneCountInString(password) > guessLength {
		n := 0
		for i := range password {
			if n == guessLength {
				password = password[:i]
				break
			}
			n++
		}
	}
	return zxcvbn.PasswordStrength(password, nil).Guesses < minPasswordGuesses
}

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
	// The hash that was verified must be the one replaced: a change, reset
	// or upgrade that committed meanwhile makes the current password given
	// here a stale one.
	verified := u.PasswordHash
	check := func(u *User) error {
		if u.PasswordHash != verified {
			return ErrIncorrectPassword
		}
		if !u.IsActive {
			return ErrInactiveUser
		}
		return nil
	}
	if _, err := s.setPassword(ctx, EventPasswordChanged, u.ID, hash, sess.tokenHash, check); err != nil {
		return userError(err)
	}
	return nil
}

// setPassword, shared by ChangePassword and ResetPassword, stores a new
// password hash and, in the same transaction, ends every session of the
// user but the one with keepTokenHash ("" ends them all), revokes every
// API token and voids every reset token; it emits kind and, when sessions
// ended, EventSessionsEnded. check, when not nil, vets the user as read
// inside the transaction first and may refuse. The session kept must still
// exist (ErrInvalidCredentials otherwise): a change made from a session
// that ended meanwhile does not commit. Errors are the store's,
// unclassified, a refusal of check, or a before hook's veto.
//
// The user is read first, locked (see Store.InTx), so concurrent changes
// run one after the other, each seeing what the one before committed.
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
		if keepTokenHash != "" {
			if _, _, err := tx.FindSession(ctx, keepTokenHash, s.now()); err != nil {
				if ErrorCode(err) == NotFound {
					return ErrInvalidCredentials.withCause(err)
				}
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
// (MinPasswordLength to MaxPasswordLength code points, no NUL, not common
// or otherwise easy to guess): nil, or an Invalid *Error naming the field
// "password".
// Programs use it to vet a configured password before creating an
// account with it.
func (s *Service) CheckPassword(password string) error {
	in := struct {
		Password string `json:"password" validate:"password,notcommon"`
	}{password}
	return s.validate(in)
}
