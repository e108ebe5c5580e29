package keel_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// recorder keeps the events its hooks see.
type recorder struct {
	mu     sync.Mutex
	events []keel.Event
}

func (r *recorder) before(_ context.Context, _ keel.Tx, e keel.Event) error {
	r.add(e)
	return nil
}

func (r *recorder) after(_ context.Context, e keel.Event) { r.add(e) }

func (r *recorder) add(e keel.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []keel.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) kinds() []keel.EventKind {
	var out []keel.EventKind
	for _, e := range r.all() {
		out = append(out, e.Kind)
	}
	return out
}

// client is the client every operation of the event tests comes from.
var client = keel.Client{Addr: "192.0.2.7", UserAgent: "events-test/1", RequestID: "req-1"}

// wantEvent is what a test checks of an event; ActorID and UserID are
// checked always (uuid.Nil included), the other fields when set.
type wantEvent struct {
	Kind            keel.EventKind
	ActorID, UserID uuid.UUID
	Email, Reason   string
	Changes         []string
	Sessions        int64
}

func checkEvents(t *testing.T, e *env, got []keel.Event, want ...wantEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %d: %+v", kindsOf(got), len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || g.ActorID != w.ActorID || g.UserID != w.UserID {
			t.Errorf("event %d: %s actor %v user %v, want %s actor %v user %v", i, g.Kind, g.ActorID, g.UserID, w.Kind, w.ActorID, w.UserID)
		}
		if w.Email != "" && g.Email != w.Email {
			t.Errorf("event %d (%s): email %q, want %q", i, g.Kind, g.Email, w.Email)
		}
		if g.Reason != w.Reason {
			t.Errorf("event %d (%s): reason %q, want %q", i, g.Kind, g.Reason, w.Reason)
		}
		if !slices.Equal(g.Changes, w.Changes) {
			t.Errorf("event %d (%s): changes %q, want %q", i, g.Kind, g.Changes, w.Changes)
		}
		if g.Sessions != w.Sessions {
			t.Errorf("event %d (%s): %d sessions, want %d", i, g.Kind, g.Sessions, w.Sessions)
		}
		if g.Client != client {
			t.Errorf("event %d (%s): client %+v, want %+v", i, g.Kind, g.Client, client)
		}
		if !g.At.Equal(e.clock.Now().UTC().Truncate(1000)) {
			t.Errorf("event %d (%s): at %v, want the clock's %v", i, g.Kind, g.At, e.clock.Now())
		}
		if g.User != nil && (g.User.PasswordHash != "" || g.User.ID != g.UserID) {
			t.Errorf("event %d (%s): user %+v carries a hash or another id", i, g.Kind, g.User)
		}
		if (g.User == nil) != (g.UserID == uuid.Nil) {
			t.Errorf("event %d (%s): user %v with user id %v", i, g.Kind, g.User, g.UserID)
		}
	}
}

func kindsOf(events []keel.Event) []keel.EventKind {
	var out []keel.EventKind
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

// TestEveryOperationReportsItsEvents checks the emit point of each
// operation through a before hook, which sees the events as they happen.
func TestEveryOperationReportsItsEvents(t *testing.T) {
	ctx := keel.WithClient(context.Background(), client)
	type fixture struct {
		e    *env
		rec  *recorder
		root *keel.User
	}
	setup := func(t *testing.T) fixture {
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{rec.before}
			c.RateLimits.LoginPerAccount = keel.Limit{Max: 2}
		})
		return fixture{e: e, rec: rec, root: e.superuser(t, "root@example.com")}
	}
	// since runs op and returns the events it caused.
	since := func(f fixture, op func()) []keel.Event {
		n := len(f.rec.all())
		op()
		return f.rec.all()[n:]
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("signing up reports signed_up by the new user", func(t *testing.T) {
		f := setup(t)
		var u *keel.User
		got := since(f, func() {
			var err error
			u, err = f.e.svc.SignUp(ctx, keel.SignUpInput{Email: "Ada@Example.com", Password: goodPassword})
			must(t, err)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventSignedUp, ActorID: u.ID, UserID: u.ID, Email: "ada@example.com"})
	})
	t.Run("a superuser creating a user reports user_created by the superuser", func(t *testing.T) {
		f := setup(t)
		var u *keel.User
		got := since(f, func() {
			var err error
			u, err = f.e.svc.CreateUser(ctx, f.root, keel.CreateUserInput{Email: "bob@example.com", Password: goodPassword})
			must(t, err)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventUserCreated, ActorID: f.root.ID, UserID: u.ID})
	})
	t.Run("bootstrapping reports user_created by nobody", func(t *testing.T) {
		f := setup(t)
		var u *keel.User
		got := since(f, func() {
			var err error
			u, err = f.e.svc.Bootstrap(ctx, keel.SignUpInput{Email: "admin@example.com", Password: goodPassword})
			must(t, err)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventUserCreated, UserID: u.ID})
	})
	t.Run("logging in reports login_succeeded", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		got := since(f, func() {
			_, err := f.e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
			must(t, err)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventLoginSucceeded, ActorID: u.ID, UserID: u.ID})
	})
	t.Run("failed logins report login_failed with why", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		off := f.e.deactivated(t, "off@example.com")
		got := since(f, func() {
			f.e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "not the password"})
			f.e.svc.Login(ctx, keel.LoginInput{Email: "nobody@example.com", Password: goodPassword})
			f.e.svc.Login(ctx, keel.LoginInput{Email: "off@example.com", Password: goodPassword})
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventLoginFailed, UserID: u.ID, Reason: keel.ReasonWrongPassword},
			wantEvent{Kind: keel.EventLoginFailed, Email: "nobody@example.com", Reason: keel.ReasonUnknownEmail},
			wantEvent{Kind: keel.EventLoginFailed, UserID: off.ID, Reason: keel.ReasonInactiveUser})
	})
	t.Run("a login over the limit reports rate_limited with the limit and the account", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		for range 2 {
			f.e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "not the password"})
		}
		got := since(f, func() {
			_, err := f.e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
			wantCode(t, err, keel.RateLimited)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventRateLimited, UserID: u.ID, Email: "ada@example.com", Reason: keel.ReasonLoginAccount})
	})
	t.Run("logging out reports logged_out, one session", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		sess := f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() {
			must(t, f.e.svc.Logout(ctx, sess.Token))
			must(t, f.e.svc.Logout(ctx, sess.Token)) // gone already: nothing to report
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventLoggedOut, ActorID: u.ID, UserID: u.ID, Sessions: 1})
	})
	t.Run("logging out everywhere reports sessions_ended with the count", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		f.e.login(t, "ada@example.com", goodPassword)
		f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() { must(t, f.e.svc.LogoutAll(ctx, u)) })
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventSessionsEnded, ActorID: u.ID, UserID: u.ID, Sessions: 2})
	})
	t.Run("ending the other sessions reports sessions_ended with the count", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		sess := f.e.login(t, "ada@example.com", goodPassword)
		f.e.login(t, "ada@example.com", goodPassword)
		f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() {
			_, err := f.e.svc.EndOtherSessions(ctx, sess)
			must(t, err)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventSessionsEnded, ActorID: u.ID, UserID: u.ID, Sessions: 2})
	})
	t.Run("a superuser ending a session reports sessions_ended, one, by the superuser", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		sess := f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() { must(t, f.e.svc.EndSession(ctx, f.root, u.ID, sess.ID)) })
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventSessionsEnded, ActorID: f.root.ID, UserID: u.ID, Sessions: 1})
	})
	t.Run("a login past the session cap reports the least recently used ended", func(t *testing.T) {
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{rec.before}
			c.MaxSessionsPerUser = 1
		})
		u := e.signUp(t, "ada@example.com")
		e.login(t, "ada@example.com", goodPassword)
		n := len(rec.all())
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
		must(t, err)
		checkEvents(t, e, rec.all()[n:],
			wantEvent{Kind: keel.EventSessionsEnded, ActorID: u.ID, UserID: u.ID, Sessions: 1},
			wantEvent{Kind: keel.EventLoginSucceeded, ActorID: u.ID, UserID: u.ID})
	})
	t.Run("changing the password reports password_changed and the other sessions ended", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		sess := f.e.login(t, "ada@example.com", goodPassword)
		f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() {
			must(t, f.e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a whole new passphrase"}))
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventPasswordChanged, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventSessionsEnded, ActorID: u.ID, UserID: u.ID, Sessions: 1})
	})
	t.Run("a wrong current password reports login_failed from the password check", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		sess := f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() {
			err := f.e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: "not the password", NewPassword: "a whole new passphrase"})
			wantErr(t, err, keel.ErrIncorrectPassword)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventLoginFailed, ActorID: u.ID, UserID: u.ID, Reason: keel.ReasonPasswordCheck})
	})
	t.Run("recovery and reset report password_reset_requested and password_reset", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() {
			must(t, f.e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com"}))
			must(t, f.e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "nobody@example.com"}))
			token := f.e.mail.WaitReset(t).Token
			must(t, f.e.svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: token, NewPassword: "a whole new passphrase"}))
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventPasswordResetRequested, UserID: u.ID},
			wantEvent{Kind: keel.EventPasswordResetRequested, Email: "nobody@example.com", Reason: keel.ReasonUnknownEmail},
			wantEvent{Kind: keel.EventPasswordReset, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventSessionsEnded, ActorID: u.ID, UserID: u.ID, Sessions: 1})
	})
	t.Run("updating oneself reports user_updated with the fields that changed", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		got := since(f, func() {
			_, err := f.e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{FullName: keel.Some(ptr("Ada")), Email: keel.Some("ada@example.com")})
			must(t, err)
			_, err = f.e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{FullName: keel.Some(ptr("Ada"))}) // no change: no event
			must(t, err)
		})
		checkEvents(t, f.e, got, wantEvent{Kind: keel.EventUserUpdated, ActorID: u.ID, UserID: u.ID, Changes: []string{"full_name"}})
	})
	t.Run("a superuser deactivating a user reports user_updated and its sessions ended", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() {
			_, err := f.e.svc.UpdateUser(ctx, f.root, u.ID, keel.UpdateUserInput{IsActive: keel.Some(false), IsSuperuser: keel.Some(true), Email: keel.Some("ada@example.org")})
			must(t, err)
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventUserUpdated, ActorID: f.root.ID, UserID: u.ID, Email: "ada@example.org", Changes: []string{"email", "is_active", "is_superuser"}},
			wantEvent{Kind: keel.EventSessionsEnded, ActorID: f.root.ID, UserID: u.ID, Sessions: 1})
	})
	t.Run("deleting a user reports user_deleted and its sessions ended", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		f.e.login(t, "ada@example.com", goodPassword)
		got := since(f, func() { must(t, f.e.svc.DeleteUser(ctx, f.root, u.ID)) })
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventUserDeleted, ActorID: f.root.ID, UserID: u.ID, Email: "ada@example.com"},
			wantEvent{Kind: keel.EventSessionsEnded, ActorID: f.root.ID, UserID: u.ID, Sessions: 1})
	})
	t.Run("making and revoking an API token reports api_token_created and api_token_revoked, never the secret", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		var tok *keel.NewAPIToken
		got := since(f, func() {
			var err error
			tok, err = f.e.svc.CreateAPIToken(ctx, u, keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead, ExpiresInDays: 7})
			must(t, err)
			must(t, f.e.svc.RevokeAPIToken(ctx, f.root, u.ID, tok.ID))
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventAPITokenCreated, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventAPITokenRevoked, ActorID: f.root.ID, UserID: u.ID})
		if a := got[0].APIToken; a == nil || *a != tok.APITokenInfo {
			t.Errorf("created: token %+v, want %+v", a, tok.APITokenInfo)
		}
		if a := got[1].APIToken; a == nil || a.ID != tok.ID {
			t.Errorf("revoked: token %+v, want id %v", a, tok.ID)
		}
	})
	t.Run("a new password reports the API tokens it revoked", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		for _, name := range []string{"one", "two"} {
			_, err := f.e.svc.CreateAPIToken(ctx, u, keel.CreateAPITokenInput{Name: name, Scope: keel.ScopeFull, ExpiresInDays: 7})
			must(t, err)
		}
		got := since(f, func() {
			_, err := f.e.svc.UpdateUser(ctx, f.root, u.ID, keel.UpdateUserInput{Password: keel.Some("a whole new passphrase")})
			must(t, err)
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventUserUpdated, ActorID: f.root.ID, UserID: u.ID, Changes: []string{"password"}},
			wantEvent{Kind: keel.EventAPITokensRevoked, ActorID: f.root.ID, UserID: u.ID})
		if got[1].APITokens != 2 {
			t.Errorf("%d tokens revoked, want 2", got[1].APITokens)
		}
	})
	t.Run("lifting a lockout reports lockout_lifted, by the superuser or by nobody", func(t *testing.T) {
		f := setup(t)
		u := f.e.signUp(t, "ada@example.com")
		got := since(f, func() {
			must(t, f.e.svc.Unlock(ctx, f.root, u.ID))
			must(t, f.e.svc.UnlockEmail(ctx, "ada@example.com"))
			must(t, f.e.svc.UnlockEmail(ctx, "nobody@example.com"))
		})
		checkEvents(t, f.e, got,
			wantEvent{Kind: keel.EventLockoutLifted, ActorID: f.root.ID, UserID: u.ID, Email: "ada@example.com"},
			wantEvent{Kind: keel.EventLockoutLifted, UserID: u.ID, Email: "ada@example.com"},
			wantEvent{Kind: keel.EventLockoutLifted, Email: "nobody@example.com"})
	})
}

func TestBeforeHooks(t *testing.T) {
	ctx := context.Background()
	users := func(t *testing.T, e *env) int {
		t.Helper()
		_, n, err := e.store.ListUsers(ctx, keel.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	onSignUp := func(h keel.BeforeHook) func(*keel.Config) {
		return func(c *keel.Config) {
			c.Hooks.Before = append(c.Hooks.Before, func(ctx context.Context, tx keel.Tx, e keel.Event) error {
				if e.Kind != keel.EventSignedUp {
					return nil
				}
				return h(ctx, tx, e)
			})
		}
	}
	signUp := func(e *env) (*keel.User, error) {
		return e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
	}

	t.Run("a rejection reaches the caller as the field's validation error, and no user is left", func(t *testing.T) {
		e := newEnv(t, onSignUp(func(_ context.Context, _ keel.Tx, ev keel.Event) error {
			return keel.Reject("email", ev.Email, "only @company.com addresses may sign up")
		}))
		_, err := signUp(e)
		var ke *keel.Error
		if !errors.As(err, &ke) || ke.Code != keel.Invalid || len(ke.Fields) != 1 ||
			ke.Fields[0].Field != "email" || ke.Fields[0].Violation != keel.Rejected || ke.Fields[0].Message != "only @company.com addresses may sign up" {
			t.Fatalf("err = %#v, want the hook's rejection of email", err)
		}
		if n := users(t, e); n != 0 {
			t.Fatalf("%d users after a vetoed sign-up", n)
		}
	})
	t.Run("a refusal reaches the caller as it is, even with a code keel would remap", func(t *testing.T) {
		for _, code := range []keel.Code{keel.PermissionDenied, keel.NotFound, keel.Conflict} {
			e := newEnv(t, onSignUp(func(context.Context, keel.Tx, keel.Event) error {
				return keel.Refuse(code, "sign-ups are closed")
			}))
			_, err := signUp(e)
			var ke *keel.Error
			if !errors.As(err, &ke) || ke.Code != code || ke.Message != "sign-ups are closed" || !ke.Public {
				t.Fatalf("code %v: err = %#v, want the hook's refusal", code, err)
			}
		}
	})
	t.Run("an error of another kind is Internal, its text kept from the client", func(t *testing.T) {
		e := newEnv(t, onSignUp(func(context.Context, keel.Tx, keel.Event) error {
			return errors.New(`pq: duplicate key value violates unique constraint "profiles_pkey"`)
		}))
		_, err := signUp(e)
		wantCode(t, err, keel.Internal)
		if msg := keel.ErrorMessage(err); msg != "" {
			t.Fatalf("the client-safe message is %q", msg)
		}
		if n := users(t, e); n != 0 {
			t.Fatalf("%d users after a vetoed sign-up", n)
		}
	})
	t.Run("a panic vetoes with Internal and the process goes on", func(t *testing.T) {
		e := newEnv(t, onSignUp(func(context.Context, keel.Tx, keel.Event) error { panic("hook bug") }))
		_, err := signUp(e)
		wantCode(t, err, keel.Internal)
		if n := users(t, e); n != 0 {
			t.Fatalf("%d users after a panicking hook", n)
		}
	})
	t.Run("what a hook writes commits with the operation", func(t *testing.T) {
		e := newEnv(t, onSignUp(func(ctx context.Context, tx keel.Tx, ev keel.Event) error {
			return tx.CreateItem(ctx, &keel.Item{ID: uuid.Must(uuid.NewV7()), Title: "welcome", OwnerID: ev.UserID, CreatedAt: ev.At, UpdatedAt: ev.At})
		}))
		u, err := signUp(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, n, _ := e.store.ListItems(ctx, keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 10}); n != 1 {
			t.Fatalf("%d items, want the hook's one", n)
		}
	})
	t.Run("a veto after another hook wrote rolls both back", func(t *testing.T) {
		e := newEnv(t,
			onSignUp(func(ctx context.Context, tx keel.Tx, ev keel.Event) error {
				return tx.CreateItem(ctx, &keel.Item{ID: uuid.Must(uuid.NewV7()), Title: "welcome", OwnerID: ev.UserID, CreatedAt: ev.At, UpdatedAt: ev.At})
			}),
			onSignUp(func(context.Context, keel.Tx, keel.Event) error { return keel.Refuse(keel.PermissionDenied, "no") }))
		if _, err := signUp(e); err == nil {
			t.Fatal("the sign-up was not vetoed")
		}
		if _, n, _ := e.store.ListItems(ctx, keel.ItemFilter{}, keel.Page{Limit: 10}); n != 0 || users(t, e) != 0 {
			t.Fatalf("%d items and %d users after the veto", n, users(t, e))
		}
	})
	t.Run("keel calls a hook makes with its context join the transaction", func(t *testing.T) {
		var e *env
		e = newEnv(t, onSignUp(func(ctx context.Context, _ keel.Tx, ev keel.Event) error {
			// Outside the transaction this would wait for it: memstore
			// holds its lock until the sign-up ends.
			_, err := e.svc.CreateItem(ctx, ev.User, keel.CreateItemInput{Title: "first note"})
			if err != nil {
				return err
			}
			return keel.Refuse(keel.PermissionDenied, "changed my mind")
		}))
		if _, err := signUp(e); err == nil {
			t.Fatal("the sign-up was not vetoed")
		}
		if _, n, _ := e.store.ListItems(ctx, keel.ItemFilter{}, keel.Page{Limit: 10}); n != 0 {
			t.Fatalf("the hook's item outlived the veto: %d items", n)
		}
	})
	t.Run("vetoing login_succeeded starts no session", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
				if ev.Kind == keel.EventLoginSucceeded {
					return keel.Refuse(keel.PermissionDenied, "confirm your email first")
				}
				return nil
			}}
		})
		u := e.signUp(t, "ada@example.com")
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
		if keel.ErrorMessage(err) != "confirm your email first" {
			t.Fatalf("err = %v, want the hook's refusal", err)
		}
		if n, _ := e.store.DeleteUserSessions(ctx, u.ID, ""); n != 0 {
			t.Fatalf("%d sessions after a vetoed login", n)
		}
	})
	t.Run("vetoing user_updated leaves the user and its sessions as they were", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
				if ev.Kind == keel.EventUserUpdated && slices.Contains(ev.Changes, "is_active") {
					return keel.Refuse(keel.PermissionDenied, "accounts are deactivated by the billing system")
				}
				return nil
			}}
		})
		root := e.superuser(t, "root@example.com")
		u := e.signUp(t, "ada@example.com")
		sess := e.login(t, "ada@example.com", goodPassword)
		_, err := e.svc.UpdateUser(ctx, root, u.ID, keel.UpdateUserInput{IsActive: keel.Some(false)})
		wantCode(t, err, keel.PermissionDenied)
		if _, err := e.svc.Authenticate(ctx, sess.Token); err != nil {
			t.Fatalf("the session ended with a vetoed deactivation: %v", err)
		}
	})
	t.Run("refusals run their hooks in a transaction of their own", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{func(ctx context.Context, tx keel.Tx, ev keel.Event) error {
				if ev.Kind != keel.EventLoginFailed {
					return nil
				}
				// An audit writer would insert a row; a counter shows the
				// write commits though the login fails.
				_, err := tx.IncrementCounter(ctx, "audit:"+ev.Reason, keel.DefaultResetTokenLifetime, ev.At)
				return err
			}}
		})
		e.signUp(t, "ada@example.com")
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "not the password"})
		wantErr(t, err, keel.ErrIncorrectLogin)
		c, err := e.store.Counter(ctx, "audit:"+keel.ReasonWrongPassword, e.clock.Now())
		if err != nil || c.Count != 1 {
			t.Fatalf("audit counter %+v %v, want 1", c, err)
		}
	})
}

func TestAfterHooks(t *testing.T) {
	ctx := context.Background()

	t.Run("they get every committed event once, in order, and never a vetoed one", func(t *testing.T) {
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.After = []keel.AfterHook{rec.after}
			c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
				if ev.Email == "vetoed@example.com" {
					return keel.Refuse(keel.PermissionDenied, "no")
				}
				return nil
			}}
		})
		u := e.signUp(t, "ada@example.com")
		e.svc.SignUp(ctx, keel.SignUpInput{Email: "vetoed@example.com", Password: goodPassword})
		sess := e.login(t, "ada@example.com", goodPassword)
		if err := e.svc.Logout(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		want := []keel.EventKind{keel.EventSignedUp, keel.EventLoginSucceeded, keel.EventLoggedOut}
		if got := rec.kinds(); !slices.Equal(got, want) {
			t.Fatalf("after hooks saw %v, want %v", got, want)
		}
		if got := rec.all()[0]; got.UserID != u.ID || got.User == nil || got.User.PasswordHash != "" {
			t.Fatalf("signed_up event %+v", got)
		}
	})
	t.Run("a slow hook holds neither the operation nor the other hooks", func(t *testing.T) {
		release := make(chan struct{})
		fast := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.After = []keel.AfterHook{
				func(context.Context, keel.Event) { <-release },
				fast.after,
			}
		})
		// Each SignUp returns while the first hook is stuck on its first event.
		e.signUp(t, "ada@example.com")
		e.signUp(t, "bob@example.com")
		close(release)
		if err := e.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fast.kinds(); len(got) != 2 {
			t.Fatalf("the other hook saw %v", got)
		}
	})
	t.Run("a panicking hook is logged and goes on receiving events", func(t *testing.T) {
		logs := &syncBuffer{}
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Logger = logs.logger()
			c.Hooks.After = []keel.AfterHook{func(ctx context.Context, ev keel.Event) {
				rec.after(ctx, ev)
				panic("hook bug")
			}}
		})
		e.signUp(t, "ada@example.com")
		e.signUp(t, "bob@example.com")
		if err := e.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.all()); n != 2 {
			t.Fatalf("the hook ran %d times, want 2", n)
		}
		if !logs.contains("an after hook panicked") || !logs.contains("hook bug") {
			t.Fatalf("the panic is not logged:\n%s", logs.String())
		}
	})
	t.Run("a full queue drops the event for that hook and logs it", func(t *testing.T) {
		logs := &syncBuffer{}
		started, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Logger = logs.logger()
			c.Hooks.Queue = 1
			c.Hooks.After = []keel.AfterHook{func(ctx context.Context, ev keel.Event) {
				once.Do(func() { close(started); <-release })
				rec.after(ctx, ev)
			}}
		})
		e.signUp(t, "a@example.com")
		<-started                    // the hook holds the first event
		e.signUp(t, "b@example.com") // waits in the queue
		e.signUp(t, "c@example.com") // finds the queue full
		close(release)
		if err := e.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, ev := range rec.all() {
			emails = append(emails, ev.Email)
		}
		if !slices.Equal(emails, []string{"a@example.com", "b@example.com"}) {
			t.Fatalf("the hook saw %v", emails)
		}
		if !logs.contains("queue is full") {
			t.Fatalf("the drop is not logged:\n%s", logs.String())
		}
	})
	t.Run("Close waits for the queues until its context ends", func(t *testing.T) {
		release := make(chan struct{})
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.After = []keel.AfterHook{func(ctx context.Context, ev keel.Event) { <-release; rec.after(ctx, ev) }}
		})
		e.signUp(t, "ada@example.com")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := e.svc.Close(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Close with an ended context while a hook runs = %v, want context.Canceled", err)
		}
		close(release)
		if err := e.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.all()); n != 1 {
			t.Fatalf("%d events delivered, want the one", n)
		}
	})
	t.Run("their context outlives the operation's and keeps its values", func(t *testing.T) {
		type seen struct {
			err    error
			client keel.Client
		}
		got := make(chan seen, 1)
		release := make(chan struct{})
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.After = []keel.AfterHook{func(ctx context.Context, _ keel.Event) {
				<-release
				got <- seen{ctx.Err(), keel.ClientFrom(ctx)}
			}}
		})
		octx, cancel := context.WithCancel(keel.WithClient(ctx, client))
		if _, err := e.svc.SignUp(octx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
			t.Fatal(err)
		}
		cancel() // the request is over
		close(release)
		s := <-got
		if s.err != nil || s.client != client {
			t.Fatalf("the hook's context: err %v, client %+v", s.err, s.client)
		}
	})
	t.Run("events after Close are dropped and logged", func(t *testing.T) {
		logs := &syncBuffer{}
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) {
			c.Logger = logs.logger()
			c.Hooks.After = []keel.AfterHook{rec.after}
		})
		if err := e.svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		e.signUp(t, "ada@example.com")
		if len(rec.all()) != 0 || !logs.contains("after Close") {
			t.Fatalf("events after Close: %v; log:\n%s", rec.kinds(), logs.String())
		}
	})
}

func TestServiceInTx(t *testing.T) {
	ctx := context.Background()
	countUsers := func(t *testing.T, e *env) int {
		t.Helper()
		_, n, err := e.store.ListUsers(ctx, keel.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("the program's writes and keel's commit together", func(t *testing.T) {
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) { c.Hooks.After = []keel.AfterHook{rec.after} })
		err := e.svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
			u, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
			if err != nil {
				return err
			}
			return tx.CreateItem(ctx, &keel.Item{ID: uuid.Must(uuid.NewV7()), Title: "profile", OwnerID: u.ID, CreatedAt: u.CreatedAt, UpdatedAt: u.CreatedAt})
		})
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Close(ctx)
		_, items, _ := e.store.ListItems(ctx, keel.ItemFilter{}, keel.Page{Limit: 10})
		if countUsers(t, e) != 1 || items != 1 || !slices.Equal(rec.kinds(), []keel.EventKind{keel.EventSignedUp}) {
			t.Fatalf("%d users, %d items, events %v", countUsers(t, e), items, rec.kinds())
		}
	})
	t.Run("an error of the program's rolls keel's work back, and no event is delivered", func(t *testing.T) {
		rec := &recorder{}
		e := newEnv(t, func(c *keel.Config) { c.Hooks.After = []keel.AfterHook{rec.after} })
		failed := errors.New("the profile service is down")
		err := e.svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
			if _, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("InTx = %v, want the program's error", err)
		}
		e.svc.Close(ctx)
		if n := countUsers(t, e); n != 0 || len(rec.all()) != 0 {
			t.Fatalf("%d users and events %v after a rollback", n, rec.kinds())
		}
	})
	t.Run("a keel call that failed inside keeps the transaction from committing", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
				if ev.Email == "vetoed@example.com" {
					return keel.Refuse(keel.PermissionDenied, "no")
				}
				return nil
			}}
		})
		err := e.svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
			e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
			e.svc.SignUp(ctx, keel.SignUpInput{Email: "vetoed@example.com", Password: goodPassword}) // error ignored
			return nil
		})
		if keel.ErrorMessage(err) != "no" {
			t.Fatalf("InTx = %v, want the failed call's error", err)
		}
		if n := countUsers(t, e); n != 0 {
			t.Fatalf("%d users committed", n)
		}
	})
	t.Run("operations with rate-limit counters refuse to run inside", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		sess := e.login(t, "ada@example.com", goodPassword)
		e.svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
			_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
			wantCode(t, err, keel.Internal)
			wantCode(t, e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "another passphrase"}), keel.Internal)
			wantCode(t, e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com"}), keel.Internal)
			return nil
		})
	})
	t.Run("InTx inside InTx joins it", func(t *testing.T) {
		e := newEnv(t)
		err := e.svc.InTx(ctx, func(ctx context.Context, outer keel.Tx) error {
			e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
			e.svc.InTx(ctx, func(ctx context.Context, inner keel.Tx) error {
				if inner != outer {
					t.Error("the inner InTx has a transaction of its own")
				}
				return nil
			})
			return errors.New("roll back")
		})
		if err == nil || countUsers(t, e) != 0 {
			t.Fatalf("InTx = %v with %d users", err, countUsers(t, e))
		}
	})
	t.Run("a context kept past the transaction works on its own", func(t *testing.T) {
		e := newEnv(t)
		var kept context.Context
		if err := e.svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error { kept = ctx; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SignUp(kept, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
			t.Fatal(err)
		}
		if countUsers(t, e) != 1 {
			t.Fatal("the sign-up did not commit")
		}
	})
}

// syncBuffer collects a Service's log lines.
type syncBuffer struct{ keeltest.SyncBuffer }

func (b *syncBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }
