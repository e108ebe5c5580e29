package smtpmail_test

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/smtpmail"
)

// linkToken checks that every link of a part goes to want and carries one
// token, and returns it.
func linkToken(t *testing.T, part, want string, links []string) string {
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
		if got := u.Scheme + "://" + u.Host + u.Path; got != want {
			t.Errorf("the %s part links to %s, want %s", part, got, want)
		}
		tok := u.Query().Get("token")
		if i > 0 && tok != token {
			t.Errorf("the %s part's links disagree: %q and %q", part, token, tok)
		}
		token = tok
	}
	return token
}

func TestAccountEmails(t *testing.T) {
	const token = "tok+en/with=odd&chars"
	tests := []struct {
		name     string
		send     func(m *smtpmail.Mailer) error
		to       string
		subject  string
		link     string // "" when the email must carry none
		contains []string
	}{
		{
			name: "the verification email carries its link to the address it verifies",
			send: func(m *smtpmail.Mailer) error {
				return m.SendVerification(context.Background(), keel.VerificationMail{
					To: "ada@example.com", Name: "Ada Lovelace", Token: token, ExpiresAt: now.Add(48 * time.Hour)})
			},
			to:       "ada@example.com",
			subject:  "Acme - Verify your email address",
			link:     "https://app.example.com/verify-email",
			contains: []string{"Acme", "48 hours", "Ada Lovelace", "ada@example.com"},
		},
		{
			name: "the email-change confirmation goes to the new address with its link",
			send: func(m *smtpmail.Mailer) error {
				return m.SendEmailChange(context.Background(), keel.EmailChangeMail{
					To: "new@example.com", OldEmail: "ada@example.com", Name: "Ada", Token: token, ExpiresAt: now.Add(time.Hour)})
			},
			to:       "new@example.com",
			subject:  "Acme - Confirm your new email address",
			link:     "https://app.example.com/confirm-email",
			contains: []string{"1 hour", "ada@example.com", "new@example.com"},
		},
		{
			name: "the email-change notice goes to the old address and carries no link",
			send: func(m *smtpmail.Mailer) error {
				return m.SendEmailChangeNotice(context.Background(), keel.EmailChangeNoticeMail{
					To: "ada@example.com", NewEmail: "new@example.com", Name: "Ada"})
			},
			to:       "ada@example.com",
			subject:  "Acme - Your email address is being changed",
			contains: []string{"new@example.com", "ada@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, serverOptions{})
			if err := tt.send(mustNew(t, config(ts))); err != nil {
				t.Fatal(err)
			}
			msgs := ts.Messages()
			if len(msgs) != 1 {
				t.Fatalf("the server got %d messages, want 1", len(msgs))
			}
			if got := msgs[0].To; len(got) != 1 || got[0] != tt.to {
				t.Errorf("envelope recipients %v, want [%s]", got, tt.to)
			}
			p := parseMessage(t, msgs[0].Data)
			if p.Subject != tt.subject {
				t.Errorf("Subject %q, want %q", p.Subject, tt.subject)
			}
			var hrefs []string
			for _, m := range hrefLink.FindAllStringSubmatch(p.HTML, -1) {
				hrefs = append(hrefs, html.UnescapeString(m[1]))
			}
			texts := textLink.FindAllString(p.Text, -1)
			if tt.link == "" {
				if len(hrefs) > 0 || len(texts) > 0 {
					t.Errorf("the email carries links %v %v, want none", texts, hrefs)
				}
			} else {
				if tok := linkToken(t, "text", tt.link, texts); tok != token {
					t.Errorf("the text link carries token %q, want %q", tok, token)
				}
				if tok := linkToken(t, "HTML", tt.link, hrefs); tok != token {
					t.Errorf("the HTML link carries token %q, want %q", tok, token)
				}
			}
			for part, body := range map[string]string{"text": p.Text, "HTML": p.HTML} {
				for _, want := range tt.contains {
					if !strings.Contains(body, want) {
						t.Errorf("the %s part lacks %q:\n%s", part, want, body)
					}
				}
			}
		})
	}
}

func TestLogAccountEmails(t *testing.T) {
	const token = "SECRET-token_value"
	for _, development := range []bool{false, true} {
		name := "in production no line carries a token"
		if development {
			name = "in development the lines carry the verification and change links"
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			l := &smtpmail.Log{
				Logger:       slog.New(slog.NewTextHandler(&buf, nil)),
				FrontendHost: "http://localhost:5173",
				Development:  development,
				Now:          func() time.Time { return now },
			}
			ctx := context.Background()
			if err := l.SendVerification(ctx, keel.VerificationMail{To: "ada@example.com", Token: token, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := l.SendEmailChange(ctx, keel.EmailChangeMail{To: "new@example.com", OldEmail: "ada@example.com", Token: token, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := l.SendEmailChangeNotice(ctx, keel.EmailChangeNoticeMail{To: "ada@example.com", NewEmail: "new@example.com"}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range []string{"to=ada@example.com", "to=new@example.com"} {
				if !strings.Contains(out, want) {
					t.Errorf("the log lacks %q:\n%s", want, out)
				}
			}
			if got := strings.Contains(out, token); got != development {
				t.Errorf("token logged = %v, want %v:\n%s", got, development, out)
			}
			if development {
				for _, want := range []string{
					`link="http://localhost:5173/verify-email?token=` + token + `"`,
					`link="http://localhost:5173/confirm-email?token=` + token + `"`,
				} {
					if !strings.Contains(out, want) {
						t.Errorf("the log lacks %s:\n%s", want, out)
					}
				}
			}
		})
	}
}
