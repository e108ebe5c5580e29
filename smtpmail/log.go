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
// A reset, verification or email-change link carries a secret, so it is
// logged only in Development.
// Otherwise the line (at level Warn) says only that an email to whom was
// not sent, so an operator learns that mail is off, and SendTestEmail
// fails with ErrNotConfigured: the caller asked whether mail goes out.
type Log struct {
	Logger *slog.Logger
	// FrontendHost is the base URL of reset links (FRONTEND_HOST).
	FrontendHost string
	// Development logs each link, token included, and lets test emails
	// succeed.
	Development bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

var (
	_ keel.Mailer             = (*Log)(nil)
	_ keel.VerificationMailer = (*Log)(nil)
)

// SendPasswordReset logs the email, with its link in Development.
func (l *Log) SendPasswordReset(ctx context.Context, pm keel.PasswordResetMail) error {
	if !l.Development {
		l.notSent(ctx, "a password-reset", pm.To)
		return nil
	}
	d := resetData("", l.FrontendHost, pm, l.now())
	l.logLink(ctx, "the password-reset", pm.To, d.Link, d.ValidFor)
	return nil
}

// SendVerification logs the email, with its link in Development.
func (l *Log) SendVerification(ctx context.Context, vm keel.VerificationMail) error {
	if !l.Development {
		l.notSent(ctx, "an email-verification", vm.To)
		return nil
	}
	d := verifyData("", l.FrontendHost, vm, l.now())
	l.logLink(ctx, "the email-verification", vm.To, d.Link, d.ValidFor)
	return nil
}

// SendEmailChange logs the email to the new address, with its link in
// Development.
func (l *Log) SendEmailChange(ctx context.Context, cm keel.EmailChangeMail) error {
	if !l.Development {
		l.notSent(ctx, "an email-change confirmation", cm.To)
		return nil
	}
	d := emailChangeData("", l.FrontendHost, cm, l.now())
	l.logLink(ctx, "the email-change confirmation", cm.To, d.Link, d.ValidFor)
	return nil
}

// SendEmailChangeNotice logs that the notice to the old address was not
// sent; it has no link to log.
func (l *Log) SendEmailChangeNotice(ctx context.Context, nm keel.EmailChangeNoticeMail) error {
	if !l.Development {
		l.notSent(ctx, "an email-change notice", nm.To)
		return nil
	}
	l.Logger.InfoContext(ctx, "smtpmail: no SMTP server is configured; an email-change notice would go out", "to", nm.To, "new_email", nm.NewEmail)
	return nil
}

func (l *Log) notSent(ctx context.Context, what, to string) {
	l.Logger.WarnContext(ctx, "smtpmail: no SMTP server is configured; "+what+" email was not sent", "to", to)
}

func (l *Log) logLink(ctx context.Context, what, to, link, validFor string) {
	l.Logger.InfoContext(ctx, "smtpmail: no SMTP server is configured; "+what+" email would carry this link",
		"to", to, "link", link, "valid_for", validFor)
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
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
