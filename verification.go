package keel

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// VerificationMode is whether users prove that they read their address's
// mail. See Config.EmailVerification.
type VerificationMode int

// The modes.
const (
	// VerificationOff: addresses are never verified and a change of email
	// takes effect at once, as in the FastAPI template. The default.
	VerificationOff VerificationMode = iota
	// VerificationOptional: a new account gets a verification mail and may
	// verify (User.IsVerified shows whether it did); a change of email
	// takes effect only once the new address confirms it.
	VerificationOptional
	// VerificationRequired: as VerificationOptional, and Login refuses an
	// unverified address (ErrEmailNotVerified, after a correct password
	// only).
	VerificationRequired
)

var verificationModeNames = [...]string{
	VerificationOff:      "off",
	VerificationOptional: "optional",
	VerificationRequired: "required",
}

func (m VerificationMode) String() string {
	if m >= 0 && int(m) < len(verificationModeNames) {
		return verificationModeNames[m]
	}
	return fmt.Sprintf("VerificationMode(%d)", int(m))
}

// ParseVerificationMode reads "off", "optional" or "required".
func ParseVerificationMode(s string) (VerificationMode, error) {
	for m, name := range verificationModeNames {
		if s == name {
			return VerificationMode(m), nil
		}
	}
	return 0, fmt.Errorf("keel: email verification %q is not one of off, optional, required", s)
}

// VerificationRequest asks for a new verification email, and carries the
// client's address for the per-address rate limit ("" when there is none).
type VerificationRequest struct {
	Email      string
	ClientAddr string
}

// verifying reports whether addresses are verified at all.
func (s *Service) verifying() bool { return s.cfg.EmailVerification != VerificationOff }

// RequestVerification sends a new verification link to the email, when it
// belongs to an active account whose address is not verified yet; the
// link supersedes every earlier one. It answers nil whether or not such
// an account exists, and takes the same time either way: the mail goes
// out in the background. Requests count against per-(email, address) and
// per-address limits, so it refuses to run inside Service.InTx. With
// verification off it is ErrVerificationOff.
func (s *Service) RequestVerification(ctx context.Context, in VerificationRequest) error {
	if err := s.notInTx(ctx, "RequestVerification"); err != nil {
		return err
	}
	if !s.verifying() {
		return ErrVerificationOff
	}
	ctx = withClientAddr(ctx, in.ClientAddr)
	email := NormalizeEmail(in.Email)
	if reason, err := s.hitLimits(ctx, s.verificationLimits(email, in.ClientAddr)...); err != nil {
		return s.rateLimitRefusal(ctx, reason, err, email, nil)
	}
	if email == "" || len(email) > 255 {
		return nil
	}
	u, err := s.db(ctx).UserByEmail(ctx, email)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil
		}
		return classify(err, Unavailable)
	}
	if !u.IsActive || u.IsVerified {
		return nil
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		return s.sendVerification(ctx, tx, uuid.Nil, u)
	})
	if err != nil {
		return classify(err, Unavailable)
	}
	return nil
}

// sendVerification makes, in tx, a verification token for u's address,
// reports it, and mails its link once tx has committed.
func (s *Service) sendVerification(ctx context.Context, tx Tx, actorID uuid.UUID, u *User) error {
	token, t, err := s.issueToken(ctx, tx, u.ID, PurposeVerifyEmail, u.Email, s.cfg.VerificationTokenLifetime)
	if err != nil {
		return err
	}
	if err := s.emit(ctx, tx, s.newEvent(ctx, EventVerificationSent, actorID, u)); err != nil {
		return err
	}
	msg := VerificationMail{To: u.Email, Name: nameOf(u), Token: token, ExpiresAt: t.ExpiresAt}
	s.sendMail(ctx, u.ID, "an email-verification", func(ctx context.Context, m VerificationMailer) error {
		return m.SendVerification(ctx, msg)
	})
	return nil
}

// VerifyEmail marks the address a verification token was sent to as
// verified, and returns the user. The token works once, until it
// expires, if it is the user's newest and the user's address is still the
// one it was sent to; otherwise ErrInvalidEmailToken.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*User, error) {
	hash := tokenLookup(token)
	if hash == "" {
		return nil, ErrInvalidEmailToken
	}
	var out *User
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := tx.ConsumeOneTimeToken(ctx, PurposeVerifyEmail, hash)
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, t.UserID)
		if err != nil {
			return err
		}
		if !t.ExpiresAt.After(s.now()) || t.Email != u.Email {
			return ErrInvalidEmailToken
		}
		if !u.IsActive {
			return ErrInactiveUser
		}
		if !u.IsVerified {
			u.IsVerified, u.UpdatedAt = true, s.now()
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := s.emit(ctx, tx, s.newEvent(ctx, EventEmailVerified, u.ID, u)); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, emailTokenError(err)
	}
	return out, nil
}

// emailTokenError gives an error of a verification or email-change token
// its meaning: a missing token or user is ErrInvalidEmailToken, a taken
// address ErrEmailTaken; keel's own refusals and a hook's veto stay.
func emailTokenError(err error) error {
	if v, ok := vetoed(err); ok {
		return v
	}
	switch {
	case ErrorCode(err) == NotFound:
		return ErrInvalidEmailToken.withCause(err)
	case ErrorCode(err) == Conflict:
		return ErrEmailTaken.withCause(err)
	}
	return classify(err, Internal)
}

// verificationLimits hold verification mails for the email from the
// client address, and from the address (when addr is not "").
func (s *Service) verificationLimits(email, addr string) []rateLimit {
	limits := []rateLimit{{counterKey("verification-account", email, addr), s.cfg.RateLimits.VerificationPerAccount, ReasonVerificationAccount}}
	if addr != "" {
		limits = append(limits, rateLimit{counterKey("verification-address", addr), s.cfg.RateLimits.VerificationPerAddress, ReasonVerificationAddress})
	}
	return limits
}

// sendMail runs send with the VerificationMailer on a goroutine of its
// own, which Close waits for, once the transaction of ctx has committed,
// and logs its failure: the caller's answer does not wait for (or reveal)
// the mail server.
func (s *Service) sendMail(ctx context.Context, userID uuid.UUID, what string, send func(context.Context, VerificationMailer) error) {
	m, ok := s.cfg.Mailer.(VerificationMailer)
	if !ok {
		return // New refuses verification without one
	}
	s.afterCommit(ctx, func() {
		s.mailing.Add(1)
		go func() {
			defer s.mailing.Done()
			mctx, cancel := context.WithTimeout(afterContext(ctx), time.Minute)
			defer cancel()
			if err := send(mctx, m); err != nil {
				s.log.ErrorContext(mctx, "keel: sending "+what+" email failed", "user_id", userID, "err", err)
			}
		}()
	})
}

func nameOf(u *User) string {
	if u.FullName != nil {
		return *u.FullName
	}
	return ""
}
