package smtpmail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"math"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/keel-dev/keel/internal/plural"
)

//go:embed templates/*.txt templates/*.html
var defaultFS embed.FS

// The templates a Templates set must define. The subjects are text
// templates; the default ones live in subjects.txt.
const (
	ResetPasswordSubject = "reset_password.subject"
	ResetPasswordText    = "reset_password.txt"
	ResetPasswordHTML    = "reset_password.html"
	TestEmailSubject     = "test_email.subject"
	TestEmailText        = "test_email.txt"
	TestEmailHTML        = "test_email.html"

	VerifyEmailSubject       = "verify_email.subject"
	VerifyEmailText          = "verify_email.txt"
	VerifyEmailHTML          = "verify_email.html"
	EmailChangeSubject       = "email_change.subject"
	EmailChangeText          = "email_change.txt"
	EmailChangeHTML          = "email_change.html"
	EmailChangeNoticeSubject = "email_change_notice.subject"
	EmailChangeNoticeText    = "email_change_notice.txt"
	EmailChangeNoticeHTML    = "email_change_notice.html"
)

// Templates render keel's emails: every message has a subject and a text
// body (text/template) and an HTML body (html/template). Text must define
// every *Subject and *Text name above, HTML every *HTML name.
//
// The password-reset templates receive a ResetPasswordData, the test-email
// templates a TestEmailData, the verification templates a VerifyEmailData,
// the email-change templates an EmailChangeData and the email-change
// notice templates an EmailChangeNoticeData.
type Templates struct {
	Text *texttemplate.Template
	HTML *htmltemplate.Template
}

// ResetPasswordData is what the password-reset templates render.
type ResetPasswordData struct {
	ProjectName string
	Email       string // the recipient
	Name        string // the user's full name, or ""
	// Link is {FrontendHost}/reset-password?token=<token>, the token
	// URL-escaped.
	Link       string
	ExpiresAt  time.Time // in UTC
	ValidHours int       // hours the link stays valid, rounded, at least 1
	ValidFor   string    // the same for people: "1 hour", "48 hours", "30 minutes"
}

// TestEmailData is what the test-email templates render.
type TestEmailData struct {
	ProjectName string
	Email       string // the recipient
}

// VerifyEmailData is what the email-verification templates render.
type VerifyEmailData struct {
	ProjectName string
	Email       string // the recipient: the address to verify
	Name        string // the user's full name, or ""
	// Link is {FrontendHost}/verify-email?token=<token>, the token
	// URL-escaped.
	Link       string
	ExpiresAt  time.Time // in UTC
	ValidHours int       // hours the link stays valid, rounded, at least 1
	ValidFor   string    // the same for people: "1 hour", "48 hours"
}

// EmailChangeData is what the email-change templates render: the mail to
// the new address, with the link that confirms the change.
type EmailChangeData struct {
	ProjectName string
	Email       string // the recipient: the new address
	OldEmail    string // the account's current address
	Name        string // the user's full name, or ""
	// Link is {FrontendHost}/confirm-email?token=<token>, the token
	// URL-escaped.
	Link       string
	ExpiresAt  time.Time // in UTC
	ValidHours int       // hours the link stays valid, rounded, at least 1
	ValidFor   string    // the same for people: "1 hour", "48 hours"
}

// EmailChangeNoticeData is what the email-change notice templates render:
// the mail to the current address, which has no link.
type EmailChangeNoticeData struct {
	ProjectName string
	Email       string // the recipient: the account's current address
	NewEmail    string // the address the change is to
	Name        string // the user's full name, or ""
}

// DefaultTemplates returns keel's built-in templates.
func DefaultTemplates() *Templates {
	t, err := ParseTemplates(nil)
	if err != nil {
		panic("smtpmail: the built-in templates do not parse: " + err.Error())
	}
	return t
}

// ParseTemplates returns the built-in templates with the files of fsys laid
// over them: every *.txt file in fsys's root is parsed as a text template
// and every *.html file as an HTML template, and a file (or a {{define}})
// named like a built-in one replaces it. So a program overrides only what
// it wants, e.g. a reset_password.html of its own, or a subjects.txt that
// defines "reset_password.subject" and "test_email.subject". A nil fsys
// gives the built-in templates.
func ParseTemplates(fsys fs.FS) (*Templates, error) {
	text, err := texttemplate.New("").ParseFS(defaultFS, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	html, err := htmltemplate.New("").ParseFS(defaultFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if fsys != nil {
		if text, err = overlay(fsys, "*.txt", text, (*texttemplate.Template).ParseFS); err != nil {
			return nil, err
		}
		if html, err = overlay(fsys, "*.html", html, (*htmltemplate.Template).ParseFS); err != nil {
			return nil, err
		}
	}
	t := &Templates{Text: text, HTML: html}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// overlay parses the files of fsys that match pattern into t, if there are any.
func overlay[T any](fsys fs.FS, pattern string, t T, parse func(T, fs.FS, ...string) (T, error)) (T, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil || len(names) == 0 {
		return t, err
	}
	out, err := parse(t, fsys, pattern)
	if err != nil {
		return t, fmt.Errorf("smtpmail: parsing templates %s: %w", pattern, err)
	}
	return out, nil
}

// check reports the first template the set lacks.
func (t *Templates) check() error {
	if t == nil || t.Text == nil || t.HTML == nil {
		return errors.New("smtpmail: Templates needs both Text and HTML")
	}
	var missing []string
	for _, name := range []string{ResetPasswordSubject, ResetPasswordText, TestEmailSubject, TestEmailText,
		VerifyEmailSubject, VerifyEmailText, EmailChangeSubject, EmailChangeText, EmailChangeNoticeSubject, EmailChangeNoticeText} {
		if t.Text.Lookup(name) == nil {
			missing = append(missing, name)
		}
	}
	for _, name := range []string{ResetPasswordHTML, TestEmailHTML, VerifyEmailHTML, EmailChangeHTML, EmailChangeNoticeHTML} {
		if t.HTML.Lookup(name) == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("smtpmail: templates do not define %s", strings.Join(missing, ", "))
	}
	return nil
}

// rendered is a message ready to send.
type rendered struct {
	Subject, Text, HTML string
}

func (t *Templates) render(subject, text, html string, data any) (rendered, error) {
	var r rendered
	var b bytes.Buffer
	if err := t.Text.ExecuteTemplate(&b, subject, data); err != nil {
		return r, fmt.Errorf("smtpmail: rendering %s: %w", subject, err)
	}
	// A subject is one header line.
	r.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.Text.ExecuteTemplate(&b, text, data); err != nil {
		return r, fmt.Errorf("smtpmail: rendering %s: %w", text, err)
	}
	r.Text = b.String()
	b.Reset()
	if err := t.HTML.ExecuteTemplate(&b, html, data); err != nil {
		return r, fmt.Errorf("smtpmail: rendering %s: %w", html, err)
	}
	r.HTML = b.String()
	return r, nil
}

// validity rounds how long a link stays valid for its reader.
func validity(d time.Duration) (hours int, human string) {
	hours = max(int(math.Round(d.Hours())), 1)
	if m := d.Round(time.Minute); m < time.Hour {
		m := max(int(m/time.Minute), 1)
		return hours, plural.Count(m, "minute")
	}
	return hours, plural.Count(hours, "hour")
}
