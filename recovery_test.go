package keel_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func TestPasswordRecovery(t *testing.T) {
	ctx := context.Background()
	request := func(e *env, email string) {
		t.Helper()
		if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: email, ClientAddr: "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	reset := func(e *env, token, password string) error {
		return e.svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: token, NewPassword: password})
	}

	t.Run("a reset token sets the password, ends every session and logs nobody in", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		request(e, "ADA@example.com")
		m := e.mail.WaitReset(t)
		if m.To != "ada@example.com" || len(m.Token) < 40 || strings.ContainsAny(m.Token, "+/=") {
			t.Fatalf("mail = %+v", m)
		}
		if err := reset(e, m.Token, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, s.Token); err == nil {
			t.Fatal("a session survived the reset")
		}
		e.login(t, "ada@example.com", "a brand new password")
	})
	t.Run("a reset token works once", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		request(e, "ada@example.com")
		m := e.mail.WaitReset(t)
		if err := reset(e, m.Token, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, reset(e, m.Token, "yet another password"), keel.ErrInvalidResetToken)
	})
	t.Run("of concurrent resets with one token exactly one succeeds", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		request(e, "ada@example.com")
		m := e.mail.WaitReset(t)
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if reset(e, m.Token, "concurrent password "+string(rune('a'+i))) == nil {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d resets succeeded", ok.Load())
		}
	})
	t.Run("an expired reset token is invalid", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		request(e, "ada@example.com")
		m := e.mail.WaitReset(t)
		e.clock.Advance(keel.DefaultResetTokenLifetime + time.Second)
		wantErr(t, reset(e, m.Token, "a brand new password"), keel.ErrInvalidResetToken)
	})
	t.Run("a newer reset token supersedes an older one", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		request(e, "ada@example.com")
		old := e.mail.WaitReset(t)
		e.clock.Advance(time.Second)
		request(e, "ada@example.com")
		newer := e.mail.WaitReset(t)
		wantErr(t, reset(e, old.Token, "a brand new password"), keel.ErrInvalidResetToken)
		if err := reset(e, newer.Token, "a brand new password"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a password change voids a reset token issued before it", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		request(e, "ada@example.com")
		m := e.mail.WaitReset(t)
		s := e.login(t, "ada@example.com", goodPassword)
		if err := e.svc.ChangePassword(ctx, s, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a new long password"}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, reset(e, m.Token, "a brand new password"), keel.ErrInvalidResetToken)
	})
	t.Run("unknown tokens are invalid", func(t *testing.T) {
		e := newEnv(t)
		wantErr(t, reset(e, "made-up", "a brand new password"), keel.ErrInvalidResetToken)
		wantErr(t, reset(e, "", "a brand new password"), keel.ErrInvalidResetToken)
	})
	t.Run("a weak new password is invalid before the token is spent", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		request(e, "ada@example.com")
		m := e.mail.WaitReset(t)
		wantCode(t, reset(e, m.Token, "short"), keel.Invalid)
		if err := reset(e, m.Token, "a brand new password"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an unknown or inactive email gets the same answer and no mail", func(t *testing.T) {
		e := newEnv(t)
		e.deactivated(t, "off@example.com")
		request(e, "nobody@example.com")
		request(e, "off@example.com")
		e.svc.Close(ctx)
		if n := len(e.mail.Resets()); n != 0 {
			t.Fatalf("%d mails sent", n)
		}
	})
	t.Run("recovery is limited per address and email without locking the owner out", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		for range 3 {
			request(e, "ada@example.com")
		}
		err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com", ClientAddr: "10.0.0.1"})
		wantErr(t, err, keel.ErrTooManyRequests)
		if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com", ClientAddr: "192.0.2.7"}); err != nil {
			t.Fatalf("the owner's own address was locked out: %v", err)
		}
	})
	t.Run("a reset lifts the login lockout", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) { c.RateLimits.LoginPerAccount = keel.Limit{Max: 2, Window: time.Hour} })
		e.signUp(t, "ada@example.com")
		for range 3 {
			e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "wrong password!"})
		}
		request(e, "ada@example.com")
		m := e.mail.WaitReset(t)
		if err := reset(e, m.Token, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		e.login(t, "ada@example.com", "a brand new password")
	})
	t.Run("without a mailer recovery is unavailable, whoever asks", func(t *testing.T) {
		e := newEnv(t, func(c *keel.Config) { c.Mailer = nil })
		e.signUp(t, "ada@example.com")
		wantCode(t, e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com"}), keel.Unavailable)
		wantCode(t, e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "nobody@example.com"}), keel.Unavailable)
	})
}
