package passkey_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/webauthntest"
	"github.com/keel-dev/keel/passkey"
)

const origin = "https://app.keel.example"

func newRP(t *testing.T) *passkey.RelyingParty {
	t.Helper()
	rp, err := passkey.New(passkey.Config{RPID: "keel.example", RPName: "keel", Origins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// account is a user with its passkeys, kept by the test as keel would.
type account struct {
	user     keel.PasskeyUser
	passkeys []*keel.Passkey
	cred     *webauthntest.Credential
}

func newAccount(name string) *account {
	h := make([]byte, 64)
	_, _ = rand.Read(h)
	return &account{user: keel.PasskeyUser{Handle: h, Name: name + "@example.com", DisplayName: name}}
}

// register registers a passkey of a with the authenticator.
func register(t *testing.T, rp *passkey.RelyingParty, auth *webauthntest.Authenticator, a *account) {
	t.Helper()
	options, state, err := rp.BeginRegistration(a.user, a.passkeys)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	resp, cred, err := auth.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rp.FinishRegistration(a.user, state, resp)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if !bytes.Equal(p.CredentialID, cred.ID) {
		t.Fatalf("the passkey's credential id = %x, want the authenticator's %x", p.CredentialID, cred.ID)
	}
	a.passkeys = append(a.passkeys, p)
	a.cred = cred
}

// owners finds accounts by user handle, as keel's store does.
func owners(accounts ...*account) func([]byte) (keel.PasskeyUser, []*keel.Passkey, error) {
	return func(h []byte) (keel.PasskeyUser, []*keel.Passkey, error) {
		for _, a := range accounts {
			if bytes.Equal(a.user.Handle, h) {
				return a.user, a.passkeys, nil
			}
		}
		return keel.PasskeyUser{}, nil, keel.Errorf(keel.NotFound, "no such user handle")
	}
}

func TestRegistration(t *testing.T) {
	rp := newRP(t)
	auth := &webauthntest.Authenticator{Origin: origin, AAGUID: bytes.Repeat([]byte{7}, 16)}
	ada := newAccount("ada")
	register(t, rp, auth, ada)
	p := ada.passkeys[0]
	if len(p.PublicKey) == 0 || !bytes.Equal(p.AAGUID, auth.AAGUID) {
		t.Errorf("passkey = %+v, want its public key and the authenticator's AAGUID", p)
	}
	if !p.Flags.UserPresent || !p.Flags.UserVerified || !p.Flags.BackupEligible {
		t.Errorf("flags = %+v, want user present and verified, backup eligible", p.Flags)
	}
	if strings.Join(p.Transports, ",") != "internal,hybrid" {
		t.Errorf("transports = %q", p.Transports)
	}

	t.Run("the options exclude the passkeys the user has and ask for a discoverable one", func(t *testing.T) {
		options, _, err := rp.BeginRegistration(ada.user, ada.passkeys)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"excludeCredentials":[{"type":"public-key","id":"`, `"residentKey":"required"`, `"userVerification":"required"`, `"rp":{"name":"keel","id":"keel.example"}`} {
			if !strings.Contains(string(options), want) {
				t.Errorf("the options %s lack %s", options, want)
			}
		}
	})

	for _, tc := range []struct {
		name   string
		attack func(t *testing.T) error
	}{
		{"a response from another origin is refused", func(t *testing.T) error {
			options, state, _ := rp.BeginRegistration(ada.user, nil)
			resp, _, _ := (&webauthntest.Authenticator{Origin: "https://evil.example"}).Register(options)
			_, err := rp.FinishRegistration(ada.user, state, resp)
			return err
		}},
		{"a response to another ceremony's challenge is refused", func(t *testing.T) error {
			options, _, _ := rp.BeginRegistration(ada.user, nil)
			_, state, _ := rp.BeginRegistration(ada.user, nil)
			resp, _, _ := auth.Register(options)
			_, err := rp.FinishRegistration(ada.user, state, resp)
			return err
		}},
		{"a response that is not a credential is refused", func(t *testing.T) error {
			_, state, _ := rp.BeginRegistration(ada.user, nil)
			_, err := rp.FinishRegistration(ada.user, state, []byte(`{"id":"x"}`))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.attack(t); keel.ErrorCode(err) != keel.Invalid {
				t.Errorf("err = %v, want Invalid", err)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	rp := newRP(t)
	auth := &webauthntest.Authenticator{Origin: origin}
	ada, bob := newAccount("ada"), newAccount("bob")
	register(t, rp, auth, ada)
	register(t, rp, auth, bob)

	t.Run("a discoverable passkey signs its user in", func(t *testing.T) {
		options, state, err := rp.BeginLogin(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(options), "allowCredentials") {
			t.Errorf("discoverable options %s name credentials", options)
		}
		resp, _ := auth.Assert(options, ada.cred)
		got, err := rp.FinishLogin(state, resp, owners(ada, bob))
		if err != nil {
			t.Fatalf("FinishLogin: %v", err)
		}
		if !bytes.Equal(got.UserHandle, ada.user.Handle) || !bytes.Equal(got.CredentialID, ada.cred.ID) || got.SignCount != ada.cred.Counter {
			t.Errorf("assertion = %+v, want ada's credential with counter %d", got, ada.cred.Counter)
		}
		ada.passkeys[0].SignCount = got.SignCount
	})

	t.Run("a passkey as second factor signs in the user it was begun for", func(t *testing.T) {
		options, state, err := rp.BeginLogin(&bob.user, bob.passkeys)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(options), "allowCredentials") {
			t.Errorf("second-factor options %s name no credentials", options)
		}
		resp, _ := auth.Assert(options, bob.cred)
		got, err := rp.FinishLogin(state, resp, owners(ada, bob))
		if err != nil {
			t.Fatalf("FinishLogin: %v", err)
		}
		if !bytes.Equal(got.UserHandle, bob.user.Handle) {
			t.Errorf("assertion of %x, want bob's", got.UserHandle)
		}
		bob.passkeys[0].SignCount = got.SignCount
	})

	for _, tc := range []struct {
		name   string
		attack func(t *testing.T) error
	}{
		{"a response from another origin is refused", func(t *testing.T) error {
			options, state, _ := rp.BeginLogin(nil, nil)
			resp, _ := (&webauthntest.Authenticator{Origin: "https://evil.example"}).Assert(options, ada.cred)
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
		{"a response to another ceremony's challenge is refused", func(t *testing.T) error {
			options, _, _ := rp.BeginLogin(nil, nil)
			_, state, _ := rp.BeginLogin(nil, nil)
			resp, _ := auth.Assert(options, ada.cred)
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
		{"a signature counter that went backwards (a cloned authenticator) is refused", func(t *testing.T) error {
			ada.passkeys[0].SignCount = ada.cred.Counter + 5 // the genuine authenticator is ahead
			defer func() { ada.passkeys[0].SignCount = ada.cred.Counter }()
			options, state, _ := rp.BeginLogin(nil, nil)
			resp, _ := auth.Assert(options, ada.cred)
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
		{"one user's credential claiming another user's handle is refused", func(t *testing.T) error {
			options, state, _ := rp.BeginLogin(nil, nil)
			resp, _ := auth.AssertAs(options, ada.cred, bob.user.Handle)
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
		{"another user's passkey as the second factor is refused", func(t *testing.T) error {
			options, state, _ := rp.BeginLogin(&bob.user, bob.passkeys)
			resp, _ := auth.Assert(options, ada.cred)
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
		{"an unknown user handle is refused", func(t *testing.T) error {
			options, state, _ := rp.BeginLogin(nil, nil)
			stranger := newAccount("stranger")
			resp, _ := auth.AssertAs(options, ada.cred, stranger.user.Handle)
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
		{"a signature by another key is refused", func(t *testing.T) error {
			options, state, _ := rp.BeginLogin(nil, nil)
			forged := *ada.cred
			forged.Key = bob.cred.Key
			resp, _ := auth.Assert(options, &forged)
			ada.cred.Counter = forged.Counter
			_, err := rp.FinishLogin(state, resp, owners(ada, bob))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.attack(t)
			t.Log(err)
			if keel.ErrorCode(err) != keel.Unauthenticated {
				t.Errorf("err = %v, want Unauthenticated", err)
			}
		})
	}

	t.Run("a store that fails while finding the owner is its error, not a refused passkey", func(t *testing.T) {
		options, state, _ := rp.BeginLogin(nil, nil)
		resp, _ := auth.Assert(options, ada.cred)
		down := keel.Errorf(keel.Unavailable, "the store is down")
		_, err := rp.FinishLogin(state, resp, func([]byte) (keel.PasskeyUser, []*keel.Passkey, error) {
			return keel.PasskeyUser{}, nil, down
		})
		if !errors.Is(err, down) {
			t.Errorf("err = %v, want the store's", err)
		}
	})
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  passkey.Config
	}{
		{"an empty relying party id is refused", passkey.Config{Origins: []string{origin}}},
		{"no origins are refused", passkey.Config{RPID: "keel.example"}},
		{"an origin with a path is refused", passkey.Config{RPID: "keel.example", Origins: []string{origin + "/app"}}},
		{"an origin without a scheme is refused", passkey.Config{RPID: "keel.example", Origins: []string{"app.keel.example"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := passkey.New(tc.cfg); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}
