package keel

import (
	"context"

	"github.com/google/uuid"
)

// requestEmailChange starts, in tx, a change of u's email to newEmail
// (normalised and valid): with verification on, UpdateMe changes no
// address itself. Once tx commits, the new address gets a link that
// confirms the change, the current one a notice without a link.
func (s *Service) requestEmailChange(ctx context.Context, tx Tx, u *User, newEmail string) error {
	// Refuse a taken address now, as the template does; ConfirmEmailChange
	// checks again, since it may be taken meanwhile.
	if _, err := tx.UserByEmail(ctx, newEmail); err == nil {
		return ErrEmailTaken
	} else if ErrorCode(err) != NotFound {
		return err
	}
	token, t, err := s.issueToken(ctx, tx, u.ID, PurposeChangeEmail, newEmail, s.cfg.VerificationTokenLifetime)
	if err != nil {
		return err
	}
	e := s.newEvent(ctx, EventEmailChangeRequested, u.ID, u)
	e.NewEmail = newEmail
	if err := s.emit(ctx, tx, e); err != nil {
		return err
	}
	name := nameOf(u)
	confirm := EmailChangeMail{To: newEmail, OldEmail: u.Email, Name: name, Token: token, ExpiresAt: t.ExpiresAt}
	notice := EmailChangeNoticeMail{To: u.Email, NewEmail: newEmail, Name: name}
	s.sendMail(ctx, u.ID, "an email-change confirmation", func(ctx context.Context, m VerificationMailer) error {
		return m.SendEmailChange(ctx, confirm)
	})
	s.sendMail(ctx, u.ID, "an email-change notice", func(ctx context.Context, m VerificationMailer) error {
		return m.SendEmailChangeNotice(ctx, notice)
	})
	return nil
}

// ConfirmEmailChange makes the address an email-change token was sent to
// the user's address, verified, and returns the user. The token works
// once, until it expires, if it is the user's newest and no password
// change came after it (so that changing the password stops a change
// someone else asked for); otherwise ErrInvalidEmailToken. When another
// account has the address by now, it is ErrEmailTaken: the check and the
// change are one transaction, and the store's unique index is the last
// guard, so two accounts never share an address.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) (*User, error) {
	hash := tokenLookup(token)
	if hash == "" {
		return nil, ErrInvalidEmailToken
	}
	var out *User
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := tx.ConsumeOneTimeToken(ctx, PurposeChangeEmail, hash)
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, t.UserID)
		if err != nil {
			return err
		}
		if !t.ExpiresAt.After(s.now()) || t.CreatedAt.Before(u.PasswordChangedAt) {
			return ErrInvalidEmailToken
		}
		if !u.IsActive {
			return ErrInactiveUser
		}
		if other, err := tx.UserByEmail(ctx, t.Email); err == nil && other.ID != u.ID {
			return ErrEmailTaken
		} else if err != nil && ErrorCode(err) != NotFound {
			return err
		}
		oldEmail, changes := u.Email, []string{"email"}
		if !u.IsVerified {
			changes = append(changes, "is_verified")
		}
		u.Email, u.IsVerified, u.UpdatedAt = t.Email, true, s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		// Links sent to the old address verify nothing any more.
		if err := tx.DeleteUserOneTimeTokens(ctx, u.ID, PurposeVerifyEmail); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventEmailChangeConfirmed, u.ID, u)
		e.Email, e.NewEmail = oldEmail, u.Email
		if err := s.emit(ctx, tx, e); err != nil {
			return err
		}
		if err := s.emitUpdated(ctx, tx, u.ID, u, changes); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, emailTokenError(err)
	}
	return out, nil
}

// emailChangeLimit holds the email changes one account asks for: each
// sends mail to an address of the caller's choosing.
func (s *Service) emailChangeLimit(userID uuid.UUID) rateLimit {
	return rateLimit{counterKey("email-change", userID.String()), s.cfg.RateLimits.VerificationPerAccount, ReasonVerificationAccount}
}
