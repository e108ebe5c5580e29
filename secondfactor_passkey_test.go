package keel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/webauthntest"
)

// markVerified marks the user's address verified behind keel's back, as a
// completed verification would.
func (e *env) markVerified(t *testing.T, u *keel.User) {
	t.Helper()
	u.IsVerified = true
	if err := e.store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

func wantChallenge(t *testing.T, err error) *keel.Challenge {
	t.Helper()
	var ch *keel.Challenge
	if !errors.As(err, &ch) {
		t.Fatalf("err = %v, want a *Challenge", err)
	}
	return ch
}

func TestProviderAccountsLinkOnlyToVerifiedAddresses(t *testing.T) {
	ctx := context.Background()
	with, ops := withProviders(t, "google")
	e := newEnv(t, with)
	ada := e.signUp(t, "ada@example.com")

	t.Run("while ada's address is unverified the provider's account is refused", func(t *testing.T) {
		ops["google"].User("sub-ada", "ada@example.com", true)
		_, err := e.providerSession(t, e.callback(t, "google"))
		wantErr(t, err, keel.ErrAccountNotLinked)
	})
	t.Run("once it is verified, the account is linked to ada and signs her in", func(t *testing.T) {
		e.markVerified(t, ada)
		ops["google"].User("sub-ada", "ada@example.com", true)
		sess, err := e.providerSession(t, e.callback(t, "google"))
		if err != nil {
			t.Fatal(err)
		}
		if sess.User.ID != ada.ID {
			t.Fatalf("signed in %s, want ada", sess.User.Email)
		}
		ids, _ := e.svc.Identities(ctx, sess.User)
		if len(ids) != 1 || ids[0].Subject != "sub-ada" {
			t.Errorf("identities %+v", ids)
		}
	})
	t.Run("but never when the provider does not vouch for the address", func(t *testing.T) {
		bob := e.signUp(t, "bob@example.com")
		e.markVerified(t, bob)
		ops["google"].User("sub-bob", "bob@example.com", false)
		_, err := e.providerSession(t, e.callback(t, "google"))
		wantErr(t, err, keel.ErrProviderEmailUnverified)
	})
	t.Run("a user a provider made has a verified address", func(t *testing.T) {
		ops["google"].User("sub-cy", "cy@example.com", true)
		sess, err := e.providerSession(t, e.callback(t, "google"))
		if err != nil {
			t.Fatal(err)
		}
		if !sess.User.IsVerified {
			t.Error("the provider's new user is not verified")
		}
	})
}

func TestSignInsOfUsersWithASecondFactor(t *testing.T) {
	ctx := context.Background()
	with, ops := withProviders(t, "google")
	e := newEnv(t, with, withPasskeys(t), withTOTP)
	auth := &webauthntest.Authenticator{Origin: passkeyOrigin}
	sess, secret, _ := e.enrolled(t, "ada@example.com")
	ada := sess.User
	e.markVerified(t, ada)
	_, cred := e.registerPasskey(t, sess, auth, "Key")
	bob := e.signUp(t, "bob@example.com")
	_, bobCred := e.registerPasskey(t, e.login(t, bob.Email, goodPassword), auth, "Bob's key")

	// secondFactor completes ch with cred through a fresh ceremony.
	secondFactor := func(t *testing.T, ch *keel.Challenge, c *webauthntest.Credential) (*keel.Session, error) {
		t.Helper()
		cer, err := e.svc.BeginPasskeySecondFactor(ctx, ch.Token)
		if err != nil {
			t.Fatalf("BeginPasskeySecondFactor: %v", err)
		}
		resp, err := auth.Assert(cer.Options, c)
		if err != nil {
			t.Fatal(err)
		}
		return e.svc.CompleteLoginWithPasskey(ctx, keel.PasskeySecondFactorInput{Challenge: ch.Token, Ceremony: cer.ID, Credential: resp})
	}

	t.Run("a provider sign-in answers the challenge, never a session, and a code completes it", func(t *testing.T) {
		ops["google"].User("sub-ada", "ada@example.com", true)
		_, err := e.providerSession(t, e.callback(t, "google"))
		ch := wantChallenge(t, err)
		s, err := e.complete(ch, e.code(t, secret), "")
		if err != nil || s.User.ID != ada.ID {
			t.Fatalf("CompleteLogin = %v, %v", s, err)
		}
		e.nextStep()
	})

	t.Run("a passkey sign-in answers the challenge too", func(t *testing.T) {
		_, err := e.passkeyLogin(t, auth, cred)
		wantChallenge(t, err)
	})

	t.Run("a passkey completes a password login's challenge", func(t *testing.T) {
		ch := e.challenge(t, "ada@example.com")
		s, err := secondFactor(t, ch, cred)
		if err != nil {
			t.Fatalf("CompleteLoginWithPasskey: %v", err)
		}
		if s.User.ID != ada.ID || s.DeviceToken == "" {
			t.Errorf("session %+v: want ada's, with a device token", s)
		}
		if _, err := e.svc.Authenticate(ctx, s.Token); err != nil {
			t.Errorf("Authenticate: %v", err)
		}
		// The challenge was spent with it.
		_, err = e.complete(ch, e.code(t, secret), "")
		wantErr(t, err, keel.ErrInvalidChallenge)
	})

	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error
		want error
	}{
		{"another user's passkey is refused", func(t *testing.T) error {
			_, err := secondFactor(t, e.challenge(t, "ada@example.com"), bobCred)
			return err
		}, keel.ErrPasskeyRefused},
		{"a replayed ceremony is refused", func(t *testing.T) error {
			ch := e.challenge(t, "ada@example.com")
			cer, _ := e.svc.BeginPasskeySecondFactor(ctx, ch.Token)
			resp, _ := auth.Assert(cer.Options, cred)
			in := keel.PasskeySecondFactorInput{Challenge: ch.Token, Ceremony: cer.ID, Credential: resp}
			if _, err := e.svc.CompleteLoginWithPasskey(ctx, in); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.CompleteLoginWithPasskey(ctx, in)
			return err
		}, keel.ErrInvalidChallenge},
		{"a sign-in ceremony never serves as a second factor", func(t *testing.T) error {
			ch := e.challenge(t, "ada@example.com")
			c, _ := e.svc.BeginPasskeyLogin(ctx)
			resp, _ := auth.Assert(c.Options, cred)
			_, err := e.svc.CompleteLoginWithPasskey(ctx, keel.PasskeySecondFactorInput{Challenge: ch.Token, Ceremony: c.ID, Credential: resp})
			return err
		}, keel.ErrInvalidCeremony},
		{"a ceremony of cy's challenge does not complete ada's", func(t *testing.T) error {
			cySession, _, _ := e.enrolled(t, "cy@example.com")
			_, cyCred := e.registerPasskey(t, cySession, auth, "Cy's key")
			chCy := e.challenge(t, "cy@example.com")
			cer, _ := e.svc.BeginPasskeySecondFactor(ctx, chCy.Token)
			resp, _ := auth.Assert(cer.Options, cyCred)
			chAda := e.challenge(t, "ada@example.com")
			_, err := e.svc.CompleteLoginWithPasskey(ctx, keel.PasskeySecondFactorInput{Challenge: chAda.Token, Ceremony: cer.ID, Credential: resp})
			return err
		}, keel.ErrInvalidCeremony},
		{"a made-up challenge is refused", func(t *testing.T) error {
			_, err := e.svc.BeginPasskeySecondFactor(ctx, "made-up")
			return err
		}, keel.ErrInvalidChallenge},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.run(t), tc.want) })
	}

	t.Run("a user without passkeys cannot begin one", func(t *testing.T) {
		_, _, _ = e.enrolled(t, "dee@example.com")
		ch := e.challenge(t, "dee@example.com")
		_, err := e.svc.BeginPasskeySecondFactor(ctx, ch.Token)
		wantErr(t, err, keel.ErrNoPasskeys)
	})
}

func TestRequiredVerificationHoldsForPasskeySignIns(t *testing.T) {
	e := newEnv(t, withPasskeys(t), verifying(keel.VerificationRequired))
	auth := &webauthntest.Authenticator{Origin: passkeyOrigin}
	u := e.signUp(t, "ada@example.com")
	e.markVerified(t, u)
	sess := e.login(t, u.Email, goodPassword)
	_, cred := e.registerPasskey(t, sess, auth, "Key")
	u.IsVerified = false // an admin unmarked it, say
	if err := e.store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	_, err := e.passkeyLogin(t, auth, cred)
	wantErr(t, err, keel.ErrEmailNotVerified)
}
