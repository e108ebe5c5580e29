package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/smtpmail"
	"github.com/keel-dev/keel/store/memstore"
)

// newTestService is a Service over a fresh memstore, logging into buf.
func newTestService(t *testing.T, c config, buf *bytes.Buffer) (*keel.Service, keel.Store) {
	t.Helper()
	s := memstore.New()
	t.Cleanup(func() { s.Close() })
	svc, err := newService(c, s, slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return svc, s
}

func mustConfig(t *testing.T, vars map[string]string) config {
	t.Helper()
	c, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckPassword(t *testing.T) {
	svc, s := newTestService(t, mustConfig(t, nil), new(bytes.Buffer))
	tests := []struct {
		name, password, wantProblem string
	}{
		{"a long uncommon password passes", "correct horse battery staple", ""},
		{"a common password fails as common", "password1", "too common"},
		{"the placeholder fails as common", "changethis", "too common"},
		{"a short password fails as short", "abc", "at least 8"},
		{"a long password fails as long", strings.Repeat("x", 129), "at most 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPassword(svc, tt.password)
			switch {
			case tt.wantProblem == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantProblem != "" && (err == nil || !strings.Contains(err.Error(), tt.wantProblem)):
				t.Errorf("got %v, want a problem saying %q", err, tt.wantProblem)
			}
		})
	}
	_, n, err := s.ListUsers(context.Background(), keel.Page{Limit: 10})
	if err != nil || n != 0 {
		t.Errorf("checking passwords created %d users (%v)", n, err)
	}
}

func TestBootstrapSuperuser(t *testing.T) {
	ctx := context.Background()
	admin := map[string]string{"FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "a long enough pass"}
	users := func(t *testing.T, s keel.Store) []*keel.User {
		us, _, err := s.ListUsers(ctx, keel.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return us
	}

	t.Run("without FIRST_SUPERUSER no user is created", func(t *testing.T) {
		c := mustConfig(t, nil)
		svc, s := newTestService(t, c, new(bytes.Buffer))
		if err := bootstrapSuperuser(ctx, c, svc, s, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		if us := users(t, s); len(us) != 0 {
			t.Errorf("%d users exist", len(us))
		}
	})

	t.Run("it creates an active superuser that can log in, once, however often it runs", func(t *testing.T) {
		c := mustConfig(t, admin)
		svc, s := newTestService(t, c, new(bytes.Buffer))
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 { // replicas starting at once
			wg.Go(func() { errs <- bootstrapSuperuser(ctx, c, svc, s, slog.New(slog.DiscardHandler)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		us := users(t, s)
		if len(us) != 1 || us[0].Email != "admin@example.com" || !us[0].IsSuperuser || !us[0].IsActive {
			t.Fatalf("users: %+v", us)
		}
		sess, err := svc.Login(ctx, keel.LoginInput{Email: "admin@example.com", Password: "a long enough pass"})
		if err != nil || !sess.User.IsSuperuser {
			t.Errorf("login: %v", err)
		}
	})

	t.Run("an existing user with that email is left as it is", func(t *testing.T) {
		c := mustConfig(t, admin)
		svc, s := newTestService(t, c, new(bytes.Buffer))
		u, err := svc.SignUp(ctx, keel.SignUpInput{Email: "admin@example.com", Password: "the user's own password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := bootstrapSuperuser(ctx, c, svc, s, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		got, err := s.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IsSuperuser || got.PasswordHash != u.PasswordHash {
			t.Error("bootstrap changed an existing user")
		}
	})

	t.Run("in production a common password stops the start", func(t *testing.T) {
		c := mustConfig(t, map[string]string{"FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "password1"})
		svc, s := newTestService(t, c, new(bytes.Buffer))
		err := bootstrapSuperuser(ctx, c, svc, s, slog.New(slog.DiscardHandler))
		if err == nil || !strings.HasPrefix(err.Error(), "FIRST_SUPERUSER_PASSWORD: ") || !strings.Contains(err.Error(), "common") {
			t.Errorf("got %v, want an error naming FIRST_SUPERUSER_PASSWORD", err)
		}
		if us := users(t, s); len(us) != 0 {
			t.Errorf("%d users exist", len(us))
		}
	})

	t.Run("in development a common password is logged and no user is created", func(t *testing.T) {
		c := mustConfig(t, map[string]string{"FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "password1", "ENVIRONMENT": "local"})
		var buf bytes.Buffer
		svc, s := newTestService(t, c, &buf)
		log := slog.New(slog.NewTextHandler(&buf, nil))
		if err := bootstrapSuperuser(ctx, c, svc, s, log); err != nil {
			t.Fatal(err)
		}
		if us := users(t, s); len(us) != 0 {
			t.Errorf("%d users exist", len(us))
		}
		if !strings.Contains(buf.String(), "FIRST_SUPERUSER_PASSWORD") || strings.Contains(buf.String(), "password1") {
			t.Errorf("the log line does not name the variable, or repeats the password: %s", buf.String())
		}
	})

	t.Run("in development the template's placeholder makes the superuser, with a warning", func(t *testing.T) {
		c := mustConfig(t, map[string]string{"FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "changethis", "ENVIRONMENT": "local"})
		var buf bytes.Buffer
		svc, s := newTestService(t, c, &buf)
		log := slog.New(slog.NewTextHandler(&buf, nil))
		for range 2 { // the second start finds it
			if err := bootstrapSuperuser(ctx, c, svc, s, log); err != nil {
				t.Fatal(err)
			}
		}
		us := users(t, s)
		if len(us) != 1 || us[0].Email != "admin@example.com" || !us[0].IsSuperuser || !us[0].IsActive {
			t.Fatalf("users: %+v", us)
		}
		if n := strings.Count(buf.String(), `level=WARN msg="FIRST_SUPERUSER_PASSWORD is \"changethis\"`); n != 2 {
			t.Errorf("the warning was logged %d times in two starts, want 2:\n%s", n, buf.String())
		}
		sess, err := svc.Login(ctx, keel.LoginInput{Email: "admin@example.com", Password: "changethis"})
		if err != nil {
			t.Fatalf("logging in with the placeholder: %v", err)
		}
		if !sess.User.IsSuperuser {
			t.Error("the session is not a superuser's")
		}
		if u, err := s.User(ctx, us[0].ID); err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("after the first login the hash is %.10q (%v), want it upgraded to argon2id", u.PasswordHash, err)
		}
	})

	t.Run("outside development the placeholder is refused before anything is created", func(t *testing.T) {
		_, err := loadConfig(env(map[string]string{"FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "changethis", "ENVIRONMENT": "staging"}))
		if err == nil || !strings.Contains(err.Error(), `FIRST_SUPERUSER_PASSWORD: is "changethis"`) {
			t.Errorf("got %v", err)
		}
	})
}

func TestNewMailer(t *testing.T) {
	t.Run("without SMTP_HOST mail is logged, with links only in development", func(t *testing.T) {
		for _, environment := range []string{"production", "local"} {
			var buf bytes.Buffer
			c := mustConfig(t, map[string]string{"ENVIRONMENT": environment})
			m, err := newMailer(c, slog.New(slog.NewTextHandler(&buf, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SendPasswordReset(context.Background(), keel.PasswordResetMail{To: "a@example.com", Token: "tok123"}); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Contains(buf.String(), "token=tok123"), c.Development(); got != want {
				t.Errorf("ENVIRONMENT=%s: link logged = %v, want %v: %s", environment, got, want, buf.String())
			}
		}
	})
	t.Run("with SMTP_HOST it is an SMTP mailer", func(t *testing.T) {
		c := mustConfig(t, map[string]string{"SMTP_HOST": "127.0.0.1", "EMAILS_FROM_EMAIL": "noreply@example.com"})
		m, err := newMailer(c, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*smtpmail.Mailer); !ok {
			t.Errorf("got %T, want *smtpmail.Mailer", m)
		}
	})
	t.Run("KEEL_EMAIL_TEMPLATES_DIR replaces the templates it has and keeps the others", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "reset_password.html"), []byte(`<p>Acme reset: {{.Link}}</p>`), 0o600); err != nil {
			t.Fatal(err)
		}
		c := mustConfig(t, map[string]string{"SMTP_HOST": "127.0.0.1", "EMAILS_FROM_EMAIL": "noreply@example.com", "KEEL_EMAIL_TEMPLATES_DIR": dir})
		sc, err := smtpConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		var html, text strings.Builder
		data := smtpmail.ResetPasswordData{Link: "https://app.example.com/reset-password?token=t"}
		if err := sc.Templates.HTML.ExecuteTemplate(&html, smtpmail.ResetPasswordHTML, data); err != nil {
			t.Fatal(err)
		}
		if got := html.String(); got != `<p>Acme reset: https://app.example.com/reset-password?token=t</p>` {
			t.Errorf("the HTML body is %q, not the directory's template", got)
		}
		if err := sc.Templates.Text.ExecuteTemplate(&text, smtpmail.ResetPasswordText, data); err != nil || !strings.Contains(text.String(), data.Link) {
			t.Errorf("the built-in text body is gone: %q %v", text.String(), err)
		}
	})
}
