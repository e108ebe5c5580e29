package smtpmail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/smtpmail"
)

func TestLog(t *testing.T) {
	const token = "SECRET-token_value"
	mail := keel.PasswordResetMail{To: "ada@example.com", Token: token, ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name        string
		development bool
		wantLevel   string
		wantLink    bool
		wantTestErr error
	}{
		{
			name:        "in production the line names the recipient but never the token, and test emails fail",
			development: false,
			wantLevel:   "WARN",
			wantTestErr: smtpmail.ErrNotConfigured,
		},
		{
			name:        "in development the line carries the reset link, and test emails succeed",
			development: true,
			wantLevel:   "INFO",
			wantLink:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := &smtpmail.Log{
				Logger:       slog.New(slog.NewTextHandler(&buf, nil)),
				FrontendHost: "http://localhost:5173",
				Development:  tt.development,
				Now:          func() time.Time { return now },
			}
			if err := l.SendPasswordReset(context.Background(), mail); err != nil {
				t.Fatal(err)
			}
			line := buf.String()
			if !strings.Contains(line, "level="+tt.wantLevel) || !strings.Contains(line, "to=ada@example.com") {
				t.Errorf("the line lacks its level or recipient: %s", line)
			}
			if got := strings.Contains(line, token); got != tt.wantLink {
				t.Errorf("token logged = %v, want %v: %s", got, tt.wantLink, line)
			}
			if tt.wantLink && !strings.Contains(line, `link="http://localhost:5173/reset-password?token=`+token+`"`) {
				t.Errorf("the line lacks the link: %s", line)
			}
			buf.Reset()
			if err := l.SendTestEmail(context.Background(), "ops@example.com"); !errors.Is(err, tt.wantTestErr) {
				t.Errorf("SendTestEmail: %v, want %v", err, tt.wantTestErr)
			}
			if !strings.Contains(buf.String(), "to=ops@example.com") {
				t.Errorf("the test email was not logged: %s", buf.String())
			}
		})
	}
}
