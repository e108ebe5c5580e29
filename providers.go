package keel

import "context"

// IdentityProvider is an OpenID Connect provider that users sign in with.
// Package oidc implements it over the provider's discovery document, the
// authorization-code flow with PKCE and ID tokens verified by go-oidc;
// keel keeps the state, nonce and PKCE verifier of each sign-in and decides
// what the verified claims may do.
type IdentityProvider interface {
	// Name is the provider's name in keel: in URLs, in configuration and in
	// linked identities ("google", "corp"). It never changes.
	Name() string
	// AuthCodeURL returns the URL of the provider's authorization endpoint
	// that asks for a code, carrying the state, the nonce and the S256
	// challenge of the PKCE verifier.
	AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// Exchange trades an authorization code and its PKCE verifier for the
	// provider's tokens and returns the claims of the ID token once it is
	// verified: its signature, issuer, audience (this client), expiry, and
	// a nonce equal to nonce. A code, token or nonce the provider or the
	// checks refuse is Unauthenticated; a provider that cannot be reached
	// is Unavailable.
	Exchange(ctx context.Context, code, verifier, nonce string) (*ProviderClaims, error)
}

// ProviderClaims is what a provider vouches for about the account that
// signed in.
type ProviderClaims struct {
	// Subject is the provider's stable identifier of the account.
	Subject string
	// Email is the account's address; "" when the provider gave none.
	Email string
	// EmailVerified says the provider checked that the account owns Email.
	EmailVerified bool
	// Name is the account's display name; "" when the provider gave none.
	Name string
}
