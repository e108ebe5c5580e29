package oidc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/oidctest"
	"github.com/keel-dev/keel/oidc"
)

const redirectURL = "https://keel.example/api/v1/login/oidc/mock/callback"

func newProvider(t *testing.T, op *oidctest.Provider) *oidc.Provider {
	t.Helper()
	cfg := op.Config()
	p, err := oidc.New(oidc.Config{Name: "mock", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signIn runs the browser part of a sign-in and returns the code.
func signIn(t *testing.T, p *oidc.Provider, state, nonce, verifier string) string {
	t.Helper()
	authURL, err := p.AuthCodeURL(t.Context(), state, nonce, verifier)
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	cb := oidctest.Authorize(t, authURL)
	if got := cb.Query().Get("state"); got != state {
		t.Fatalf("the callback's state = %q, want %q", got, state)
	}
	return cb.Query().Get("code")
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func TestAuthCodeURL(t *testing.T) {
	op := oidctest.Start(t)
	p := newProvider(t, op)
	raw, err := p.AuthCodeURL(t.Context(), "the-state", "the-nonce", verifier)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verifier))
	q := u.Query()
	for param, want := range map[string]string{
		"response_type":         "code",
		"client_id":             op.ClientID,
		"redirect_uri":          redirectURL,
		"scope":                 "openid email profile",
		"state":                 "the-state",
		"nonce":                 "the-nonce",
		"code_challenge_method": "S256",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
	} {
		if got := q.Get(param); got != want {
			t.Errorf("%s = %q, want %q", param, got, want)
		}
	}
	if q.Has("code_verifier") {
		t.Error("the authorization URL reveals the PKCE verifier")
	}
	if !strings.HasPrefix(raw, op.AuthorizationEndpoint()) {
		t.Errorf("the URL %s is not at the discovered authorization endpoint %s", raw, op.AuthorizationEndpoint())
	}
}

func TestExchange(t *testing.T) {
	t.Run("a sign-in yields the verified claims of the account", func(t *testing.T) {
		op := oidctest.Start(t)
		p := newProvider(t, op)
		op.User("sub-ada", "ada@example.com", true)
		code := signIn(t, p, "s1", "n1", verifier)
		c, err := p.Exchange(t.Context(), code, verifier, "n1")
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "sub-ada" || c.Email != "ada@example.com" || !c.EmailVerified {
			t.Errorf("claims = %+v", c)
		}
	})

	t.Run("an unverified email is reported unverified", func(t *testing.T) {
		op := oidctest.Start(t)
		p := newProvider(t, op)
		op.User("sub-bob", "bob@example.com", false)
		code := signIn(t, p, "s1", "n1", verifier)
		c, err := p.Exchange(t.Context(), code, verifier, "n1")
		if err != nil {
			t.Fatal(err)
		}
		if c.EmailVerified {
			t.Errorf("claims = %+v, want the email unverified", c)
		}
	})

	for _, tc := range []struct {
		name string
		// attack runs a sign-in and then exchanges as an attacker could.
		attack func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error
	}{
		{"a replayed code is refused", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			code := signIn(t, p, "s", "n", verifier)
			if _, err := p.Exchange(t.Context(), code, verifier, "n"); err != nil {
				t.Fatalf("the first exchange: %v", err)
			}
			_, err := p.Exchange(t.Context(), code, verifier, "n")
			return err
		}},
		{"a code with another PKCE verifier is refused", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			code := signIn(t, p, "s", "n", verifier)
			_, err := p.Exchange(t.Context(), code, strings.Repeat("x", 43), "n")
			return err
		}},
		{"an ID token with another sign-in's nonce is refused", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			code := signIn(t, p, "s", "n", verifier)
			_, err := p.Exchange(t.Context(), code, verifier, "another nonce")
			return err
		}},
		{"an empty expected nonce never matches a token without one", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			code := signIn(t, p, "s", "", verifier)
			_, err := p.Exchange(t.Context(), code, verifier, "")
			return err
		}},
		{"an ID token issued to another client is refused", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			code := signIn(t, p, "s", "n", verifier)
			op.IssueForAudience("another-client")
			_, err := p.Exchange(t.Context(), code, verifier, "n")
			return err
		}},
		{"a made-up code is refused", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			signIn(t, p, "s", "n", verifier)
			_, err := p.Exchange(t.Context(), "made-up", verifier, "n")
			return err
		}},
		{"no code is refused", func(t *testing.T, op *oidctest.Provider, p *oidc.Provider) error {
			_, err := p.Exchange(t.Context(), "", verifier, "n")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := oidctest.Start(t)
			err := tc.attack(t, op, newProvider(t, op))
			if keel.ErrorCode(err) != keel.Unauthenticated {
				t.Errorf("err = %v, want Unauthenticated", err)
			}
		})
	}
}

func TestAnIssuerThatDoesNotAnswerIsUnavailable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	p, err := oidc.New(oidc.Config{Name: "down", Issuer: down.URL, ClientID: "c", ClientSecret: "s", RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.AuthCodeURL(t.Context(), "s", "n", verifier)
	if keel.ErrorCode(err) != keel.Unavailable {
		t.Errorf("AuthCodeURL: err = %v, want Unavailable", err)
	}
}

func TestADiscoveryDocumentForAnotherIssuerIsRefused(t *testing.T) {
	op := oidctest.Start(t)
	// The same server, named by another host: its document names the
	// issuer at 127.0.0.1, not this one.
	other := strings.Replace(op.Issuer(), "127.0.0.1", "localhost", 1)
	p, err := oidc.New(oidc.Config{Name: "mock", Issuer: other, ClientID: op.ClientID, ClientSecret: op.ClientSecret, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AuthCodeURL(t.Context(), "s", "n", verifier); err == nil {
		t.Error("AuthCodeURL with a mismatched issuer succeeded")
	}
}

func TestNew(t *testing.T) {
	good := oidc.Config{Name: "corp", Issuer: "https://id.example", ClientID: "c", ClientSecret: "s", RedirectURL: redirectURL}
	for _, tc := range []struct {
		name   string
		change func(c *oidc.Config)
		want   string
	}{
		{"a name with capitals is refused", func(c *oidc.Config) { c.Name = "Corp" }, "name"},
		{"an empty name is refused", func(c *oidc.Config) { c.Name = "" }, "name"},
		{"a name with a slash is refused", func(c *oidc.Config) { c.Name = "a/b" }, "name"},
		{"a relative issuer is refused", func(c *oidc.Config) { c.Issuer = "id.example" }, "issuer"},
		{"an empty client id is refused", func(c *oidc.Config) { c.ClientID = "" }, "client id"},
		{"an empty client secret is refused", func(c *oidc.Config) { c.ClientSecret = "" }, "client secret"},
		{"a redirect URL that is not absolute is refused", func(c *oidc.Config) { c.RedirectURL = "/callback" }, "redirect URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.change(&c)
			_, err := oidc.New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: err = %v, want one about the %s", err, tc.want)
			}
		})
	}
	t.Run("openid is always asked for, once, and the default scopes are email and profile", func(t *testing.T) {
		p, err := oidc.New(good)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(p.Scopes(), " "); got != "openid email profile" {
			t.Errorf("Scopes = %q", got)
		}
		c := good
		c.Scopes = []string{"email", "openid", "groups"}
		p, err = oidc.New(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(p.Scopes(), " "); got != "openid email groups" {
			t.Errorf("Scopes = %q", got)
		}
	})
}
