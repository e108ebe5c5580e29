// Package smtpmail implements keel.Mailer: Mailer sends keel's emails over
// SMTP (with github.com/wneessen/go-mail), and Log writes them to a
// slog.Logger for deployments with no mail server.
//
// Emails are rendered from templates (text/template for the subject and
// the plain-text body, html/template for the HTML body). The built-in ones
// are embedded; a program replaces any of them with ParseTemplates.
package smtpmail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/keel-dev/keel"
)

// Config configures a Mailer. Host, From and FrontendHost are required.
type Config struct {
	Host string
	// Port defaults to 465 with SSL and to 587 otherwise.
	Port int
	// StartTLS requires STARTTLS: the connection is upgraded to TLS before
	// anything else is said, or the mail is not sent (SMTP_TLS). Without it,
	// the connection stays plain.
	StartTLS bool
	// SSL speaks TLS from the first byte, usually on port 465 (SMTP_SSL).
	// It takes precedence over StartTLS.
	SSL bool
	// Username and Password authenticate when Username is set; the
	// strongest mechanism the server offers is used. A password is never
	// sent over an unencrypted connection, so authentication needs StartTLS
	// or SSL.
	Username string
	Password string
	// TLSConfig verifies the server (e.g. with a private CA). Default:
	// the system roots, the server name being Host, TLS 1.2 or newer.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command. Default 15 seconds;
	// the context of a send bounds it too.
	Timeout time.Duration

	// From is the sender's address (EMAILS_FROM_EMAIL); FromName its
	// display name (EMAILS_FROM_NAME), default ProjectName.
	From     string
	FromName string
	// FrontendHost is the base URL of the frontend; reset links are
	// {FrontendHost}/reset-password?token=<token> (FRONTEND_HOST).
	FrontendHost string
	// ProjectName names the service in the emails. Default "keel".
	ProjectName string
	// Templates render the emails. Default DefaultTemplates().
	Templates *Templates
	// Now is the clock, for the expiry shown in reset emails. Default time.Now.
	Now func() time.Time
}

// Mailer sends keel's emails over SMTP. It opens one connection per email
// and is safe for concurrent use.
type Mailer struct {
	cfg    Config
	from   mail.Address
	client *gomail.Client
}

var (
	_ keel.Mailer             = (*Mailer)(nil)
	_ keel.VerificationMailer = (*Mailer)(nil)
)

// New checks cfg and returns a Mailer. It does not connect: a server that
// is down shows at the first send (use SendTestEmail to check).
func New(cfg Config) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtpmail: Config.Host is required")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.SSL {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtpmail: port %d is out of range", cfg.Port)
	}
	if cfg.ProjectName == "" {
		cfg.ProjectName = "keel"
	}
	if cfg.FromName == "" {
		cfg.FromName = cfg.ProjectName
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil || from.Name != "" {
		return nil, fmt.Errorf("smtpmail: the sender %q is not an email address", cfg.From)
	}
	front, err := frontendBase(cfg.FrontendHost)
	if err != nil {
		return nil, err
	}
	cfg.FrontendHost = front
	if cfg.Templates == nil {
		cfg.Templates = DefaultTemplates()
	} else if err := cfg.Templates.check(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tc),
	}
	switch {
	case cfg.SSL:
		opts = append(opts, gomail.WithSSL())
	case cfg.StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtpmail: %w", err)
	}
	return &Mailer{cfg: cfg, from: mail.Address{Name: cfg.FromName, Address: from.Address}, client: client}, nil
}

// SendPasswordReset sends the password-recovery email with its reset link.
func (m *Mailer) SendPasswordReset(ctx context.Context, pm keel.PasswordResetMail) error {
	data := resetData(m.cfg.ProjectName, m.cfg.FrontendHost, pm, m.cfg.Now())
	r, err := m.cfg.Templates.render(ResetPasswordSubject, ResetPasswordText, ResetPasswordHTML, data)
	if err != nil {
		return err
	}
	return m.send(ctx, pm.To, r)
}

// SendTestEmail sends the test email.
func (m *Mailer) SendTestEmail(ctx context.Context, to string) error {
	data := TestEmailData{ProjectName: m.cfg.ProjectName, Email: to}
	r, err := m.cfg.Templates.render(TestEmailSubject, TestEmailText, TestEmailHTML, data)
	if err != nil {
		return err
	}
	return m.send(ctx, to, r)
}

// SendVerification sends the email-verification email with its link.
func (m *Mailer) SendVerification(ctx context.Context, vm keel.VerificationMail) error {
	data := verifyData(m.cfg.ProjectName, m.cfg.FrontendHost, vm, m.cfg.Now())
	r, err := m.cfg.Templates.render(VerifyEmailSubject, VerifyEmailText, VerifyEmailHTML, data)
	if err != nil {
		return err
	}
	return m.send(ctx, vm.To, r)
}

// SendEmailChange sends, to the new address, the email whose link
// confirms an email change.
func (m *Mailer) SendEmailChange(ctx context.Context, cm keel.EmailChangeMail) error {
	data := emailChangeData(m.cfg.ProjectName, m.cfg.FrontendHost, cm, m.cfg.Now())
	r, err := m.cfg.Templates.render(EmailChangeSubject, EmailChangeText, EmailChangeHTML, data)
	if err != nil {
		return err
	}
	return m.send(ctx, cm.To, r)
}

// SendEmailChangeNotice tells the current address of an account that a
// change to another was asked for.
func (m *Mailer) SendEmailChangeNotice(ctx context.Context, nm keel.EmailChangeNoticeMail) error {
	data := EmailChangeNoticeData{ProjectName: m.cfg.ProjectName, Email: nm.To, NewEmail: nm.NewEmail, Name: nm.Name}
	r, err := m.cfg.Templates.render(EmailChangeNoticeSubject, EmailChangeNoticeText, EmailChangeNoticeHTML, data)
	if err != nil {
		return err
	}
	return m.send(ctx, nm.To, r)
}

func (m *Mailer) send(ctx context.Context, to string, r rendered) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.from.Name, m.from.Address); err != nil {
		return fmt.Errorf("smtpmail: sender: %w", err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("smtpmail: recipient: %w", err)
	}
	msg.Subject(r.Subject)
	msg.SetDateWithValue(m.cfg.Now())
	msg.SetMessageIDWithValue(messageID(m.from.Address))
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	if err := m.client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtpmail: sending to %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}

// messageID is a random Message-ID in the sender's domain (never the
// host's name).
func messageID(from string) string {
	_, domain, _ := strings.Cut(from, "@")
	return rand.Text() + "@" + domain
}

// frontendBase checks the frontend URL and drops a trailing slash.
func frontendBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("smtpmail: the frontend URL %q is not an http(s) URL without query", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// ResetLink is the link a password-reset email carries:
// {frontendHost}/reset-password?token=<token>, the token URL-escaped.
func ResetLink(frontendHost, token string) string {
	return strings.TrimRight(frontendHost, "/") + "/reset-password?token=" + url.QueryEscape(token)
}

// VerifyEmailLink is the link an email-verification email carries:
// {frontendHost}/verify-email?token=<token>, the token URL-escaped.
func VerifyEmailLink(frontendHost, token string) string {
	return strings.TrimRight(frontendHost, "/") + "/verify-email?token=" + url.QueryEscape(token)
}

// EmailChangeLink is the link that confirms an email change:
// {frontendHost}/confirm-email?token=<token>, the token URL-escaped.
func EmailChangeLink(frontendHost, token string) string {
	return strings.TrimRight(frontendHost, "/") + "/confirm-email?token=" + url.QueryEscape(token)
}

func verifyData(project, front string, vm keel.VerificationMail, now time.Time) VerifyEmailData {
	hours, human := validity(vm.ExpiresAt.Sub(now))
	return VerifyEmailData{
		ProjectName: project,
		Email:       vm.To,
		Name:        vm.Name,
		Link:        VerifyEmailLink(front, vm.Token),
		ExpiresAt:   vm.ExpiresAt.UTC(),
		ValidHours:  hours,
		ValidFor:    human,
	}
}

func emailChangeData(project, front string, cm keel.EmailChangeMail, now time.Time) EmailChangeData {
	hours, human := validity(cm.ExpiresAt.Sub(now))
	return EmailChangeData{
		ProjectName: project,
		Email:       cm.To,
		OldEmail:    cm.OldEmail,
		Name:        cm.Name,
		Link:        EmailChangeLink(front, cm.Token),
		ExpiresAt:   cm.ExpiresAt.UTC(),
		ValidHours:  hours,
		ValidFor:    human,
	}
}

func resetData(project, front string, pm keel.PasswordResetMail, now time.Time) ResetPasswordData {
	hours, human := validity(pm.ExpiresAt.Sub(now))
	return ResetPasswordData{
		ProjectName: project,
		Email:       pm.To,
		Name:        pm.Name,
		Link:        ResetLink(front, pm.Token),
		ExpiresAt:   pm.ExpiresAt.UTC(),
		ValidHours:  hours,
		ValidFor:    human,
	}
}
