package keel

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Mailer delivers keel's emails. keel hands it what to say; the Mailer owns
// how it looks (templates) and how it travels (SMTP, an API, a log). The
// package smtpmail implements it over SMTP.
type Mailer interface {
	// SendPasswordReset delivers a password-reset token to its user. The
	// Mailer builds the link (from a configured frontend URL, never from a
	// request's Host).
	SendPasswordReset(ctx context.Context, m PasswordResetMail) error
	// SendTestEmail delivers a message that only shows mail works.
	SendTestEmail(ctx context.Context, to string) error
}

// PasswordResetMail is what a password-reset email needs.
type PasswordResetMail struct {
	To        string // the user's email
	Name      string // the user's full name, or "" when not set
	Token     string // URL-safe; the secret the link carries
	ExpiresAt time.Time
}

// VerificationMailer delivers the emails of email verification and of
// confirmed email changes. With Config.EmailVerification on, Config.Mailer
// must implement it as well as Mailer (smtpmail's Mailer and Log do); a
// Mailer that predates it keeps working while verification is off.
type VerificationMailer interface {
	// SendVerification delivers a verification link to the address it
	// verifies.
	SendVerification(ctx context.Context, m VerificationMail) error
	// SendEmailChange delivers, to the new address, the link that makes it
	// the account's address.
	SendEmailChange(ctx context.Context, m EmailChangeMail) error
	// SendEmailChangeNotice tells the account's current address that a
	// change to another was asked for. It carries no link: nothing in it
	// can take the account.
	SendEmailChangeNotice(ctx context.Context, m EmailChangeNoticeMail) error
}

// VerificationMail is what an email-verification email needs.
type VerificationMail struct {
	To        string // the address to verify
	Name      string // the user's full name, or "" when not set
	Token     string // URL-safe; the secret the link carries
	ExpiresAt time.Time
}

// EmailChangeMail is what the confirmation of an email change needs.
type EmailChangeMail struct {
	To        string // the new address, which the link confirms
	OldEmail  string // the account's current address
	Name      string // the user's full name, or "" when not set
	Token     string // URL-safe; the secret the link carries
	ExpiresAt time.Time
}

// EmailChangeNoticeMail is what the notice to the old address needs.
type EmailChangeNoticeMail struct {
	To       string // the account's current address
	NewEmail string // the address the change is to
	Name     string // the user's full name, or "" when not set
}

// SendTestEmail sends a test message. Superuser only.
func (s *Service) SendTestEmail(ctx context.Context, actor *User, to string) error {
	if err := requireSuperuser(actor, toWrite); err != nil {
		return err
	}
	in := struct {
		EmailTo string `json:"email_to" validate:"text,max=255,email"`
	}{NormalizeEmail(to)}
	if err := s.validate(in); err != nil {
		return err
	}
	if s.cfg.Mailer == nil {
		return ErrNoMailer
	}
	if err := s.cfg.Mailer.SendTestEmail(ctx, in.EmailTo); err != nil {
		return Wrap(err, Unavailable, "sending mail failed")
	}
	return nil
}

// sendResetMail has the Mailer deliver a password-reset email on a
// goroutine of its own, which Close waits for, so that a request for an
// account that exists takes no longer than one for an account that does
// not.
func (s *Service) sendResetMail(ctx context.Context, userID uuid.UUID, msg PasswordResetMail) {
	s.mailing.Add(1)
	go func() {
		defer s.mailing.Done()
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.cfg.Mailer.SendPasswordReset(mctx, msg); err != nil {
			s.log.ErrorContext(mctx, "keel: sending a password-reset email failed", "user_id", userID, "err", err)
		}
	}()
}
