// Package oidc signs users in to keel through OpenID Connect providers
// with golang.org/x/oauth2 and github.com/coreos/go-oidc/v3: the
// provider's endpoints come from its discovery document, sign-ins use the
// authorization-code flow with PKCE (S256), and ID tokens are verified by
// go-oidc (signature against the provider's published keys, issuer,
// audience, expiry) with their nonce checked. A *Provider is a
// keel.IdentityProvider; give it to keel.Config.IdentityProviders.
package oidc
