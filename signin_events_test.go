package keel_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/oidctest"
	"github.com/keel-dev/keel/internal/webauthntest"
)

// methodsOf lists the Method of each event.
func methodsOf(events []keel.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Method)
	}
	return out
}

func TestSignInsReportTheirEvents(t *testing.T) {
	ctx := keel.WithClient(context.Background(), client)
	setup := func(t *testing.T) (*env, *recorder, map[string]*oidctest.Provider) {
		rec := &recorder{}
		with, ops := withProviders(t, "google")
		e := newEnv(t, with, withPasskeys(t), func(c *keel.Config) { c.Hooks.Before = []keel.BeforeHook{rec.before} })
		return e, rec, ops
	}
	since := func(rec *recorder, op func()) []keel.Event {
		n := len(rec.all())
		op()
		return rec.all()[n:]
	}

	t.Run("a first provider sign-in reports signed_up, identity_linked and login_succeeded, with the provider as method", func(t *testing.T) {
		e, rec, ops := setup(t)
		ops["google"].User("sub-ada", "ada@example.com", true)
		cb := e.callback(t, "google")
		var sess *keel.Session
		got := since(rec, func() {
			code, err := e.svc.FinishProviderLogin(ctx, cb)
			if err != nil {
				t.Fatal(err)
			}
			if sess, err = e.svc.RedeemLoginCode(ctx, code); err != nil {
				t.Fatal(err)
			}
		})
		id := sess.User.ID
		checkEvents(t, e, got,
			wantEvent{Kind: keel.EventSignedUp, ActorID: id, UserID: id, Email: "ada@example.com"},
			wantEvent{Kind: keel.EventIdentityLinked, ActorID: id, UserID: id},
			wantEvent{Kind: keel.EventLoginSucceeded, ActorID: id, UserID: id})
		if m := methodsOf(got); strings.Join(m, ",") != "oidc:google,oidc:google,oidc:google" {
			t.Errorf("methods %q", m)
		}

		t.Run("unlinking reports identity_unlinked", func(t *testing.T) {
			if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com"}); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: e.mail.WaitReset(t).Token, NewPassword: "a brand new passphrase"}); err != nil {
				t.Fatal(err)
			}
			u, _ := e.store.User(ctx, id)
			ids, _ := e.svc.Identities(ctx, u)
			got := since(rec, func() {
				if err := e.svc.UnlinkIdentity(ctx, u, ids[0].ID); err != nil {
					t.Fatal(err)
				}
			})
			checkEvents(t, e, got, wantEvent{Kind: keel.EventIdentityUnlinked, ActorID: id, UserID: id})
		})
	})

	t.Run("refused provider sign-ins report login_failed with a reason", func(t *testing.T) {
		e, rec, ops := setup(t)
		victim := e.signUp(t, "victim@example.com")
		for _, tc := range []struct {
			name  string
			setup func() keel.ProviderCallback
			want  wantEvent
		}{
			{"a forged state", func() keel.ProviderCallback {
				cb := e.callback(t, "google")
				cb.State = "forged"
				return cb
			}, wantEvent{Kind: keel.EventLoginFailed, Reason: keel.ReasonInvalidState}},
			{"an unverified email", func() keel.ProviderCallback {
				ops["google"].User("sub-eve", "eve@example.com", false)
				return e.callback(t, "google")
			}, wantEvent{Kind: keel.EventLoginFailed, Email: "eve@example.com", Reason: keel.ReasonProviderEmailUnverified}},
			{"an existing account's email, reported on that account", func() keel.ProviderCallback {
				ops["google"].User("sub-mallory", "victim@example.com", true)
				return e.callback(t, "google")
			}, wantEvent{Kind: keel.EventLoginFailed, UserID: victim.ID, Email: "victim@example.com", Reason: keel.ReasonAccountNotLinked}},
			{"a token for another client", func() keel.ProviderCallback {
				cb := e.callback(t, "google")
				ops["google"].IssueForAudience("someone-else")
				return cb
			}, wantEvent{Kind: keel.EventLoginFailed, Reason: keel.ReasonProviderRefused}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cb := tc.setup()
				got := since(rec, func() {
					if _, err := e.svc.FinishProviderLogin(ctx, cb); err == nil {
						t.Fatal("the sign-in succeeded")
					}
				})
				checkEvents(t, e, got, tc.want)
				if got[0].Method != "oidc:google" {
					t.Errorf("method %q", got[0].Method)
				}
			})
		}
	})

	t.Run("passkeys report passkey_registered, login_succeeded, login_failed and passkey_deleted", func(t *testing.T) {
		e, rec, _ := setup(t)
		u := e.signUp(t, "ada@example.com")
		sess := e.login(t, u.Email, goodPassword)
		auth := &webauthntest.Authenticator{Origin: passkeyOrigin}
		var p *keel.Passkey
		var cred *webauthntest.Credential
		got := since(rec, func() { p, cred = e.registerPasskeyFrom(ctx, t, sess, auth, "Key") })
		checkEvents(t, e, got, wantEvent{Kind: keel.EventPasskeyRegistered, ActorID: u.ID, UserID: u.ID})

		got = since(rec, func() {
			c, _ := e.svc.BeginPasskeyLogin(ctx)
			resp, _ := auth.Assert(c.Options, cred)
			if _, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp}); err != nil {
				t.Fatal(err)
			}
		})
		checkEvents(t, e, got, wantEvent{Kind: keel.EventLoginSucceeded, ActorID: u.ID, UserID: u.ID})

		got = since(rec, func() {
			clone := *cred
			clone.Counter = 0
			c, _ := e.svc.BeginPasskeyLogin(ctx)
			resp, _ := auth.Assert(c.Options, &clone)
			if _, err := e.svc.FinishPasskeyLogin(ctx, keel.PasskeyLoginInput{Ceremony: c.ID, Credential: resp}); err == nil {
				t.Fatal("the cloned passkey signed in")
			}
		})
		checkEvents(t, e, got, wantEvent{Kind: keel.EventLoginFailed, UserID: u.ID, Reason: keel.ReasonPasskeyRefused})

		got = since(rec, func() {
			if err := e.svc.DeletePasskey(ctx, u, p.ID); err != nil {
				t.Fatal(err)
			}
		})
		checkEvents(t, e, got, wantEvent{Kind: keel.EventPasskeyDeleted, ActorID: u.ID, UserID: u.ID})
		for _, ev := range rec.all() {
			if ev.Kind != keel.EventLoginSucceeded && strings.HasPrefix(string(ev.Kind), "passkey") && ev.Method != "passkey" {
				t.Errorf("%s: method %q", ev.Kind, ev.Method)
			}
		}
	})
}

func TestASignUpPolicyHookAppliesToProviderSignUps(t *testing.T) {
	ctx := context.Background()
	with, ops := withProviders(t, "google")
	e := newEnv(t, with, func(c *keel.Config) {
		c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
			if ev.Kind == keel.EventSignedUp && !strings.HasSuffix(ev.Email, "@corp.example") {
				return keel.Refuse(keel.PermissionDenied, "only corp.example addresses may sign up")
			}
			return nil
		}}
	})
	ops["google"].User("sub-outsider", "outsider@gmail.example", true)
	_, err := e.svc.FinishProviderLogin(ctx, e.callback(t, "google"))
	if keel.ErrorCode(err) != keel.PermissionDenied || keel.ErrorMessage(err) != "only corp.example addresses may sign up" {
		t.Fatalf("err = %v, want the hook's refusal", err)
	}
	if _, err := e.store.UserByEmail(ctx, "outsider@gmail.example"); keel.ErrorCode(err) != keel.NotFound {
		t.Errorf("the refused sign-up left a user: %v", err)
	}
	if _, err := e.store.Identity(ctx, "google", "sub-outsider"); keel.ErrorCode(err) != keel.NotFound {
		t.Errorf("the refused sign-up left a linked identity: %v", err)
	}
	ops["google"].User("sub-insider", "insider@corp.example", true)
	if _, err := e.svc.FinishProviderLogin(ctx, e.callback(t, "google")); err != nil {
		t.Errorf("an allowed provider sign-up: %v", err)
	}
}

func TestTheAuditLogRecordsProviderAndPasskeySignIns(t *testing.T) {
	ctx := context.Background()
	with, ops := withProviders(t, "google")
	e := newEnv(t, with, withPasskeys(t))
	admin := e.superuser(t, "admin@example.com")
	ops["google"].User("sub-ada", "ada@example.com", true)
	sess, err := e.providerSession(t, e.callback(t, "google"))
	if err != nil {
		t.Fatal(err)
	}
	victim := e.signUp(t, "victim@example.com")
	ops["google"].User("sub-mallory", "victim@example.com", true)
	if _, err := e.providerSession(t, e.callback(t, "google")); err == nil {
		t.Fatal("the takeover succeeded")
	}

	p, err := e.svc.AuditEvents(ctx, admin, keel.AuditOptions{UserID: sess.User.ID})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []keel.EventKind
	for _, ev := range p.Events {
		kinds = append(kinds, ev.Kind)
		if ev.Detail["method"] != "oidc:google" {
			t.Errorf("%s: detail %v, want method oidc:google", ev.Kind, ev.Detail)
		}
	}
	// Newest first.
	want := []keel.EventKind{keel.EventLoginSucceeded, keel.EventIdentityLinked, keel.EventSignedUp}
	if !slices.Equal(kinds, want) {
		t.Errorf("ada's audit events %v, want %v", kinds, want)
	}

	p, err = e.svc.AuditEvents(ctx, admin, keel.AuditOptions{UserID: victim.ID, Kinds: []keel.EventKind{keel.EventLoginFailed}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 1 || p.Events[0].Detail["reason"] != keel.ReasonAccountNotLinked || p.Events[0].Detail["method"] != "oidc:google" {
		t.Errorf("the victim's audit shows %+v, want the refused takeover", p.Events)
	}
}
