package keel_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/webauthntest"
	"github.com/keel-dev/keel/passkey"
)

const passkeyOrigin = "https://app.keel.example"

func withPasskeys(t *testing.T) func(*keel.Config) {
	t.Helper()
	rp, err := passkey.New(passkey.Config{RPID: "keel.example", Origins: []string{passkeyOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	return func(c *keel.Config) { c.Passkeys = rp }
}

// registerPasskey registers a passkey named name for the session's user.
func (e *env) registerPasskey(t *testing.T, sess *keel.Session, auth *webauthntest.Authenticator, name string) (*keel.Passkey, *webauthntest.Credential) {
	t.Helper()
	return e.registerPasskeyFrom(context.Background(), t, sess, auth, name)
}

// registerPasskeyFrom is registerPasskey with the context of the calls.
func (e *env) registerPasskeyFrom(ctx context.Context, t *testing.T, sess *keel.Session, auth *webauthntest.Authenticator, name string) (*keel.Passkey, *webauthntest.Credential) {
	t.Helper()
	c, err := e.svc.BeginPasskeyRegistration(ctx, sess)
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration: %v", err)
	}
	resp, cred, err := auth.Register(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.FinishPasskeyRegistration(ctx, sess, keel.PasskeyRegistrationInput{Ceremony: c.ID, Name: name, Credential: resp})
	if err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return p, cred
}

// passkeyLogin signs in with the credential through a fresh ceremony.
func (e *env) passkeyLogin(t *testing.T, auth *webauthntest.Authenticator, cred *webauthntest.Credential) (*keel.Session, error) {
	t.Helper()
	c, err := e.svc.BeginPasskeyLogin(context.Background())
	if err != nil {
		t.Fatalf("BeginPasskeyLogin: %v", err)
	}
	resp, err := auth.Assert(c.Options, cred)
	if err != nil {
		t.Fatal(err)
	}
	return e.svc.FinishPasskeyLogin(context.Background(), keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp})
}

func TestPasskeys(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, withPasskeys(t))
	auth := &webauthntest.Authenticator{Origin: passkeyOrigin}
	ada := e.signUp(t, "ada@example.com")
	sess := e.login(t, ada.Email, goodPassword)

	laptop, cred := e.registerPasskey(t, sess, auth, "  Laptop  ")
	if laptop.Name != "Laptop" || laptop.UserID != ada.ID || laptop.SignCount != 0 || !laptop.LastUsedAt.IsZero() {
		t.Errorf("the registered passkey = %+v", laptop)
	}
	phone, phoneCred := e.registerPasskey(t, sess, auth, "Phone")

	t.Run("the user lists its passkeys newest first", func(t *testing.T) {
		ps, err := e.svc.Passkeys(ctx, ada)
		if err != nil || len(ps) != 2 || ps[0].ID != phone.ID || ps[1].ID != laptop.ID {
			t.Fatalf("Passkeys = %v, %v; want phone then laptop", ps, err)
		}
	})

	t.Run("a passkey alone signs its user in and records the use", func(t *testing.T) {
		s, err := e.passkeyLogin(t, auth, cred)
		if err != nil {
			t.Fatal(err)
		}
		if s.User.ID != ada.ID {
			t.Fatalf("signed in %s, want ada", s.User.Email)
		}
		if _, err := e.svc.Authenticate(ctx, s.Token); err != nil {
			t.Errorf("Authenticate the passkey's session: %v", err)
		}
		ps, _ := e.svc.Passkeys(ctx, ada)
		if got := ps[1]; got.SignCount != cred.Counter || !got.LastUsedAt.Equal(e.clock.Now().UTC().Truncate(time.Microsecond)) {
			t.Errorf("after a sign-in the passkey has counter %d, last used %v; want %d, now", got.SignCount, got.LastUsedAt, cred.Counter)
		}
	})

	t.Run("a ceremony works once: replaying its answer is refused", func(t *testing.T) {
		c, _ := e.svc.BeginPasskeyLogin(ctx)
		resp, _ := auth.Assert(c.Options, cred)
		if _, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp})
		wantErr(t, err, keel.ErrInvalidCeremony)
	})

	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error
		want error
	}{
		{"an answer to another ceremony's challenge is refused", func(t *testing.T) error {
			c1, _ := e.svc.BeginPasskeyLogin(ctx)
			c2, _ := e.svc.BeginPasskeyLogin(ctx)
			resp, _ := auth.Assert(c1.Options, cred)
			_, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c2.ID, Credential: resp})
			return err
		}, keel.ErrPasskeyRefused},
		{"an answer from another origin is refused", func(t *testing.T) error {
			_, err := e.passkeyLogin(t, &webauthntest.Authenticator{Origin: "https://evil.example"}, cred)
			return err
		}, keel.ErrPasskeyRefused},
		{"a cloned authenticator, whose counter went backwards, is refused", func(t *testing.T) error {
			clone := *cred
			clone.Counter = 0
			_, err := e.passkeyLogin(t, auth, &clone)
			return err
		}, keel.ErrPasskeyRefused},
		{"a ceremony older than its lifetime is refused", func(t *testing.T) error {
			c, _ := e.svc.BeginPasskeyLogin(ctx)
			resp, _ := auth.Assert(c.Options, phoneCred)
			e.clock.Advance(7 * time.Minute)
			_, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp})
			return err
		}, keel.ErrInvalidCeremony},
		{"a registration ceremony is not a sign-in ceremony", func(t *testing.T) error {
			c, _ := e.svc.BeginPasskeyRegistration(ctx, sess)
			c2, _ := e.svc.BeginPasskeyLogin(ctx)
			resp, _ := auth.Assert(c2.Options, cred)
			_, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp})
			return err
		}, keel.ErrInvalidCeremony},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.run(t), tc.want) })
	}

	t.Run("another user's credential claiming ada's user handle is refused", func(t *testing.T) {
		bob := e.signUp(t, "bob@example.com")
		_, bobCred := e.registerPasskey(t, e.login(t, bob.Email, goodPassword), auth, "Bob's key")
		c, _ := e.svc.BeginPasskeyLogin(ctx)
		resp, _ := auth.AssertAs(c.Options, bobCred, cred.UserHandle)
		_, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp})
		wantErr(t, err, keel.ErrPasskeyRefused)
	})

	t.Run("a registration ceremony begun by one user cannot be finished by another", func(t *testing.T) {
		c, _ := e.svc.BeginPasskeyRegistration(ctx, sess)
		resp, _, _ := auth.Register(c.Options)
		bob, _ := e.store.UserByEmail(ctx, "bob@example.com")
		_, err := e.svc.FinishPasskeyRegistration(ctx, e.login(t, bob.Email, goodPassword), keel.PasskeyRegistrationInput{Ceremony: c.ID, Name: "stolen", Credential: resp})
		wantErr(t, err, keel.ErrInvalidCeremony)
	})

	t.Run("a registration needs a name of 1 to 64 characters", func(t *testing.T) {
		for _, name := range []string{"", "   ", string(make([]rune, 65))} {
			c, _ := e.svc.BeginPasskeyRegistration(ctx, sess)
			resp, _, _ := auth.Register(c.Options)
			_, err := e.svc.FinishPasskeyRegistration(ctx, sess, keel.PasskeyRegistrationInput{Ceremony: c.ID, Name: name, Credential: resp})
			wantCode(t, err, keel.Invalid)
		}
	})

	t.Run("a registration answer from another origin is refused", func(t *testing.T) {
		c, _ := e.svc.BeginPasskeyRegistration(ctx, sess)
		resp, _, _ := (&webauthntest.Authenticator{Origin: "https://evil.example"}).Register(c.Options)
		_, err := e.svc.FinishPasskeyRegistration(ctx, sess, keel.PasskeyRegistrationInput{Ceremony: c.ID, Name: "x", Credential: resp})
		wantErr(t, err, keel.ErrPasskeyNotRegistered)
	})

	t.Run("a user deletes its own passkey, never another's, and a deleted passkey signs no one in", func(t *testing.T) {
		bob, _ := e.store.UserByEmail(ctx, "bob@example.com")
		wantErr(t, e.svc.DeletePasskey(ctx, bob, phone.ID), keel.ErrPasskeyNotFound)
		if err := e.svc.DeletePasskey(ctx, ada, phone.ID); err != nil {
			t.Fatal(err)
		}
		_, err := e.passkeyLogin(t, auth, phoneCred)
		wantErr(t, err, keel.ErrPasskeyRefused)
	})
}

func TestThePasskeyOfAnAccountWithoutAPasswordIsItsLastWayIn(t *testing.T) {
	with, ops := withProviders(t, "google")
	e := newEnv(t, with, withPasskeys(t))
	ctx := context.Background()
	ops["google"].User("sub-pat", "pat@example.com", true)
	sess, err := e.providerSession(t, e.callback(t, "google"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.registerPasskey(t, sess, &webauthntest.Authenticator{Origin: passkeyOrigin}, "Key")
	ids, _ := e.svc.Identities(ctx, sess.User)
	if err := e.svc.UnlinkIdentity(ctx, sess.User, ids[0].ID); err != nil {
		t.Fatalf("unlinking the identity while a passkey remains: %v", err)
	}
	wantErr(t, e.svc.DeletePasskey(ctx, sess.User, p.ID), keel.ErrLastSignInMethod)
}

func TestConcurrentUsesOfOneCounterValueSignInOnce(t *testing.T) {
	e := newEnv(t, withPasskeys(t))
	auth := &webauthntest.Authenticator{Origin: passkeyOrigin}
	u := e.signUp(t, "ada@example.com")
	_, cred := e.registerPasskey(t, e.login(t, u.Email, goodPassword), auth, "Key")
	// A cloned authenticator answers several ceremonies with the same
	// counter value; at most one of them may sign in.
	const n = 4
	inputs := make([]keel.PasskeyLoginInput, n)
	for i := range inputs {
		c, err := e.svc.BeginPasskeyLogin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		clone := *cred
		resp, _ := auth.Assert(c.Options, &clone)
		inputs[i] = keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = e.svc.FinishPasskeyLogin(context.Background(), inputs[i]) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if keel.ErrorCode(err) != keel.Unauthenticated {
			t.Errorf("a losing sign-in: %v, want ErrPasskeyRefused", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d sign-ins succeeded, want exactly 1", ok)
	}
}

func TestPasskeysOff(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.BeginPasskeyLogin(context.Background())
	wantErr(t, err, keel.ErrPasskeysDisabled)
	u := e.signUp(t, "ada@example.com")
	_, err = e.svc.BeginPasskeyRegistration(context.Background(), e.login(t, u.Email, goodPassword))
	wantErr(t, err, keel.ErrPasskeysDisabled)
}

func TestAPasskeyNameIsText(t *testing.T) {
	e := newEnv(t, withPasskeys(t))
	auth := &webauthntest.Authenticator{Origin: passkeyOrigin}
	u := e.signUp(t, "ada@example.com")
	sess := e.login(t, u.Email, goodPassword)
	for _, name := range []string{"lap\x00top", "lap\ntop", "\x1b[31mred"} {
		c, _ := e.svc.BeginPasskeyRegistration(context.Background(), sess)
		resp, _, _ := auth.Register(c.Options)
		_, err := e.svc.FinishPasskeyRegistration(context.Background(), sess, keel.PasskeyRegistrationInput{Ceremony: c.ID, Name: name, Credential: resp})
		wantCode(t, err, keel.Invalid)
	}
}
