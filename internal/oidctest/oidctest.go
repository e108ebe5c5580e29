// Package oidctest runs a real OpenID Connect provider for tests
// (github.com/oauth2-proxy/mockoidc) and plays the browser between it and
// keel. It can also make the provider misbehave as an attacker would need
// it to: answer with an ID token issued to another client.
package oidctest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// Provider is a running mock provider.
type Provider struct {
	*mockoidc.MockOIDC

	// mu serialises requests: mockoidc's own state is not safe for
	// concurrent use.
	mu sync.Mutex
	// audience, when set, replaces the aud of the next ID token issued.
	audience atomic.Pointer[string]
}

// Start runs a provider until t ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{MockOIDC: m}
	if err := m.AddMiddleware(p.serialise); err != nil {
		t.Fatal(err)
	}
	if err := m.AddMiddleware(p.tamper); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

// User is the account the provider signs in next (it signs in its
// default, verified user when none is queued).
func (p *Provider) User(subject, email string, verified bool) {
	p.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified, PreferredUsername: subject})
}

// NamedUser is User with a display name (the ID token's name claim) too.
func (p *Provider) NamedUser(subject, email, name string, verified bool) {
	p.QueueUser(&namedUser{MockUser: mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified}, name: name})
}

// namedUser adds the name claim to a MockUser's ID token.
type namedUser struct {
	mockoidc.MockUser
	name string
}

func (u *namedUser) Claims(scope []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c, err := u.MockUser.Claims(scope, base)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	m := jwt.MapClaims{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["name"] = u.name
	return m, nil
}

// IssueForAudience makes the provider issue the ID token of its next
// token answer to another client (aud), signed with its real key.
func (p *Provider) IssueForAudience(aud string) { p.audience.Store(&aud) }

func (p *Provider) serialise(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// tamper re-signs the ID token of a token answer for another audience.
func (p *Provider) tamper(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		aud := p.audience.Load()
		if aud == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			copyResponse(w, rec)
			return
		}
		raw, _ := body["id_token"].(string)
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		// Spent only on a token actually issued: x/oauth2 may try a
		// second way of authenticating after the provider refused one.
		p.audience.CompareAndSwap(aud, nil)
		claims["aud"] = *aud
		signed, err := p.Keypair.SignJWT(claims)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body["id_token"] = signed
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = rec.Body.WriteTo(w)
}

// Authorize plays the browser at the provider: it follows authURL to the
// provider, which signs the queued user in at once, and returns the
// callback URL the provider sends the browser to, with its code and state.
func Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("GET the provider's authorization URL: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the provider's authorization endpoint answered %s, want 302", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("the provider's redirect: %v", err)
	}
	return loc
}
