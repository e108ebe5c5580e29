package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-dev/keel/internal/oidctest"
	"github.com/keel-dev/keel/internal/webauthntest"
)

// TestServeSignsInWithAProviderAndAPasskey configures a provider and
// passkeys by environment variables alone and signs in with both through
// the served API, over SQLite.
func TestServeSignsInWithAProviderAndAPasskey(t *testing.T) {
	op := oidctest.Start(t)
	s := startServe(t, map[string]string{
		"DATABASE_URL":                 "sqlite://" + filepath.Join(t.TempDir(), "keel.db"),
		"KEEL_ADDR":                    "127.0.0.1:0",
		"FRONTEND_HOST":                "https://app.keel.example",
		"KEEL_OIDC_PROVIDERS":          "corp",
		"KEEL_OIDC_CORP_ISSUER":        op.Issuer(),
		"KEEL_OIDC_CORP_CLIENT_ID":     op.ClientID,
		"KEEL_OIDC_CORP_CLIENT_SECRET": op.ClientSecret,
		"KEEL_OIDC_REDIRECT_BASE_URL":  "https://api.keel.example/api/v1",
		"KEEL_WEBAUTHN_RP_ID":          "keel.example",
		"KEEL_OIDC_LOGIN_REDIRECT_URL": "https://app.keel.example/signed-in",
	})

	resp, body := s.do(t, "GET", "/api/v1/login/providers", "", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"corp"`) {
		t.Fatalf("GET /login/providers: %d %s", resp.StatusCode, body)
	}

	op.User("sub-ada", "ada@example.com", true)
	resp, _ = s.do(t, "GET", "/api/v1/login/oidc/corp", "", nil, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /login/oidc/corp: %d", resp.StatusCode)
	}
	var state *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "keel_session_oidc" {
			state = c
		}
	}
	if state == nil || !state.Secure {
		t.Fatalf("the state cookie %+v: want one, Secure outside development", state)
	}
	cb := oidctest.Authorize(t, resp.Header.Get("Location"))
	if want := "https://api.keel.example/api/v1/login/oidc/corp/callback"; cb.Scheme+"://"+cb.Host+cb.Path != want {
		t.Fatalf("the provider sent the browser to %s, want %s", cb, want)
	}
	req, _ := http.NewRequest("GET", s.base+cb.Path+"?"+cb.RawQuery, nil)
	req.AddCookie(&http.Cookie{Name: state.Name, Value: state.Value})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	frag, _ := url.ParseQuery(loc.EscapedFragment())
	if resp.StatusCode != http.StatusSeeOther || loc.Host != "app.keel.example" || loc.Path != "/signed-in" || frag.Get("code") == "" {
		t.Fatalf("the callback: %d to %s", resp.StatusCode, loc)
	}
	code, _ := json.Marshal(map[string]string{"code": frag.Get("code")})
	resp, body = s.do(t, "POST", "/api/v1/login/oidc/token", "", bytes.NewReader(code), "application/json")
	token := accessTokenOf(t, resp, body)
	if resp, body = s.do(t, "GET", "/api/v1/users/me", token, nil, ""); !strings.Contains(string(body), "ada@example.com") {
		t.Fatalf("GET /users/me after the provider sign-in: %d %s", resp.StatusCode, body)
	}

	auth := &webauthntest.Authenticator{Origin: "https://app.keel.example"}
	resp, body = s.do(t, "POST", "/api/v1/users/me/passkeys/options", token, nil, "")
	ceremony, options := ceremonyOf(t, resp, body)
	answer, cred, err := auth.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := json.Marshal(map[string]any{"ceremony": ceremony, "name": "Laptop", "credential": json.RawMessage(answer)})
	if resp, body = s.do(t, "POST", "/api/v1/users/me/passkeys", token, bytes.NewReader(reg), "application/json"); resp.StatusCode != 201 {
		t.Fatalf("registering a passkey: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "POST", "/api/v1/login/passkey/options", "", nil, "")
	ceremony, options = ceremonyOf(t, resp, body)
	answer, err = auth.Assert(options, cred)
	if err != nil {
		t.Fatal(err)
	}
	login, _ := json.Marshal(map[string]any{"ceremony": ceremony, "credential": json.RawMessage(answer)})
	resp, body = s.do(t, "POST", "/api/v1/login/passkey", "", bytes.NewReader(login), "application/json")
	passkeyToken := accessTokenOf(t, resp, body)
	if resp, body = s.do(t, "GET", "/api/v1/users/me", passkeyToken, nil, ""); !strings.Contains(string(body), "ada@example.com") {
		t.Fatalf("GET /users/me after the passkey sign-in: %d %s", resp.StatusCode, body)
	}
}

func accessTokenOf(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("want a token: %d %s", resp.StatusCode, body)
	}
	return tok.AccessToken
}

func ceremonyOf(t *testing.T, resp *http.Response, body []byte) (string, []byte) {
	t.Helper()
	var c struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &c) != nil || c.Ceremony == "" {
		t.Fatalf("want a ceremony: %d %s", resp.StatusCode, body)
	}
	return c.Ceremony, c.Options
}
