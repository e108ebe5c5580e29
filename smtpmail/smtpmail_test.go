package smtpmail_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/smtpmail"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// config is a Mailer configuration for the server.
func config(ts *testServer) smtpmail.Config {
	return smtpmail.Config{
		Host:         ts.Host,
		Port:         ts.Port,
		TLSConfig:    ts.Client,
		From:         "noreply@example.com",
		FromName:     "Keel Team",
		FrontendHost: "https://app.example.com/",
		ProjectName:  "Acme",
		Timeout:      30 * time.Second,
		Now:          func() time.Time { return now },
	}
}

func mustNew(t *testing.T, cfg smtpmail.Config) *smtpmail.Mailer {
	t.Helper()
	m, err := smtpmail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	textLink = regexp.MustCompile(`https?://\S+`)
	hrefLink = regexp.MustCompile(`href="([^"]+)"`)
)

// resetToken finds the reset links of a part and returns the token they
// carry, failing unless every link is the same and has the expected form.
func resetToken(t *testing.T, part string, links []string) string {
	t.Helper()
	if len(links) == 0 {
		t.Fatalf("the %s part has no link", part)
	}
	var token string
	for i, l := range links {
		u, err := url.Parse(l)
		if err != nil {
			t.Fatalf("the %s part's link %q does not parse: %v", part, l, err)
		}
		if got := u.Scheme + "://" + u.Host + u.Path; got != "https://app.example.com/reset-password" {
			t.Errorf("the %s part links to %s, want https://app.example.com/reset-password", part, got)
		}
		tok := u.Query().Get("token")
		if i > 0 && tok != token {
			t.Errorf("the %s part's links disagree: %q and %q", part, token, tok)
		}
		token = tok
	}
	return token
}

func TestSendPasswordReset(t *testing.T) {
	tests := []struct {
		name    string
		server  serverOptions
		cfg     func(*smtpmail.Config)
		wantTLS bool
	}{
		{
			name:    "over STARTTLS with a password it authenticates and arrives encrypted",
			server:  serverOptions{STARTTLS: true, User: "mailer", Password: "s3cret pass"},
			cfg:     func(c *smtpmail.Config) { c.StartTLS, c.Username, c.Password = true, "mailer", "s3cret pass" },
			wantTLS: true,
		},
		{
			name:    "over implicit TLS (SMTP_SSL) with a password it authenticates and arrives encrypted",
			server:  serverOptions{Implicit: true, User: "mailer", Password: "pw"},
			cfg:     func(c *smtpmail.Config) { c.SSL, c.Username, c.Password = true, "mailer", "pw" },
			wantTLS: true,
		},
		{
			name:   "over a plain connection without a password it arrives",
			server: serverOptions{},
			cfg:    func(c *smtpmail.Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, tt.server)
			cfg := config(ts)
			tt.cfg(&cfg)
			m := mustNew(t, cfg)
			// "+", "/" and "=" must be escaped to survive a query string.
			token := "tok+en/with=odd&chars"
			err := m.SendPasswordReset(context.Background(), keel.PasswordResetMail{
				To: "ada@example.com", Name: "Ada Lovelace", Token: token, ExpiresAt: now.Add(48 * time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			msgs := ts.Messages()
			if len(msgs) != 1 {
				t.Fatalf("the server got %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if len(got.To) != 1 || got.To[0] != "ada@example.com" {
				t.Errorf("envelope recipients %v, want [ada@example.com]", got.To)
			}
			if got.From != "noreply@example.com" {
				t.Errorf("envelope sender %q, want noreply@example.com", got.From)
			}
			if got.TLS != tt.wantTLS {
				t.Errorf("encrypted = %v, want %v", got.TLS, tt.wantTLS)
			}
			if got.AuthUser != tt.server.User {
				t.Errorf("authenticated as %q, want %q", got.AuthUser, tt.server.User)
			}
			p := parseMessage(t, got.Data)
			if want := "Acme - Password recovery for user ada@example.com"; p.Subject != want {
				t.Errorf("Subject %q, want %q", p.Subject, want)
			}
			if p.From.Name != "Keel Team" || p.From.Address != "noreply@example.com" {
				t.Errorf("From %v, want Keel Team <noreply@example.com>", p.From)
			}
			if len(p.To) != 1 || p.To[0].Address != "ada@example.com" {
				t.Errorf("To %v, want ada@example.com", p.To)
			}
			if tok := resetToken(t, "text", textLink.FindAllString(p.Text, -1)); tok != token {
				t.Errorf("the text link carries token %q, want %q", tok, token)
			}
			var hrefs []string
			for _, m := range hrefLink.FindAllStringSubmatch(p.HTML, -1) {
				hrefs = append(hrefs, html.UnescapeString(m[1]))
			}
			if tok := resetToken(t, "HTML", hrefs); tok != token {
				t.Errorf("the HTML link carries token %q, want %q", tok, token)
			}
			for part, body := range map[string]string{"text": p.Text, "HTML": p.HTML} {
				for _, want := range []string{"Acme", "48 hours", "Ada Lovelace"} {
					if !strings.Contains(body, want) {
						t.Errorf("the %s part lacks %q:\n%s", part, want, body)
					}
				}
			}
			if id := p.Header.Get("Message-Id"); !strings.HasSuffix(id, "@example.com>") {
				t.Errorf("Message-ID %q is not in the sender's domain", id)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name   string
		server serverOptions
		cfg    func(*smtpmail.Config)
	}{
		{
			name:   "STARTTLS required but not offered sends nothing",
			server: serverOptions{},
			cfg:    func(c *smtpmail.Config) { c.StartTLS = true },
		},
		{
			name:   "a wrong password sends nothing",
			server: serverOptions{STARTTLS: true, User: "mailer", Password: "right"},
			cfg:    func(c *smtpmail.Config) { c.StartTLS, c.Username, c.Password = true, "mailer", "wrong" },
		},
		{
			name:   "no credentials for a server that wants them sends nothing",
			server: serverOptions{STARTTLS: true, User: "mailer", Password: "right"},
			cfg:    func(c *smtpmail.Config) { c.StartTLS = true },
		},
		{
			name:   "a password is never sent over a plain connection, even to localhost",
			server: serverOptions{User: "u", Password: "p"},
			cfg:    func(c *smtpmail.Config) { c.Username, c.Password = "u", "p" },
		},
		{
			name:   "a certificate nobody trusts sends nothing",
			server: serverOptions{STARTTLS: true},
			cfg:    func(c *smtpmail.Config) { c.StartTLS, c.TLSConfig = true, nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, tt.server)
			cfg := config(ts)
			tt.cfg(&cfg)
			m := mustNew(t, cfg)
			if err := m.SendTestEmail(context.Background(), "ada@example.com"); err == nil {
				t.Fatal("SendTestEmail succeeded")
			}
			if n := len(ts.Messages()); n != 0 {
				t.Errorf("the server got %d messages, want 0", n)
			}
		})
	}
}

func TestSendTestEmail(t *testing.T) {
	ts := newServer(t, serverOptions{STARTTLS: true})
	cfg := config(ts)
	cfg.StartTLS = true
	if err := mustNew(t, cfg).SendTestEmail(context.Background(), "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs := ts.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the server got %d messages, want 1", len(msgs))
	}
	if msgs[0].To[0] != "ops@example.com" {
		t.Errorf("recipient %v", msgs[0].To)
	}
	p := parseMessage(t, msgs[0].Data)
	if p.Subject != "Acme - Test email" {
		t.Errorf("Subject %q", p.Subject)
	}
	for part, body := range map[string]string{"text": p.Text, "HTML": p.HTML} {
		if !strings.Contains(body, "Test email for: ") || !strings.Contains(body, "ops@example.com") {
			t.Errorf("the %s part does not say whom it is for:\n%s", part, body)
		}
	}
}

func TestMailerIsSafeForConcurrentUse(t *testing.T) {
	ts := newServer(t, serverOptions{STARTTLS: true, User: "u", Password: "p"})
	cfg := config(ts)
	cfg.StartTLS, cfg.Username, cfg.Password = true, "u", "p"
	m := mustNew(t, cfg)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- m.SendPasswordReset(context.Background(), keel.PasswordResetMail{
				To: fmt.Sprintf("user%d@example.com", i), Token: fmt.Sprintf("token-%d", i), ExpiresAt: now.Add(time.Hour),
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// Every user got its own token.
	tokens := map[string]string{}
	for _, msg := range ts.Messages() {
		p := parseMessage(t, msg.Data)
		tokens[p.To[0].Address] = resetToken(t, "text", textLink.FindAllString(p.Text, -1))
	}
	for i := range n {
		if got, want := tokens[fmt.Sprintf("user%d@example.com", i)], fmt.Sprintf("token-%d", i); got != want {
			t.Errorf("user%d got token %q, want %q", i, got, want)
		}
	}
}

func TestSendHonoursContext(t *testing.T) {
	ts := newServer(t, serverOptions{})
	m := mustNew(t, config(ts))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.SendTestEmail(ctx, "ada@example.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if n := len(ts.Messages()); n != 0 {
		t.Errorf("the server got %d messages, want 0", n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := smtpmail.Config{Host: "smtp.example.com", From: "noreply@example.com", FrontendHost: "http://localhost:5173"}
	tests := []struct {
		name   string
		change func(*smtpmail.Config)
		want   string
	}{
		{"a missing host is refused", func(c *smtpmail.Config) { c.Host = "" }, "Host"},
		{"a missing sender is refused", func(c *smtpmail.Config) { c.From = "" }, "sender"},
		{"a sender that is no address is refused", func(c *smtpmail.Config) { c.From = "noreply" }, "sender"},
		{"a sender with a display name is refused", func(c *smtpmail.Config) { c.From = "Team <noreply@example.com>" }, "sender"},
		{"a frontend URL without scheme is refused", func(c *smtpmail.Config) { c.FrontendHost = "localhost:5173" }, "frontend"},
		{"a frontend URL with a query is refused", func(c *smtpmail.Config) { c.FrontendHost = "https://x.example?a=b" }, "frontend"},
		{"a port out of range is refused", func(c *smtpmail.Config) { c.Port = 70000 }, "port"},
		{"templates lacking a message are refused", func(c *smtpmail.Config) {
			c.Templates = &smtpmail.Templates{Text: smtpmail.DefaultTemplates().Text, HTML: nil}
		}, "HTML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			_, err := smtpmail.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error about %s", err, tt.want)
			}
		})
	}
	if _, err := smtpmail.New(good); err != nil {
		t.Errorf("New with a good config: %v", err)
	}
}

func TestTemplatesCanBeOverridden(t *testing.T) {
	tpl, err := smtpmail.ParseTemplates(fstest.MapFS{
		"subjects.txt": {Data: []byte(`{{define "reset_password.subject"}}Reset your {{.ProjectName}} password{{end}}` +
			`{{define "test_email.subject"}}ping{{end}}`)},
		"reset_password.html": {Data: []byte(`<p>Hi {{.Email}}, <a href="{{.Link}}">reset</a> within {{.ValidHours}}h</p>`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serverOptions{})
	cfg := config(ts)
	cfg.Templates = tpl
	err = mustNew(t, cfg).SendPasswordReset(context.Background(), keel.PasswordResetMail{
		To: "ada@example.com", Token: "abc", ExpiresAt: now.Add(2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, ts.Messages()[0].Data)
	if p.Subject != "Reset your Acme password" {
		t.Errorf("Subject %q: the override was not used", p.Subject)
	}
	if want := `<p>Hi ada@example.com, <a href="https://app.example.com/reset-password?token=abc">reset</a> within 2h</p>`; p.HTML != want {
		t.Errorf("HTML\n%s\nwant\n%s", p.HTML, want)
	}
	if !strings.Contains(p.Text, "valid for 2 hours") {
		t.Errorf("the built-in text template was not kept:\n%s", p.Text)
	}
}

func TestParseTemplatesRejects(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
	}{
		{"a template that does not parse", fstest.MapFS{"reset_password.txt": {Data: []byte("{{.Link")}}},
		{"an HTML template that does not parse", fstest.MapFS{"test_email.html": {Data: []byte("{{end}}")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := smtpmail.ParseTemplates(tt.fs); err == nil {
				t.Error("ParseTemplates succeeded")
			}
		})
	}
}

func TestValidityIsShownInWords(t *testing.T) {
	tests := []struct {
		name     string
		validFor time.Duration
		want     string
	}{
		{"one hour reads 1 hour", time.Hour, "valid for 1 hour "},
		{"a few seconds under an hour still reads 1 hour", time.Hour - 3*time.Second, "valid for 1 hour "},
		{"48 hours read 48 hours", 48 * time.Hour, "valid for 48 hours "},
		{"half an hour reads 30 minutes", 30 * time.Minute, "valid for 30 minutes "},
		{"one minute reads 1 minute", time.Minute, "valid for 1 minute "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, serverOptions{})
			err := mustNew(t, config(ts)).SendPasswordReset(context.Background(), keel.PasswordResetMail{
				To: "ada@example.com", Token: "abc", ExpiresAt: now.Add(tt.validFor),
			})
			if err != nil {
				t.Fatal(err)
			}
			if p := parseMessage(t, ts.Messages()[0].Data); !strings.Contains(p.Text, tt.want) {
				t.Errorf("the text does not say %q:\n%s", tt.want, p.Text)
			}
		})
	}
}

func TestResetLink(t *testing.T) {
	tests := []struct {
		name, front, token, want string
	}{
		{"a plain token is appended", "http://localhost:5173", "abc_-XYZ", "http://localhost:5173/reset-password?token=abc_-XYZ"},
		{"a trailing slash is dropped", "https://app.example.com/", "abc", "https://app.example.com/reset-password?token=abc"},
		{"reserved characters are escaped", "https://x.example", "a+b/c=&d", "https://x.example/reset-password?token=a%2Bb%2Fc%3D%26d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := smtpmail.ResetLink(tt.front, tt.token); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
