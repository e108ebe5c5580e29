package keel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

// emailChange waits for the newest email-change confirmation.
func (e *env) emailChange(t *testing.T) keel.EmailChangeMail {
	t.Helper()
	e.settle(t)
	ms := e.mail.EmailChanges()
	if len(ms) == 0 {
		t.Fatal("no email-change confirmation was sent")
	}
	return ms[len(ms)-1]
}

func TestEmailChange(t *testing.T) {
	ctx := context.Background()
	changeEmail := func(e *env, u *keel.User, email string) (*keel.User, error) {
		return e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{Email: keel.Some(email)})
	}

	t.Run("with verification off the change takes effect at once, unverified", func(t *testing.T) {
		e := newEnv(t)
		u := e.signUp(t, "ada@example.com")
		got, err := changeEmail(e, u, "ada@new.example")
		if err != nil || got.Email != "ada@new.example" || got.IsVerified {
			t.Fatalf("UpdateMe = %+v, %v", got, err)
		}
		e.settle(t)
		if len(e.mail.EmailChanges())+len(e.mail.EmailChangeNotices()) != 0 {
			t.Fatal("mail was sent for a change with verification off")
		}
	})

	t.Run("with verification on the change waits for the new address to confirm it", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		name := "Ada L."
		got, err := e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{Email: keel.Some("Ada@New.Example"), FullName: keel.Some(&name)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Email != "ada@example.com" || got.FullName == nil || *got.FullName != name {
			t.Fatalf("UpdateMe = %+v: the email changed at once, or the name did not", got)
		}
		m := e.emailChange(t)
		if m.To != "ada@new.example" || m.OldEmail != "ada@example.com" || len(m.Token) < 40 {
			t.Fatalf("confirmation = %+v", m)
		}
		notices := e.mail.EmailChangeNotices()
		if len(notices) != 1 || notices[0].To != "ada@example.com" || notices[0].NewEmail != "ada@new.example" {
			t.Fatalf("notices = %+v", notices)
		}
		// The old address still logs in until the change is confirmed.
		e.login(t, "ada@example.com", goodPassword)

		changed, err := e.svc.ConfirmEmailChange(ctx, m.Token)
		if err != nil || changed.Email != "ada@new.example" || !changed.IsVerified {
			t.Fatalf("ConfirmEmailChange = %+v, %v", changed, err)
		}
		e.login(t, "ada@new.example", goodPassword)
		_, err = e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
		wantRefusal(t, err, keel.ErrIncorrectLogin)
		_, err = e.svc.ConfirmEmailChange(ctx, m.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
	})

	t.Run("a taken address is refused when asked for", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		e.signUp(t, "bob@example.com")
		_, err := changeEmail(e, u, "bob@example.com")
		wantRefusal(t, err, keel.ErrEmailTaken)
	})

	t.Run("two pending changes to one address never give it to two accounts", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		ada := e.signUp(t, "ada@example.com")
		bob := e.signUp(t, "bob@example.com")
		if _, err := changeEmail(e, ada, "shared@example.com"); err != nil {
			t.Fatal(err)
		}
		adaMail := e.emailChange(t)
		if _, err := changeEmail(e, bob, "shared@example.com"); err != nil {
			t.Fatal(err)
		}
		bobMail := e.emailChange(t)
		if _, err := e.svc.ConfirmEmailChange(ctx, adaMail.Token); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.ConfirmEmailChange(ctx, bobMail.Token)
		wantRefusal(t, err, keel.ErrEmailTaken)
		if got, _ := e.store.User(ctx, bob.ID); got.Email != "bob@example.com" {
			t.Fatalf("bob's email = %s", got.Email)
		}
	})

	t.Run("an address signed up while a change to it is pending stays with its new owner", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		ada := e.signUp(t, "ada@example.com")
		if _, err := changeEmail(e, ada, "taken@example.com"); err != nil {
			t.Fatal(err)
		}
		m := e.emailChange(t)
		e.signUp(t, "taken@example.com")
		_, err := e.svc.ConfirmEmailChange(ctx, m.Token)
		wantRefusal(t, err, keel.ErrEmailTaken)
	})

	t.Run("of concurrent confirmations of two changes to one address exactly one wins", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		var tokens []string
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
			u := e.signUp(t, email)
			if _, err := changeEmail(e, u, "shared@example.com"); err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, e.emailChange(t).Token)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(tokens))
		for i, tok := range tokens {
			wg.Go(func() { _, errs[i] = e.svc.ConfirmEmailChange(ctx, tok) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, keel.ErrEmailTaken):
				t.Errorf("err = %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d confirmations won, want 1", won)
		}
	})

	t.Run("a newer change supersedes the older one", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		changeEmail(e, u, "one@example.com")
		first := e.emailChange(t)
		changeEmail(e, u, "two@example.com")
		second := e.emailChange(t)
		_, err := e.svc.ConfirmEmailChange(ctx, first.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
		if got, err := e.svc.ConfirmEmailChange(ctx, second.Token); err != nil || got.Email != "two@example.com" {
			t.Fatalf("ConfirmEmailChange = %+v, %v", got, err)
		}
	})

	t.Run("a password change voids a pending change, so the owner can stop one", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		changeEmail(e, s.User, "attacker@example.com")
		m := e.emailChange(t)
		e.clock.Advance(time.Second)
		if err := e.svc.ChangePassword(ctx, s, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a brand new password"}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.ConfirmEmailChange(ctx, m.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
	})

	t.Run("an expired link is refused", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		changeEmail(e, u, "new@example.com")
		m := e.emailChange(t)
		e.clock.Advance(keel.DefaultVerificationTokenLifetime)
		_, err := e.svc.ConfirmEmailChange(ctx, m.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
	})

	t.Run("a verification link is no email-change link, nor the other way round", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		verify := e.verificationMail(t)
		changeEmail(e, u, "new@example.com")
		change := e.emailChange(t)
		_, err := e.svc.ConfirmEmailChange(ctx, verify.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
		_, err = e.svc.VerifyEmail(ctx, change.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
		// Neither was used up by the wrong call.
		if _, err := e.svc.VerifyEmail(ctx, verify.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ConfirmEmailChange(ctx, change.Token); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("change requests are rate limited per account", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "ada@example.com")
		for range 3 {
			if _, err := changeEmail(e, u, "new@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		_, err := changeEmail(e, u, "new@example.com")
		wantCode(t, err, keel.RateLimited)
	})
}
