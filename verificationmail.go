package keel

import (
	"context"
	"time"
)

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
