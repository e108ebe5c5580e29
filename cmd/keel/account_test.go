package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

func TestAccountSettings(t *testing.T) {
	const key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	tests := []struct {
		name     string
		vars     map[string]string
		variable string // "" when the configuration is valid
	}{
		{"a verification mode other than off, optional and required fails", map[string]string{"KEEL_EMAIL_VERIFICATION": "sometimes"}, "KEEL_EMAIL_VERIFICATION"},
		{"a verification lifetime of zero fails", map[string]string{"KEEL_VERIFICATION_TOKEN_EXPIRE_HOURS": "0"}, "KEEL_VERIFICATION_TOKEN_EXPIRE_HOURS"},
		{"a TOTP key of 16 bytes fails", map[string]string{"KEEL_TOTP_KEYS": "AQEBAQEBAQEBAQEBAQEBAQ=="}, "KEEL_TOTP_KEYS"},
		{"a TOTP key that is no base64 fails", map[string]string{"KEEL_TOTP_KEYS": key + ",not base64!"}, "KEEL_TOTP_KEYS"},
		{"a second-factor limit without window fails", map[string]string{"KEEL_RATE_LIMIT_SECOND_FACTOR": "5"}, "KEEL_RATE_LIMIT_SECOND_FACTOR"},
		{"required verification without SMTP fails in production", map[string]string{"KEEL_EMAIL_VERIFICATION": "required"}, "KEEL_EMAIL_VERIFICATION"},
		{"required verification without SMTP is allowed in development", map[string]string{"KEEL_EMAIL_VERIFICATION": "required", "ENVIRONMENT": "local"}, ""},
		{"required verification with SMTP is allowed", map[string]string{"KEEL_EMAIL_VERIFICATION": "required", "SMTP_HOST": "smtp.example.com", "EMAILS_FROM_EMAIL": "noreply@example.com"}, ""},
		{"optional verification without SMTP is allowed", map[string]string{"KEEL_EMAIL_VERIFICATION": "optional"}, ""},
		{"a base64url TOTP key without padding is read", map[string]string{"KEEL_TOTP_KEYS": strings.TrimRight(key, "=")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(tt.vars))
			switch {
			case tt.variable == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.variable != "" && err == nil:
				t.Fatal("accepted")
			case tt.variable != "" && !strings.Contains(err.Error(), tt.variable+": "):
				t.Errorf("the error does not name %s: %v", tt.variable, err)
			}
			if err != nil && strings.Contains(err.Error(), "AQEBAQEB") {
				t.Errorf("the error repeats a key: %v", err)
			}
		})
	}

	t.Run("the settings reach the Service", func(t *testing.T) {
		c, err := loadConfig(env(map[string]string{"KEEL_TOTP_KEYS": key, "KEEL_EMAIL_VERIFICATION": "optional", "PROJECT_NAME": "Acme"}))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := newService(c, memstore.New(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		cfg := svc.Config()
		if !svc.TOTPAvailable() || cfg.TOTP.Issuer != "Acme" || cfg.EmailVerification != keel.VerificationOptional {
			t.Errorf("TOTP available %v, issuer %q, verification %v", svc.TOTPAvailable(), cfg.TOTP.Issuer, cfg.EmailVerification)
		}
	})
}

func TestServeLogsVerificationLinksInDevelopment(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:", "ENVIRONMENT": "local", "KEEL_EMAIL_VERIFICATION": "required"})
	resp, body := s.do(t, "POST", "/api/v1/users/signup", "", strings.NewReader(`{"email":"dev@example.com","password":"a long enough pass"}`), "application/json")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-up: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"username": {"dev@example.com"}, "password": {"a long enough pass"}}
	resp, body = s.do(t, "POST", "/api/v1/login/access-token", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	var detail struct{ Detail string }
	json.Unmarshal(body, &detail)
	if resp.StatusCode != http.StatusForbidden || detail.Detail != "Email not verified" {
		t.Fatalf("login before verifying: %d %s", resp.StatusCode, body)
	}
	if err := s.stop(); err != nil { // waits for the email, sent in the background
		t.Fatal(err)
	}
	if !strings.Contains(s.log.String(), `link="http://localhost:5173/verify-email?token=`) {
		t.Errorf("the verification link was not logged:\n%s", s.log.String())
	}
}
