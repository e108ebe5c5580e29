package passkey_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/passkey"
	"github.com/keel-dev/keel/store/memstore"
)

// Passkeys are bound to a domain (the relying-party id) and registered
// and used from the pages of the origins given.
func ExampleNew() {
	rp, err := passkey.New(passkey.Config{
		RPID:    "example.com",
		RPName:  "Example",
		Origins: []string{"https://app.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := keel.New(memstore.New(), keel.Config{Passkeys: rp})
	if err != nil {
		log.Fatal(err)
	}
	c, err := svc.BeginPasskeyLogin(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// The browser passes the options to navigator.credentials.get and
	// posts its answer back with the ceremony's id.
	fmt.Println(strings.Contains(string(c.Options), `"rpId":"example.com"`), strings.Contains(string(c.Options), `"userVerification":"required"`))
	// Output: true true
}
