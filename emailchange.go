package keel

import (
	"context"

	"github.com/google/uuid"
)

// requestEmailChange starts a change of u's email to newEmail (normalised
// and valid): with verification on, UpdateMe changes no address itself.
// The new address gets a link that confirms the change, the current one a
// notice without a link. Requests count against a per-account limit, as
// each sends mail to an address of the caller's choosing.
func (s *Service) requestEmailChange(ctx context.Context, u *User, newEmail string) error {
	if err := s.hitLimits(ctx, s.emailChangeLimit(u.ID)); err != nil {
		return err
	}
	// Refuse a taken address now, as the template does; ConfirmEmailChange
	// checks again, since it may be taken meanwhile.
	if _, err := s.store.UserByEmail(ctx, newEmail); err == nil {
		return ErrEmailTaken
	} else if ErrorCode(err) != NotFound {
		return classify(err, Unavailable)
	}
	token, t, err := s.issueToken(ctx, u.ID, PurposeChangeEmail, newEmail, s.cfg.VerificationTokenLifetime)
	if err != nil {
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
	err := s.store.InTx(ctx, func(tx Tx) error {
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
		u.Email, u.IsVerified, u.UpdatedAt = t.Email, true, s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		// Links sent to the old address verify nothing any more.
		if err := tx.DeleteUserOneTimeTokens(ctx, u.ID, PurposeVerifyEmail); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		if ErrorCode(err) == Conflict {
			return nil, ErrEmailTaken.withCause(err)
		}
		return nil, emailTokenError(err)
	}
	return out, nil
}

func (s *Service) emailChangeLimit(userID uuid.UUID) rateLimit {
	return rateLimit{counterKey("email-change", userID.String()), s.cfg.RateLimits.VerificationPerAccount}
}
