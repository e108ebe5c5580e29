package metrics_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func (e *env) login(email, password string) (token string, status int) {
	r := httptest.NewRequest("POST", "/login/access-token", strings.NewReader(url.Values{"username": {email}, "password": {password}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	return body.AccessToken, rec.Code
}

// Logins, refusals and sessions are counted from keel's account events,
// whether they come over HTTP or from a program's own calls.
func TestEvents(t *testing.T) {
	e := newEnv(t, keel.Config{RateLimits: keel.RateLimits{LoginPerAccount: keel.Limit{Max: 2, Window: time.Hour}}})
	const pw = "correct horse battery"
	if _, err := e.svc.SignUp(t.Context(), keel.SignUpInput{Email: "alice@example.com", Password: pw}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		email, password string
		want            int
	}{
		{"alice@example.com", pw, 200},
		{"alice@example.com", "wrong password", 400},
		{"nobody@example.com", pw, 400},
		{"carol@example.com", pw, 400},
		{"carol@example.com", pw, 400},
		{"carol@example.com", pw, 429}, // the third attempt for one account
	}
	var tokens []string
	for _, s := range steps {
		tok, code := e.login(s.email, s.password)
		if code != s.want {
			t.Fatalf("login %s: %d, want %d", s.email, code, s.want)
		}
		if tok != "" {
			tokens = append(tokens, tok)
		}
	}
	if code := e.do("POST", "/logout", "", tokens[0]); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	second, _ := e.login("alice@example.com", pw)
	third, _ := e.login("alice@example.com", pw)
	// Changing the password ends the other session (third's).
	if code := e.do("PATCH", "/users/me/password", `{"current_password":"`+pw+`","new_password":"another battery staple"}`, second); code != 200 {
		t.Fatalf("change password: %d", code)
	}
	if code := e.do("GET", "/users/me", "", third); code != 401 {
		t.Fatalf("the other session still works: %d", code)
	}
	// After hooks run on their own goroutines: Close waits for them.
	if err := e.svc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, e.reg)
	for _, tc := range []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"successful logins are counted", "keel_logins_total", []string{"outcome", "succeeded", "reason", ""}, 3},
		{"a wrong password is a failed login", "keel_logins_total", []string{"outcome", "failed", "reason", "wrong_password"}, 1},
		{"an unknown email is a failed login", "keel_logins_total", []string{"outcome", "failed", "reason", "unknown_email"}, 3},
		{"a reason that did not happen is there at zero", "keel_logins_total", []string{"outcome", "failed", "reason", "inactive_user"}, 0},
		{"a login the per-account limit refused is a refusal", "keel_rate_limited_total", []string{"limit", "login_per_account"}, 1},
		{"logins start sessions", "keel_sessions_started_total", nil, 3},
		{"a logout ends one", "keel_sessions_ended_total", []string{"how", "logout"}, 1},
		{"a password change revokes the others", "keel_sessions_ended_total", []string{"how", "revoked"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if sample(fams, tc.metric, tc.labels...) == nil {
				t.Fatalf("no %s%v in the scrape", tc.metric, tc.labels)
			}
			if got := value(fams, tc.metric, tc.labels...); got != tc.want {
				t.Fatalf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}
