package keel_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

// lockoutEnv has ada, with a device token from an earlier login, and her
// account locked out by three wrong guesses from strangers.
func lockoutEnv(t *testing.T, mod ...func(*keel.Config)) (e *env, device string) {
	t.Helper()
	e = newEnv(t, append([]func(*keel.Config){func(c *keel.Config) {
		c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: 15 * time.Minute}
		c.RateLimits.LoginPerDevice = keel.Limit{Max: 3, Window: 15 * time.Minute}
	}}, mod...)...)
	e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")
	device = e.login(t, "ada@example.com", goodPassword).DeviceToken
	if device == "" {
		t.Fatal("a login gave no device token")
	}
	for range 3 {
		e.attempt(t, "ada@example.com", "wrong password!", "", keel.ErrIncorrectLogin)
	}
	e.attempt(t, "ada@example.com", goodPassword, "", keel.ErrTooManyRequests)
	return e, device
}

// attempt logs in and fails t unless the outcome is want (nil: success).
func (e *env) attempt(t *testing.T, email, password, device string, want error) *keel.Session {
	t.Helper()
	s, err := e.svc.Login(context.Background(), keel.LoginInput{Email: email, Password: password, DeviceToken: device})
	if want == nil {
		if err != nil {
			t.Fatalf("login with device %.10q: %v", device, err)
		}
		return s
	}
	wantErr(t, err, want)
	return nil
}

func TestADeviceTheOwnerLoggedInFromIsNotLockedOut(t *testing.T) {
	t.Run("a device token logs in during the account's lockout, and a new one comes back", func(t *testing.T) {
		e, device := lockoutEnv(t)
		s := e.attempt(t, "ada@example.com", goodPassword, device, nil)
		if s.DeviceToken == "" || s.DeviceToken == device {
			t.Errorf("the login gave device token %q, want a fresh one", s.DeviceToken)
		}
		e.attempt(t, "ada@example.com", goodPassword, s.DeviceToken, nil)
	})
	t.Run("the device's success leaves the lockout of strangers standing", func(t *testing.T) {
		e, device := lockoutEnv(t)
		e.attempt(t, "ada@example.com", goodPassword, device, nil)
		e.attempt(t, "ada@example.com", goodPassword, "", keel.ErrTooManyRequests)
	})
	t.Run("untrusted clients are refused right or wrong, so the refusal tells nothing", func(t *testing.T) {
		e, _ := lockoutEnv(t)
		e.attempt(t, "ada@example.com", goodPassword, "", keel.ErrTooManyRequests)
		e.attempt(t, "ada@example.com", "wrong password!", "", keel.ErrTooManyRequests)
	})
	t.Run("a device's own failures lock out that device alone", func(t *testing.T) {
		e, device := lockoutEnv(t)
		other := e.attempt(t, "ada@example.com", goodPassword, device, nil).DeviceToken
		for range 3 {
			e.attempt(t, "ada@example.com", "wrong password!", device, keel.ErrIncorrectLogin)
		}
		e.attempt(t, "ada@example.com", goodPassword, device, keel.ErrTooManyRequests)
		e.attempt(t, "ada@example.com", "wrong password!", device, keel.ErrTooManyRequests)
		e.attempt(t, "ada@example.com", goodPassword, other, nil)
	})
	t.Run("a device's failures do not count against the account", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) { c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: time.Hour} })
		e.signUp(t, "ada@example.com")
		device := e.login(t, "ada@example.com", goodPassword).DeviceToken
		for range 3 {
			e.attempt(t, "ada@example.com", "wrong password!", device, keel.ErrIncorrectLogin)
		}
		e.attempt(t, "ada@example.com", goodPassword, "", nil)
	})
	t.Run("the lockouts end with their window", func(t *testing.T) {
		e, _ := lockoutEnv(t)
		e.clock.Advance(16 * time.Minute)
		e.attempt(t, "ada@example.com", goodPassword, "", nil)
	})
	t.Run("the per-address limit holds a trusted device too", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) { c.RateLimits.LoginPerAddress = keel.Limit{Max: 2, Window: time.Hour} })
		e.signUp(t, "ada@example.com")
		device := e.login(t, "ada@example.com", goodPassword).DeviceToken
		for _, email := range []string{"x@example.com", "y@example.com"} {
			_, err := e.svc.Login(context.Background(), keel.LoginInput{Email: email, Password: "wrong password!", ClientAddr: "192.0.2.1"})
			wantErr(t, err, keel.ErrIncorrectLogin)
		}
		_, err := e.svc.Login(context.Background(), keel.LoginInput{Email: "ada@example.com", Password: goodPassword, ClientAddr: "192.0.2.1", DeviceToken: device})
		wantErr(t, err, keel.ErrTooManyRequests)
	})
}

func TestADeviceTokenNotMadeForTheAccountIsNotTrusted(t *testing.T) {
	e, device := lockoutEnv(t)
	bobs := e.login(t, "bob@example.com", goodPassword).DeviceToken
	raw, err := base64.RawURLEncoding.DecodeString(device)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 1
	otherNonce := bytes.Clone(raw)
	otherNonce[0] ^= 1
	other, err := keel.New(e.store, keel.Config{Argon2: cheap, Now: e.clock.Now, DeviceKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, err := other.Login(context.Background(), keel.LoginInput{Email: "bob@example.com", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token string
	}{
		{"another account's device token", bobs},
		{"a token with its MAC altered", base64.RawURLEncoding.EncodeToString(flipped)},
		{"a token with its nonce altered", base64.RawURLEncoding.EncodeToString(otherNonce)},
		{"a token cut short", device[:len(device)-2]},
		{"random bytes of the right length", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{1}, len(raw)))},
		{"a session token", e.login(t, "bob@example.com", goodPassword).Token},
		{"a token signed with another key", otherKeys.DeviceToken},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused during the lockout", func(t *testing.T) {
			e.attempt(t, "ada@example.com", goodPassword, tt.token, keel.ErrTooManyRequests)
		})
	}
	t.Run("and ada's own still works", func(t *testing.T) {
		e.attempt(t, "ada@example.com", goodPassword, device, nil)
	})
}

func TestEveryServiceOnAStoreSharesTheDeviceKey(t *testing.T) {
	e, device := lockoutEnv(t)
	second, err := keel.New(e.store, keel.Config{Argon2: cheap, Now: e.clock.Now,
		RateLimits: keel.RateLimits{LoginPerAccount: keel.Limit{Max: 3, Window: 15 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Login(context.Background(), keel.LoginInput{Email: "ada@example.com", Password: goodPassword, DeviceToken: device}); err != nil {
		t.Fatalf("another Service on the store does not trust the device: %v", err)
	}
}

func TestAConfiguredDeviceKeyMustBeLongEnough(t *testing.T) {
	_, err := keel.New(newEnv(t).store, keel.Config{DeviceKey: make([]byte, keel.DeviceKeyLength-1)})
	if err == nil {
		t.Fatal("New took a 31-byte device key")
	}
	if _, err := keel.New(newEnv(t).store, keel.Config{DeviceKey: make([]byte, keel.DeviceKeyLength)}); err != nil {
		t.Fatal(err)
	}
}

func TestUnlockLiftsTheAccountsLockout(t *testing.T) {
	ctx := context.Background()
	t.Run("a superuser unlocks an account", func(t *testing.T) {
		e, _ := lockoutEnv(t)
		root := e.superuser(t, "root@example.com")
		ada, err := e.store.UserByEmail(ctx, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unlock(ctx, root, ada.ID); err != nil {
			t.Fatal(err)
		}
		e.attempt(t, "ada@example.com", goodPassword, "", nil)
	})
	t.Run("a user who is not a superuser cannot", func(t *testing.T) {
		e, _ := lockoutEnv(t)
		bob, err := e.store.UserByEmail(ctx, "bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		ada, _ := e.store.UserByEmail(ctx, "ada@example.com")
		wantErr(t, e.svc.Unlock(ctx, bob, ada.ID), keel.ErrNotSuperuser)
		e.attempt(t, "ada@example.com", goodPassword, "", keel.ErrTooManyRequests)
	})
	t.Run("an operator unlocks by email, however it is written", func(t *testing.T) {
		e, _ := lockoutEnv(t)
		if err := e.svc.UnlockEmail(ctx, "  ADA@example.com "); err != nil {
			t.Fatal(err)
		}
		e.attempt(t, "ada@example.com", goodPassword, "", nil)
		if err := e.svc.UnlockEmail(ctx, "nobody@example.com"); err != nil {
			t.Errorf("unlocking an email no account has: %v", err)
		}
	})
}

func TestALoggedInOwnerChangesThePasswordDuringALockout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *keel.Config) { c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: time.Hour} })
	e.signUp(t, "ada@example.com")
	sess := e.login(t, "ada@example.com", goodPassword)
	for range 3 {
		e.attempt(t, "ada@example.com", "wrong password!", "", keel.ErrIncorrectLogin)
	}
	if err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a brand new passphrase"}); err != nil {
		t.Fatalf("ChangePassword during the lockout: %v", err)
	}

	t.Run("wrong current passwords are limited per session", func(t *testing.T) {
		for range 3 {
			err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: "wrong password!", NewPassword: "another new passphrase"})
			wantErr(t, err, keel.ErrIncorrectPassword)
		}
		err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: "a brand new passphrase", NewPassword: "another new passphrase"})
		wantErr(t, err, keel.ErrTooManyRequests)
	})
}
