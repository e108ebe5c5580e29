package keel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

func verifying(mode keel.VerificationMode) func(*keel.Config) {
	return func(c *keel.Config) { c.EmailVerification = mode }
}

// settle waits until every email the service sends in the background is
// out, so a test can tell that one was not sent.
func (e *env) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// verificationMail waits for the newest verification email.
func (e *env) verificationMail(t *testing.T) keel.VerificationMail {
	t.Helper()
	e.settle(t)
	ms := e.mail.Verifications()
	if len(ms) == 0 {
		t.Fatal("no verification email was sent")
	}
	return ms[len(ms)-1]
}

func TestEmailVerification(t *testing.T) {
	ctx := context.Background()
	request := func(e *env, email string) error {
		return e.svc.RequestVerification(ctx, keel.VerificationRequest{Email: email, ClientAddr: "10.0.0.1"})
	}

	t.Run("with verification off sign-up sends nothing and an unverified user logs in", func(t *testing.T) {
		e := newEnv(t)
		u := e.signUp(t, "ada@example.com")
		e.login(t, "ada@example.com", goodPassword)
		wantRefusal(t, request(e, "ada@example.com"), keel.ErrVerificationOff)
		e.settle(t)
		if u.IsVerified || len(e.mail.Verifications()) != 0 {
			t.Fatalf("verified = %v, mails = %v", u.IsVerified, e.mail.Verifications())
		}
	})

	t.Run("New refuses verification with a Mailer that cannot send its emails", func(t *testing.T) {
		_, err := keel.New(memstore.New(), keel.Config{EmailVerification: keel.VerificationOptional, Mailer: resetOnly{}})
		if err == nil {
			t.Fatal("New accepted a Mailer that is not a VerificationMailer")
		}
		_, err = keel.New(memstore.New(), keel.Config{EmailVerification: keel.VerificationRequired})
		if err == nil {
			t.Fatal("New accepted required verification without a Mailer")
		}
	})

	t.Run("sign-up mails a link that verifies the address once", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		u := e.signUp(t, "Ada@Example.com")
		m := e.verificationMail(t)
		if m.To != "ada@example.com" || len(m.Token) < 40 || !m.ExpiresAt.Equal(e.clock.Now().Truncate(time.Microsecond).Add(keel.DefaultVerificationTokenLifetime)) {
			t.Fatalf("mail = %+v", m)
		}
		if u.IsVerified {
			t.Fatal("a new user is verified")
		}
		got, err := e.svc.VerifyEmail(ctx, m.Token)
		if err != nil || !got.IsVerified {
			t.Fatalf("VerifyEmail = %+v, %v", got, err)
		}
		if s := e.login(t, "ada@example.com", goodPassword); !s.User.IsVerified {
			t.Fatal("the session's user is not verified")
		}
		_, err = e.svc.VerifyEmail(ctx, m.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
	})

	t.Run("with verification optional an unverified user logs in", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.signUp(t, "ada@example.com")
		e.login(t, "ada@example.com", goodPassword)
	})

	t.Run("with verification required login is refused until the address is verified", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationRequired))
		e.signUp(t, "ada@example.com")
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
		wantRefusal(t, err, keel.ErrEmailNotVerified)
		if _, err := e.svc.VerifyEmail(ctx, e.verificationMail(t).Token); err != nil {
			t.Fatal(err)
		}
		e.login(t, "ada@example.com", goodPassword)
	})

	t.Run("with verification required a wrong password reveals nothing about verification", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationRequired))
		e.signUp(t, "ada@example.com")
		for _, email := range []string{"ada@example.com", "nobody@example.com"} {
			_, err := e.svc.Login(ctx, keel.LoginInput{Email: email, Password: "a wrong password"})
			wantRefusal(t, err, keel.ErrIncorrectLogin)
		}
	})

	t.Run("a newer link supersedes the older one", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.signUp(t, "ada@example.com")
		first := e.verificationMail(t)
		if err := request(e, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		second := e.verificationMail(t)
		if second.Token == first.Token {
			t.Fatal("the resent link is the same")
		}
		_, err := e.svc.VerifyEmail(ctx, first.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
		if _, err := e.svc.VerifyEmail(ctx, second.Token); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("an expired link is refused", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional), func(c *keel.Config) { c.VerificationTokenLifetime = time.Hour })
		e.signUp(t, "ada@example.com")
		m := e.verificationMail(t)
		e.clock.Advance(time.Hour)
		_, err := e.svc.VerifyEmail(ctx, m.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
	})

	t.Run("a link sent to an address the account no longer has verifies nothing", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		root := e.superuser(t, "root@example.com")
		u := e.signUp(t, "ada@example.com")
		m := e.verificationMail(t)
		if _, err := e.svc.UpdateUser(ctx, root, u.ID, keel.UpdateUserInput{Email: keel.Some("ada@elsewhere.example")}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.VerifyEmail(ctx, m.Token)
		wantRefusal(t, err, keel.ErrInvalidEmailToken)
	})

	t.Run("made-up, empty and oversized tokens are refused", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.signUp(t, "ada@example.com")
		for _, tok := range []string{"", "made-up", string(make([]byte, 300))} {
			_, err := e.svc.VerifyEmail(ctx, tok)
			wantRefusal(t, err, keel.ErrInvalidEmailToken)
		}
	})

	t.Run("a request for an unknown, verified or inactive address answers nil and sends nothing", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		root := e.superuser(t, "root@example.com")
		if _, err := e.svc.CreateUser(ctx, root, keel.CreateUserInput{Email: "off@example.com", Password: goodPassword, IsActive: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		e.settle(t)
		for _, email := range []string{"nobody@example.com", "root@example.com", "off@example.com"} {
			if err := request(e, email); err != nil {
				t.Fatalf("%s: %v", email, err)
			}
		}
		e.settle(t)
		if ms := e.mail.Verifications(); len(ms) != 0 {
			t.Fatalf("mails sent: %+v", ms)
		}
	})

	t.Run("resending is rate limited per address and email", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.signUp(t, "ada@example.com")
		for range 3 {
			if err := request(e, "ada@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, request(e, "ada@example.com"), keel.RateLimited)
		// Someone else's flood from another address does not stop the owner.
		if err := e.svc.RequestVerification(ctx, keel.VerificationRequest{Email: "ada@example.com", ClientAddr: "10.0.0.2"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a superuser creates a user verified, or marks one verified, and no mail is sent for it", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationRequired))
		root := e.superuser(t, "root@example.com")
		if !root.IsVerified {
			t.Fatal("Bootstrap made an unverified superuser")
		}
		e.login(t, "root@example.com", goodPassword)
		made, err := e.svc.CreateUser(ctx, root, keel.CreateUserInput{Email: "bob@example.com", Password: goodPassword, IsVerified: true})
		if err != nil || !made.IsVerified {
			t.Fatalf("CreateUser = %+v, %v", made, err)
		}
		u := e.signUp(t, "ada@example.com")
		e.settle(t)
		if ms := e.mail.Verifications(); len(ms) != 1 || ms[0].To != "ada@example.com" {
			t.Fatalf("mails = %+v, want one to ada", ms)
		}
		got, err := e.svc.UpdateUser(ctx, root, u.ID, keel.UpdateUserInput{IsVerified: keel.Some(true)})
		if err != nil || !got.IsVerified {
			t.Fatalf("UpdateUser = %+v, %v", got, err)
		}
		e.login(t, "ada@example.com", goodPassword)
		e.login(t, "bob@example.com", goodPassword)
	})

	t.Run("only a superuser marks a user verified", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationRequired))
		bob := e.signUp(t, "bob@example.com")
		ada := e.signUp(t, "ada@example.com")
		_, err := e.svc.UpdateUser(ctx, bob, ada.ID, keel.UpdateUserInput{IsVerified: keel.Some(true)})
		wantRefusal(t, err, keel.ErrNotSuperuser)
	})

	t.Run("a failing mail server fails no sign-up", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.mail.Fail(errors.New("smtp down"))
		e.signUp(t, "ada@example.com")
	})

	t.Run("of concurrent verifications with one token exactly one succeeds", func(t *testing.T) {
		e := newEnv(t, verifying(keel.VerificationOptional))
		e.signUp(t, "ada@example.com")
		m := e.verificationMail(t)
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() { _, errs[i] = e.svc.VerifyEmail(ctx, m.Token) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, keel.ErrInvalidEmailToken) {
				t.Errorf("err = %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d verifications succeeded, want 1", ok)
		}
	})
}

// resetOnly is a Mailer that predates verification.
type resetOnly struct{}

func (resetOnly) SendPasswordReset(context.Context, keel.PasswordResetMail) error { return nil }
func (resetOnly) SendTestEmail(context.Context, string) error                     { return nil }

var _ keel.Mailer = resetOnly{}
