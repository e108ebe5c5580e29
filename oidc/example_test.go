package oidc_test

import (
	"fmt"
	"log"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/oidc"
)

// A provider is configured once and given to keel; it reads the
// provider's discovery document at the first sign-in.
func ExampleNew() {
	google, err := oidc.New(oidc.Config{
		Name:         "google",
		Issuer:       "https://accounts.google.com",
		ClientID:     "1234.apps.googleusercontent.com",
		ClientSecret: "the client secret",
		// Register this at the provider; httpapi serves it.
		RedirectURL: "https://api.example.com/api/v1/login/oidc/google/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := keel.Config{IdentityProviders: []keel.IdentityProvider{google}}
	fmt.Println(cfg.IdentityProviders[0].Name(), google.Scopes())
	// Output: google [openid email profile]
}
