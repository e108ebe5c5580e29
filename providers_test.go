package keel_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/oidctest"
	"github.com/keel-dev/keel/oidc"
)

// withProviders starts a mock OpenID Connect provider for each name and
// configures keel with them.
func withProviders(t *testing.T, names ...string) (func(*keel.Config), map[string]*oidctest.Provider) {
	t.Helper()
	ops := map[string]*oidctest.Provider{}
	var ps []keel.IdentityProvider
	for _, name := range names {
		op := oidctest.Start(t)
		p, err := oidc.New(oidc.Config{Name: name, Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: op.ClientSecret,
			RedirectURL: "https://keel.example/login/oidc/" + name + "/callback"})
		if err != nil {
			t.Fatal(err)
		}
		ops[name] = op
		ps = append(ps, p)
	}
	return func(c *keel.Config) { c.IdentityProviders = ps }, ops
}

// callback begins a sign-in with the provider and plays the browser at
// it: the result is the callback the provider sends the browser to.
func (e *env) callback(t *testing.T, provider string) keel.ProviderCallback {
	t.Helper()
	authURL, state, err := e.svc.BeginProviderLogin(context.Background(), provider)
	if err != nil {
		t.Fatalf("BeginProviderLogin(%s): %v", provider, err)
	}
	cb := oidctest.Authorize(t, authURL)
	if got := cb.Query().Get("state"); got != state {
		t.Fatalf("the provider sent state %q back, want %q", got, state)
	}
	return callbackOf(provider, cb)
}

func callbackOf(provider string, u *url.URL) keel.ProviderCallback {
	q := u.Query()
	return keel.ProviderCallback{Provider: provider, State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}
}

// providerSession finishes a callback and redeems its login code.
func (e *env) providerSession(t *testing.T, cb keel.ProviderCallback) (*keel.Session, error) {
	t.Helper()
	code, err := e.svc.FinishProviderLogin(context.Background(), cb)
	if err != nil {
		return nil, err
	}
	return e.svc.RedeemLoginCode(context.Background(), code)
}

func TestProviderSignUpAndSignIn(t *testing.T) {
	with, ops := withProviders(t, "google")
	e := newEnv(t, with)
	ctx := context.Background()

	ops["google"].User("sub-ada", "Ada@Example.com", true)
	sess, err := e.providerSession(t, e.callback(t, "google"))
	if err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	u := sess.User
	if u.Email != "ada@example.com" || !u.IsActive || u.IsSuperuser || u.PasswordHash != "" {
		t.Errorf("the new user = %+v: want ada@example.com, active, not a superuser, without a password", u)
	}
	if got, err := e.svc.Authenticate(ctx, sess.Token); err != nil || got.User.ID != u.ID {
		t.Fatalf("Authenticate the provider's session = %v, %v", got, err)
	}
	ids, err := e.svc.Identities(ctx, u)
	if err != nil || len(ids) != 1 || ids[0].Provider != "google" || ids[0].Subject != "sub-ada" || ids[0].Email != "ada@example.com" {
		t.Fatalf("Identities = %+v, %v; want the google account", ids, err)
	}

	t.Run("the account's next sign-in is the same user, whatever email the provider gives now", func(t *testing.T) {
		ops["google"].User("sub-ada", "ada@elsewhere.example", false)
		again, err := e.providerSession(t, e.callback(t, "google"))
		if err != nil {
			t.Fatal(err)
		}
		if again.User.ID != u.ID || again.Token == sess.Token {
			t.Errorf("second sign-in: user %s with token reused %v; want user %s with a new session", again.User.ID, again.Token == sess.Token, u.ID)
		}
	})

	t.Run("the account without a password cannot sign in with one", func(t *testing.T) {
		for _, pw := range []string{"", goodPassword, "anything at all"} {
			_, err := e.svc.Login(ctx, keel.LoginInput{Email: u.Email, Password: pw})
			wantErr(t, err, keel.ErrIncorrectLogin)
		}
		err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: "whatever it is", NewPassword: "a brand new passphrase"})
		wantErr(t, err, keel.ErrIncorrectPassword)
	})

	t.Run("the only identity of an account without a password cannot be unlinked", func(t *testing.T) {
		wantErr(t, e.svc.UnlinkIdentity(ctx, u, ids[0].ID), keel.ErrLastSignInMethod)
		if left, _ := e.svc.Identities(ctx, u); len(left) != 1 {
			t.Errorf("%d identities left, want 1", len(left))
		}
	})

	t.Run("once the account has a password the identity can be unlinked, and links again only by the verified address", func(t *testing.T) {
		if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: u.Email}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: e.mail.WaitReset(t).Token, NewPassword: "a brand new passphrase"}); err != nil {
			t.Fatal(err)
		}
		e.login(t, u.Email, "a brand new passphrase")
		if err := e.svc.UnlinkIdentity(ctx, u, ids[0].ID); err != nil {
			t.Fatalf("UnlinkIdentity: %v", err)
		}
		wantErr(t, e.svc.UnlinkIdentity(ctx, u, ids[0].ID), keel.ErrIdentityNotFound)
		// Unlinked, the provider's account is linked again at its next
		// sign-in because both the provider and keel vouch for ada's
		// address (a provider's new user has a verified one)...
		ops["google"].User("sub-ada", "ada@example.com", true)
		again, err := e.providerSession(t, e.callback(t, "google"))
		if err != nil || again.User.ID != u.ID {
			t.Fatalf("sign-in after unlinking = %v, %v; want ada again", again, err)
		}
		// ...and never once ada's address is no longer verified.
		ids, _ := e.svc.Identities(ctx, u)
		if err := e.svc.UnlinkIdentity(ctx, u, ids[0].ID); err != nil {
			t.Fatal(err)
		}
		cur, _ := e.store.User(ctx, u.ID)
		cur.IsVerified = false
		if err := e.store.UpdateUser(ctx, cur); err != nil {
			t.Fatal(err)
		}
		ops["google"].User("sub-ada", "ada@example.com", true)
		_, err = e.providerSession(t, e.callback(t, "google"))
		wantErr(t, err, keel.ErrAccountNotLinked)
	})
}

func TestProviderSignInRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// run returns the error of the hostile or failed sign-in.
		run  func(t *testing.T, e *env, ops map[string]*oidctest.Provider) error
		want error
	}{
		{"a callback with a state keel never issued is refused", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			cb.State = "forged-state"
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrInvalidProviderState},
		{"a callback without a state is refused", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			cb.State = ""
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrInvalidProviderState},
		{"a replayed callback is refused: the state works once", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			if _, err := e.providerSession(t, cb); err != nil {
				t.Fatalf("the first callback: %v", err)
			}
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrInvalidProviderState},
		{"a replayed code with a fresh state is refused by the provider", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			first := e.callback(t, "google")
			if _, err := e.providerSession(t, first); err != nil {
				t.Fatalf("the first callback: %v", err)
			}
			second := e.callback(t, "google")
			second.Code = first.Code
			_, err := e.providerSession(t, second)
			return err
		}, keel.ErrProviderRefused},
		{"a state begun with one provider is refused at another's callback", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			cb.Provider = "corp"
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrInvalidProviderState},
		{"a state older than ten minutes is refused", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			e.clock.Advance(10*time.Minute + time.Second)
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrInvalidProviderState},
		{"an ID token issued to another client is refused", func(t *testing.T, e *env, ops map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			ops["google"].IssueForAudience("another-client")
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrProviderRefused},
		{"a first sign-in with an email the provider has not verified is refused", func(t *testing.T, e *env, ops map[string]*oidctest.Provider) error {
			ops["google"].User("sub-eve", "eve@example.com", false)
			_, err := e.providerSession(t, e.callback(t, "google"))
			return err
		}, keel.ErrProviderEmailUnverified},
		{"a first sign-in without an email is refused", func(t *testing.T, e *env, ops map[string]*oidctest.Provider) error {
			ops["google"].User("sub-eve", "", true)
			_, err := e.providerSession(t, e.callback(t, "google"))
			return err
		}, keel.ErrProviderEmailUnverified},
		{"a first sign-in with the email of an account whose address is not verified never takes it over", func(t *testing.T, e *env, ops map[string]*oidctest.Provider) error {
			e.signUp(t, "victim@example.com")
			ops["google"].User("sub-mallory", "victim@example.com", true)
			_, err := e.providerSession(t, e.callback(t, "google"))
			return err
		}, keel.ErrAccountNotLinked},
		{"a provider that answers with an error signs no one in", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			cb := e.callback(t, "google")
			cb.Code, cb.Error = "", "access_denied"
			_, err := e.providerSession(t, cb)
			return err
		}, keel.ErrProviderDenied},
		{"an unknown provider is refused", func(t *testing.T, e *env, _ map[string]*oidctest.Provider) error {
			_, _, err := e.svc.BeginProviderLogin(ctx, "nope")
			return err
		}, keel.ErrUnknownProvider},
		{"a deactivated user's provider account signs no one in", func(t *testing.T, e *env, ops map[string]*oidctest.Provider) error {
			ops["google"].User("sub-dan", "dan@example.com", true)
			sess, err := e.providerSession(t, e.callback(t, "google"))
			if err != nil {
				t.Fatal(err)
			}
			dan := sess.User
			dan.IsActive = false
			if err := e.store.UpdateUser(ctx, dan); err != nil {
				t.Fatal(err)
			}
			ops["google"].User("sub-dan", "dan@example.com", true)
			_, err = e.providerSession(t, e.callback(t, "google"))
			return err
		}, keel.ErrInactiveUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			with, ops := withProviders(t, "google", "corp")
			e := newEnv(t, with)
			users, _, _ := e.svc.Users(ctx, e.superuser(t, "root@example.com"), keel.ListOptions{})
			before := len(users)
			err := tc.run(t, e, ops)
			wantErr(t, err, tc.want)
			if _, n, _ := e.svc.Users(ctx, e.superuserOf(t), keel.ListOptions{}); n > before+1 {
				t.Errorf("the refused sign-in left %d users, want at most the %d the test made", n, before+1)
			}
		})
	}
}

// superuserOf returns the superuser TestProviderSignInRefusals made.
func (e *env) superuserOf(t *testing.T) *keel.User {
	t.Helper()
	u, err := e.store.UserByEmail(context.Background(), "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoginCodes(t *testing.T) {
	with, ops := withProviders(t, "google")
	ctx := context.Background()

	finish := func(t *testing.T, e *env) string {
		t.Helper()
		ops["google"].User("sub-"+t.Name(), "code@example.com", true)
		code, err := e.svc.FinishProviderLogin(ctx, e.callback(t, "google"))
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	t.Run("a login code works once", func(t *testing.T) {
		e := newEnv(t, with)
		code := finish(t, e)
		if _, err := e.svc.RedeemLoginCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.RedeemLoginCode(ctx, code)
		wantErr(t, err, keel.ErrInvalidLoginCode)
	})

	t.Run("a login code older than a minute is refused", func(t *testing.T) {
		e := newEnv(t, with)
		code := finish(t, e)
		e.clock.Advance(time.Minute)
		_, err := e.svc.RedeemLoginCode(ctx, code)
		wantErr(t, err, keel.ErrInvalidLoginCode)
	})

	t.Run("a provider state is not a login code", func(t *testing.T) {
		e := newEnv(t, with)
		cb := e.callback(t, "google")
		_, err := e.svc.RedeemLoginCode(ctx, cb.State)
		wantErr(t, err, keel.ErrInvalidLoginCode)
		if _, err := e.providerSession(t, cb); err != nil {
			t.Errorf("the state after the refused redemption: %v", err)
		}
	})

	t.Run("a user deactivated between the callback and the redemption is refused", func(t *testing.T) {
		e := newEnv(t, with)
		code := finish(t, e)
		u, err := e.store.UserByEmail(ctx, "code@example.com")
		if err != nil {
			t.Fatal(err)
		}
		u.IsActive = false
		if err := e.store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.RedeemLoginCode(ctx, code)
		wantErr(t, err, keel.ErrInactiveUser)
	})
}

func TestConcurrentFirstSignInsOfOneAccountMakeOneUser(t *testing.T) {
	with, ops := withProviders(t, "google")
	e := newEnv(t, with)
	const n = 4
	cbs := make([]keel.ProviderCallback, n)
	for i := range cbs {
		ops["google"].User("sub-twin", "twin@example.com", true)
		cbs[i] = e.callback(t, "google")
	}
	users := make([]*keel.User, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var s *keel.Session
			s, errs[i] = e.providerSession(t, cbs[i])
			if s != nil {
				users[i] = s.User
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("sign-in %d: %v", i, errs[i])
		}
		if users[i].ID != users[0].ID {
			t.Errorf("sign-in %d made user %s, sign-in 0 user %s: want one user", i, users[i].ID, users[0].ID)
		}
	}
}

func TestIdentityProvidersNeedNamesOfTheirOwn(t *testing.T) {
	p, err := oidc.New(oidc.Config{Name: "corp", Issuer: "https://id.example", ClientID: "c", ClientSecret: "s", RedirectURL: "https://keel.example/cb"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = keel.New(newEnv(t).store, keel.Config{IdentityProviders: []keel.IdentityProvider{p, p}})
	if err == nil {
		t.Error("New with two providers named corp succeeded")
	}
}

func TestAProviderNameBecomesTheFullNameWhenItIsText(t *testing.T) {
	with, ops := withProviders(t, "google")
	e := newEnv(t, with)
	for _, tc := range []struct {
		name, want string
	}{
		{"  Ada Lovelace ", "Ada Lovelace"},
		{"Ada\x00Lovelace", ""},
		{"", ""},
	} {
		t.Run(fmt.Sprintf("the name %q", tc.name), func(t *testing.T) {
			ops["google"].NamedUser("sub-"+uuid.NewString(), uuid.NewString()+"@example.com", tc.name, true)
			sess, err := e.providerSession(t, e.callback(t, "google"))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if sess.User.FullName != nil {
				got = *sess.User.FullName
			}
			if got != tc.want {
				t.Errorf("full name %q, want %q", got, tc.want)
			}
		})
	}
}
