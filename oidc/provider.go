package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/keel-dev/keel"
)

// Config describes one provider.
type Config struct {
	// Name is keel's name of the provider: 1 to 32 lower-case letters,
	// digits, "-" or "_" ("google", "corp"). It appears in URLs and in the
	// identities linked through the provider, so it must not change.
	Name string
	// Issuer is the provider's issuer URL, e.g. https://accounts.google.com;
	// its discovery document is Issuer + "/.well-known/openid-configuration"
	// and must name the same issuer.
	Issuer string
	// ClientID and ClientSecret are keel's credentials at the provider.
	ClientID     string
	ClientSecret string
	// Scopes are asked for besides "openid", which is always asked for.
	// Default "email" and "profile".
	Scopes []string
	// RedirectURL is the callback URL registered at the provider, where it
	// sends the browser back with a code (httpapi serves it at
	// /login/oidc/{name}/callback).
	RedirectURL string
	// HTTPClient makes the requests to the provider. Default: a client
	// with a 10-second timeout.
	HTTPClient *http.Client
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Provider is an OpenID Connect provider. It reads the discovery document
// on first use, and again after a failed attempt, so a provider that is
// down when keel starts does not stop keel. Safe for concurrent use.
type Provider struct {
	cfg    Config
	scopes []string

	mu        sync.Mutex
	discovery *discovered // nil until discovery succeeds
}

// discovered is what discovery yields: the OAuth2 client and the ID token
// verifier.
type discovered struct {
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

var _ keel.IdentityProvider = (*Provider)(nil)

// New checks cfg and returns a Provider; it makes no request yet.
func New(cfg Config) (*Provider, error) {
	var problems []string
	if !nameRE.MatchString(cfg.Name) {
		problems = append(problems, "name must be 1 to 32 lower-case letters, digits, - or _")
	}
	if err := absoluteURL(cfg.Issuer); err != nil {
		problems = append(problems, "issuer "+err.Error())
	}
	if cfg.ClientID == "" {
		problems = append(problems, "client id is empty")
	}
	if cfg.ClientSecret == "" {
		problems = append(problems, "client secret is empty")
	}
	if err := absoluteURL(cfg.RedirectURL); err != nil {
		problems = append(problems, "redirect URL "+err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("oidc: provider %q: %s", cfg.Name, strings.Join(problems, "; "))
	}
	scopes := []string{gooidc.ScopeOpenID}
	extra := cfg.Scopes
	if len(extra) == 0 {
		extra = []string{"email", "profile"}
	}
	for _, s := range extra {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg, scopes: scopes}, nil
}

func absoluteURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return errors.New("is not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return nil
}

// Name returns the provider's name in keel.
func (p *Provider) Name() string { return p.cfg.Name }

// Scopes returns the scopes the provider is asked for, "openid" first.
func (p *Provider) Scopes() []string { return slices.Clone(p.scopes) }

// discover returns the provider's endpoints and verifier, reading the
// discovery document when it has not been read yet.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovery != nil {
		return p.discovery, nil
	}
	// The key set go-oidc makes fetches keys with this context's client
	// for as long as the provider lives, so it must not carry ctx's
	// deadline or cancellation.
	kctx := gooidc.ClientContext(context.WithoutCancel(ctx), p.cfg.HTTPClient)
	op, err := gooidc.NewProvider(kctx, p.cfg.Issuer)
	if err != nil {
		return nil, p.unreachable("reading the discovery document", err)
	}
	p.discovery = &discovered{
		oauth: oauth2.Config{
			ClientID:     p.cfg.ClientID,
			ClientSecret: p.cfg.ClientSecret,
			Endpoint:     op.Endpoint(),
			RedirectURL:  p.cfg.RedirectURL,
			Scopes:       p.scopes,
		},
		verifier: op.VerifierContext(kctx, &gooidc.Config{ClientID: p.cfg.ClientID}),
	}
	return p.discovery, nil
}

// AuthCodeURL returns the provider's authorization URL for a sign-in
// with the state, nonce and PKCE verifier (sent as its S256 challenge).
func (p *Provider) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return d.oauth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange trades the code (with the PKCE verifier) for tokens and returns
// the verified claims of the ID token.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (*keel.ProviderClaims, error) {
	if code == "" {
		return nil, p.refused("the callback carries no code", nil)
	}
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := d.oauth.Exchange(gooidc.ClientContext(ctx, p.cfg.HTTPClient), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, p.refused("the provider refused the code", err)
		}
		return nil, p.unreachable("exchanging the code", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, p.refused("the provider's answer carries no ID token", nil)
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		if isNetwork(err) {
			return nil, p.unreachable("fetching the provider's keys", err)
		}
		return nil, p.refused("the ID token is not valid", err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, p.refused("the ID token's nonce is not this sign-in's", nil)
	}
	var c struct {
		Email         string     `json:"email"`
		EmailVerified stringBool `json:"email_verified"`
		Name          string     `json:"name"`
	}
	if err := idt.Claims(&c); err != nil {
		return nil, p.refused("the ID token's claims cannot be read", err)
	}
	if idt.Subject == "" {
		return nil, p.refused("the ID token has no subject", nil)
	}
	return &keel.ProviderClaims{Subject: idt.Subject, Email: c.Email, EmailVerified: bool(c.EmailVerified), Name: c.Name}, nil
}

// refused is the error of a sign-in the provider or the checks refused.
func (p *Provider) refused(why string, cause error) error {
	if cause == nil {
		cause = errors.New(why)
	} else {
		cause = fmt.Errorf("%s: %w", why, cause)
	}
	return keel.Wrap(fmt.Errorf("oidc: %s: %w", p.cfg.Name, cause), keel.Unauthenticated, "the provider sign-in failed: "+why)
}

// unreachable is the error of a provider that did not answer as it must.
func (p *Provider) unreachable(doing string, cause error) error {
	return keel.Wrap(fmt.Errorf("oidc: %s: %s: %w", p.cfg.Name, doing, cause), keel.Unavailable, "the provider cannot be reached")
}

// isNetwork reports whether err is a failure to reach the provider rather
// than a refusal.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// stringBool reads email_verified as a JSON boolean or, as some providers
// send it, the string "true" or "false".
type stringBool bool

func (b *stringBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return fmt.Errorf("email_verified: want a boolean, got %s", data)
	}
	return nil
}
