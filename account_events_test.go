package keel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
)

// TestAccountFlowsReportTheirEvents checks the emit points of email
// verification, email change and two-factor authentication.
func TestAccountFlowsReportTheirEvents(t *testing.T) {
	ctx := keel.WithClient(context.Background(), client)
	setup := func(t *testing.T, mods ...func(*keel.Config)) (*env, *recorder) {
		rec := &recorder{}
		e := newEnv(t, append(mods, func(c *keel.Config) { c.Hooks.Before = []keel.BeforeHook{rec.before} })...)
		return e, rec
	}
	since := func(rec *recorder, op func()) []keel.Event {
		n := len(rec.all())
		op()
		return rec.all()[n:]
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("sign-up with verification on reports signed_up and verification_sent", func(t *testing.T) {
		e, rec := setup(t, verifying(keel.VerificationOptional))
		var u *keel.User
		got := since(rec, func() {
			var err error
			u, err = e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
			must(t, err)
		})
		checkEvents(t, e, got,
			wantEvent{Kind: keel.EventSignedUp, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventVerificationSent, ActorID: u.ID, UserID: u.ID, Email: "ada@example.com"})
	})

	t.Run("a resent link reports verification_sent by nobody, and verifying reports email_verified", func(t *testing.T) {
		e, rec := setup(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		e.settle(t) // the sign-up's mail first, so that the newest mail is the resent one
		got := since(rec, func() {
			must(t, e.svc.RequestVerification(ctx, keel.VerificationRequest{Email: "ada@example.com"}))
		})
		checkEvents(t, e, got, wantEvent{Kind: keel.EventVerificationSent, UserID: u.ID})
		got = since(rec, func() {
			_, err := e.svc.VerifyEmail(ctx, e.verificationMail(t).Token)
			must(t, err)
		})
		checkEvents(t, e, got, wantEvent{Kind: keel.EventEmailVerified, ActorID: u.ID, UserID: u.ID})
	})

	t.Run("an unverified login with required verification reports login_failed with why", func(t *testing.T) {
		e, rec := setup(t, verifying(keel.VerificationRequired))
		u := e.signUp(t, "ada@example.com")
		got := since(rec, func() {
			_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
			wantRefusal(t, err, keel.ErrEmailNotVerified)
		})
		checkEvents(t, e, got, wantEvent{Kind: keel.EventLoginFailed, UserID: u.ID, Reason: keel.ReasonEmailNotVerified})
	})

	t.Run("an email change reports email_change_requested, then email_change_confirmed and user_updated", func(t *testing.T) {
		e, rec := setup(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		name := "Ada"
		got := since(rec, func() {
			_, err := e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{FullName: keel.Some(&name), Email: keel.Some("new@example.com")})
			must(t, err)
		})
		checkEvents(t, e, got,
			wantEvent{Kind: keel.EventUserUpdated, ActorID: u.ID, UserID: u.ID, Changes: []string{"full_name"}},
			wantEvent{Kind: keel.EventEmailChangeRequested, ActorID: u.ID, UserID: u.ID, Email: "ada@example.com"})
		if got[1].NewEmail != "new@example.com" {
			t.Errorf("NewEmail = %q", got[1].NewEmail)
		}
		got = since(rec, func() {
			_, err := e.svc.ConfirmEmailChange(ctx, e.emailChange(t).Token)
			must(t, err)
		})
		checkEvents(t, e, got,
			wantEvent{Kind: keel.EventEmailChangeConfirmed, ActorID: u.ID, UserID: u.ID, Email: "ada@example.com"},
			wantEvent{Kind: keel.EventUserUpdated, ActorID: u.ID, UserID: u.ID, Email: "new@example.com", Changes: []string{"email", "is_verified"}})
		if got[0].NewEmail != "new@example.com" {
			t.Errorf("NewEmail = %q", got[0].NewEmail)
		}
	})

	t.Run("a before hook vetoes an email change request: no name change, no token, no mail", func(t *testing.T) {
		veto := keel.Errorf(keel.PermissionDenied, "only @example.com addresses")
		e := newEnv(t, verifying(keel.VerificationOptional), func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
				if ev.Kind == keel.EventEmailChangeRequested && !strings.HasSuffix(ev.NewEmail, "@example.com") {
					return veto
				}
				return nil
			}}
		})
		u := e.signUp(t, "ada@example.com")
		name := "Ada"
		_, err := e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{FullName: keel.Some(&name), Email: keel.Some("ada@elsewhere.example")})
		if !errors.Is(err, veto) {
			t.Fatalf("err = %v, want the veto", err)
		}
		e.settle(t)
		if got, _ := e.store.User(ctx, u.ID); got.FullName != nil {
			t.Fatal("the vetoed operation changed the name")
		}
		if n := len(e.mail.EmailChanges()) + len(e.mail.EmailChangeNotices()); n != 0 {
			t.Fatalf("%d emails went out for a vetoed change", n)
		}
	})

	t.Run("a sign-up rolled back in Service.InTx sends no verification mail", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		errStop := errors.New("stop")
		err := e.svc.InTx(ctx, func(ctx context.Context, _ keel.Tx) error {
			if _, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("InTx = %v", err)
		}
		e.settle(t)
		if ms := e.mail.Verifications(); len(ms) != 0 {
			t.Fatalf("a rolled-back sign-up mailed %+v", ms)
		}
		if err := e.svc.InTx(ctx, func(ctx context.Context, _ keel.Tx) error {
			_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if m := e.verificationMail(t); m.To != "ada@example.com" {
			t.Fatalf("mail = %+v", m)
		}
	})

	t.Run("two-factor operations report their events", func(t *testing.T) {
		e, rec := setup(t, withTOTP)
		root := e.superuser(t, "root@example.com")
		var s *keel.Session
		var secret string
		var codes []string
		got := since(rec, func() { s, secret, codes = e.enrolled(t, "ada@example.com") })
		u := s.User
		if k := kindsOf(got); !contains(k, keel.EventTOTPEnrolled) {
			t.Fatalf("enrolment reported %v", k)
		}

		var ch *keel.Challenge
		got = since(rec, func() { ch = e.challenge(t, "ada@example.com") })
		wantKinds(t, got, keel.EventLoginChallenged)

		got = since(rec, func() {
			_, err := e.complete(ch, wrongCode(e.code(t, secret)), "")
			wantRefusal(t, err, keel.ErrInvalidCode)
		})
		checkEventsNoClient(t, got, wantEvent{Kind: keel.EventSecondFactorFailed, UserID: u.ID, Reason: keel.ReasonWrongCode})

		code := e.code(t, secret)
		got = since(rec, func() {
			_, err := e.complete(ch, code, "")
			must(t, err)
		})
		checkEventsNoClient(t, got,
			wantEvent{Kind: keel.EventSecondFactorSucceeded, ActorID: u.ID, UserID: u.ID, Reason: keel.ReasonTOTPCode},
			wantEvent{Kind: keel.EventLoginSucceeded, ActorID: u.ID, UserID: u.ID})

		got = since(rec, func() {
			_, err := e.complete(e.challenge(t, "ada@example.com"), code, "")
			wantRefusal(t, err, keel.ErrInvalidCode)
		})
		checkEventsNoClient(t, got,
			wantEvent{Kind: keel.EventLoginChallenged, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventSecondFactorFailed, UserID: u.ID, Reason: keel.ReasonUsedCode})

		got = since(rec, func() {
			_, err := e.complete(e.challenge(t, "ada@example.com"), "", codes[0])
			must(t, err)
		})
		checkEventsNoClient(t, got,
			wantEvent{Kind: keel.EventLoginChallenged, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventRecoveryCodeUsed, ActorID: u.ID, UserID: u.ID},
			wantEvent{Kind: keel.EventSecondFactorSucceeded, ActorID: u.ID, UserID: u.ID, Reason: keel.ReasonRecoveryCode},
			wantEvent{Kind: keel.EventLoginSucceeded, ActorID: u.ID, UserID: u.ID})

		got = since(rec, func() {
			_, err := e.complete(&keel.Challenge{Token: "made-up"}, code, "")
			wantRefusal(t, err, keel.ErrInvalidChallenge)
		})
		checkEventsNoClient(t, got, wantEvent{Kind: keel.EventSecondFactorFailed, Reason: keel.ReasonInvalidChallenge})

		e.nextStep()
		got = since(rec, func() {
			_, err := e.svc.RegenerateRecoveryCodes(ctx, s, e.code(t, secret))
			must(t, err)
		})
		checkEventsNoClient(t, got, wantEvent{Kind: keel.EventRecoveryCodesRegenerated, ActorID: u.ID, UserID: u.ID})

		got = since(rec, func() { must(t, e.svc.RemoveTOTP(ctx, root, u.ID)) })
		checkEventsNoClient(t, got, wantEvent{Kind: keel.EventTOTPDisabled, ActorID: root.ID, UserID: u.ID})
	})

	t.Run("too many wrong codes report rate_limited with the second-factor reason", func(t *testing.T) {
		e, rec := setup(t, withTOTP)
		s, secret, _ := e.enrolled(t, "ada@example.com")
		wrong := wrongCode(e.code(t, secret))
		for range 5 {
			e.complete(e.challenge(t, "ada@example.com"), wrong, "")
		}
		got := since(rec, func() {
			_, err := e.complete(e.challenge(t, "ada@example.com"), e.code(t, secret), "")
			wantCode(t, err, keel.RateLimited)
		})
		checkEventsNoClient(t, got,
			wantEvent{Kind: keel.EventLoginChallenged, ActorID: s.User.ID, UserID: s.User.ID},
			wantEvent{Kind: keel.EventRateLimited, UserID: s.User.ID, Reason: keel.ReasonSecondFactorAccount})
	})

	t.Run("disabling reports totp_disabled by the user", func(t *testing.T) {
		e, rec := setup(t, withTOTP)
		s, secret, _ := e.enrolled(t, "ada@example.com")
		got := since(rec, func() {
			must(t, e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: goodPassword, Code: e.code(t, secret)}))
		})
		checkEventsNoClient(t, got, wantEvent{Kind: keel.EventTOTPDisabled, ActorID: s.User.ID, UserID: s.User.ID})
	})
}

// checkEventsNoClient checks kinds, actors, users and reasons of events
// whose operations ran without the test's client.
func checkEventsNoClient(t *testing.T, got []keel.Event, want ...wantEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %d: %+v", kindsOf(got), len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || g.ActorID != w.ActorID || g.UserID != w.UserID || g.Reason != w.Reason {
			t.Errorf("event %d: %s actor %v user %v reason %q, want %s actor %v user %v reason %q",
				i, g.Kind, g.ActorID, g.UserID, g.Reason, w.Kind, w.ActorID, w.UserID, w.Reason)
		}
		if g.User != nil && g.User.PasswordHash != "" {
			t.Errorf("event %d (%s) carries a password hash", i, g.Kind)
		}
	}
}

func wantKinds(t *testing.T, got []keel.Event, want ...keel.EventKind) {
	t.Helper()
	if k := kindsOf(got); len(k) != len(want) || !contains(k, want...) {
		t.Fatalf("events %v, want %v", k, want)
	}
}

func contains(kinds []keel.EventKind, want ...keel.EventKind) bool {
	for _, w := range want {
		found := false
		for _, k := range kinds {
			found = found || k == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestAuditLogKeepsTheAccountFlows(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, withTOTP, verifying(keel.VerificationOptional))
	root := e.superuser(t, "root@example.com")
	s, secret, _ := e.enrolled(t, "ada@example.com")
	u := s.User
	if _, err := e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{Email: keel.Some("new@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.complete(e.challenge(t, "ada@example.com"), wrongCode(e.code(t, secret)), "")
	wantRefusal(t, err, keel.ErrInvalidCode)

	page, err := e.svc.AuditEvents(ctx, root, keel.AuditOptions{UserID: u.ID, Kinds: []keel.EventKind{
		keel.EventVerificationSent, keel.EventTOTPEnrolled, keel.EventEmailChangeRequested,
		keel.EventLoginChallenged, keel.EventSecondFactorFailed,
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[keel.EventKind]map[string]string{}
	for _, ev := range page.Events {
		got[ev.Kind] = ev.Detail
	}
	if len(got) != 5 {
		t.Fatalf("audit kinds %v, want the five asked for", got)
	}
	if got[keel.EventEmailChangeRequested]["new_email"] != "new@example.com" {
		t.Errorf("email change detail %v", got[keel.EventEmailChangeRequested])
	}
	if got[keel.EventSecondFactorFailed]["reason"] != keel.ReasonWrongCode {
		t.Errorf("second factor failure detail %v", got[keel.EventSecondFactorFailed])
	}
}
