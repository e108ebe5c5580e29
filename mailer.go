package keel

import (
	"context"
	"time"
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
