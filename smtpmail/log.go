package smtpmail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/keel-dev/keel"
)

// ErrNotConfigured is what Log answers outside development when asked to
// send a test email: there is no mail server to send it with.
var ErrNotConfigured = errors.New("smtpmail: no SMTP server is configured")

// Log is a keel.Mailer for when no SMTP server is configured: it sends
// nothing and writes a line to Logger for every email instead.
//
// A reset link carries a secret, so it is logged only in Development.
// Otherwise the line (at level Warn) says only that an email to whom was
// not sent, so an operator learns that mail is off, and SendTestEmail
// fails with ErrNotConfigured: the caller asked whether mail goes out.
type Log struct {
	Logger *slog.Logger
	// FrontendHost is the base URL of reset links (FRONTEND_HOST).
	FrontendHost string
	// Development logs each reset link, token included, and lets test
	// emails succeed.
	Development bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

var _ keel.Mailer = (*Log)(nil)

// SendPasswordReset logs the email, with its link in Development.
func (l *Log) SendPasswordReset(ctx context.Context, pm keel.PasswordResetMail) error {
	if !l.Development {
		l.Logger.WarnContext(ctx, "smtpmail: no SMTP server is configured; a password-reset email was not sent", "to", pm.To)
		return nil
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	d := resetData("", l.FrontendHost, pm, now())
	l.Logger.InfoContext(ctx, "smtpmail: no SMTP server is configured; the password-reset email would carry this link",
		"to", pm.To, "link", d.Link, "valid_for", d.ValidFor)
	return nil
}

// SendTestEmail logs the test email. Outside Development it also fails
// with ErrNotConfigured.
func (l *Log) SendTestEmail(ctx context.Context, to string) error {
	if !l.Development {
		l.Logger.WarnContext(ctx, "smtpmail: no SMTP server is configured; a test email was not sent", "to", to)
		return ErrNotConfigured
	}
	l.Logger.InfoContext(ctx, "smtpmail: no SMTP server is configured; a test email would go out", "to", to)
	return nil
}
