package keel_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
	"golang.org/x/crypto/bcrypt"
)

func TestLogin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.signUp(t, "ada@example.com")
	inactive, err := e.svc.CreateUserTrusted(ctx, keel.CreateUserInput{Email: "off@example.com", Password: goodPassword, IsActive: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	_ = inactive

	tests := []struct {
		name            string
		email, password string
		want            error
	}{
		{"a correct email and password log in", "ada@example.com", goodPassword, nil},
		{"the email is matched after trimming and lower-casing", "  ADA@Example.com ", goodPassword, nil},
		{"a wrong password is an incorrect login", "ada@example.com", "wrong password!", keel.ErrIncorrectLogin},
		{"an unknown email is the same incorrect login", "nobody@example.com", goodPassword, keel.ErrIncorrectLogin},
		{"an empty email is an incorrect login", "", goodPassword, keel.ErrIncorrectLogin},
		{"an oversized password is an incorrect login without hashing it", "ada@example.com", strings.Repeat("x", 129), keel.ErrIncorrectLogin},
		{"the password is case-sensitive", "ada@example.com", strings.ToUpper(goodPassword), keel.ErrIncorrectLogin},
		{"an inactive user with the right password is told it is inactive", "off@example.com", goodPassword, keel.ErrInactiveUser},
		{"an inactive user with a wrong password learns nothing", "off@example.com", "wrong password!", keel.ErrIncorrectLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := e.svc.Login(ctx, keel.LoginInput{Email: tt.email, Password: tt.password})
			if tt.want != nil {
				wantErr(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.User.ID != u.ID || len(s.Token) < 40 || !s.Expiry.After(time.Now()) {
				t.Fatalf("session = %+v", s)
			}
			got, err := e.svc.Authenticate(ctx, s.Token)
			if err != nil || got.User.ID != u.ID {
				t.Fatalf("Authenticate = %v, %v", got, err)
			}
		})
	}
}

func TestEveryLoginIssuesANewToken(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, "ada@example.com")
	seen := map[string]bool{}
	for range 5 {
		s := e.login(t, "ada@example.com", goodPassword)
		if seen[s.Token] {
			t.Fatal("a login reused a token")
		}
		seen[s.Token] = true
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.signUp(t, "ada@example.com")
	s := e.login(t, "ada@example.com", goodPassword)

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"no token is not authenticated", "", keel.ErrNotAuthenticated},
		{"an unknown token cannot be validated", "not-a-token", keel.ErrInvalidCredentials},
		{"a huge token cannot be validated", strings.Repeat("a", 10000), keel.ErrInvalidCredentials},
		{"a token with one character changed cannot be validated", s.Token[:len(s.Token)-1] + flip(s.Token[len(s.Token)-1]), keel.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Authenticate(ctx, tt.token)
			wantErr(t, err, tt.want)
		})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestSessionsEnd(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// end ends sessions; it returns which of (a, b, other) must still work.
		end func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool
	}{
		{"logout ends only that session", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			if err := e.svc.Logout(ctx, a.Token); err != nil {
				t.Fatal(err)
			}
			return [3]bool{false, true, true}
		}},
		{"logging out twice is not an error", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			e.svc.Logout(ctx, a.Token)
			if err := e.svc.Logout(ctx, a.Token); err != nil {
				t.Fatal(err)
			}
			return [3]bool{false, true, true}
		}},
		{"logging out everywhere ends every session of the user only", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			if err := e.svc.LogoutAll(ctx, a.User); err != nil {
				t.Fatal(err)
			}
			return [3]bool{false, false, true}
		}},
		{"changing the password ends the other sessions and keeps this one", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			if err := e.svc.ChangePassword(ctx, a, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a new long password"}); err != nil {
				t.Fatal(err)
			}
			return [3]bool{true, false, true}
		}},
		{"deactivating the user ends its sessions", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			root := e.superuser(t, "root@example.com")
			if _, err := e.svc.UpdateUser(ctx, root, a.User.ID, keel.UpdateUserInput{IsActive: keel.Some(false)}); err != nil {
				t.Fatal(err)
			}
			return [3]bool{false, false, true}
		}},
		{"a superuser setting the password ends every session", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			root := e.superuser(t, "root@example.com")
			if _, err := e.svc.UpdateUser(ctx, root, a.User.ID, keel.UpdateUserInput{Password: keel.Some("another long password")}); err != nil {
				t.Fatal(err)
			}
			return [3]bool{false, false, true}
		}},
		{"deleting the user ends its sessions", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			if err := e.svc.DeleteUser(ctx, a.User, a.User.ID); err != nil {
				t.Fatal(err)
			}
			return [3]bool{false, false, true}
		}},
		{"the absolute lifetime ends every session", func(t *testing.T, e *env, a, b, other *keel.Session) [3]bool {
			e.clock.Advance(keel.DefaultSessionLifetime + time.Minute)
			return [3]bool{false, false, false}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.signUp(t, "ada@example.com")
			e.signUp(t, "bob@example.com")
			a := e.login(t, "ada@example.com", goodPassword)
			b := e.login(t, "ada@example.com", goodPassword)
			other := e.login(t, "bob@example.com", goodPassword)
			want := tt.end(t, e, a, b, other)
			for i, s := range []*keel.Session{a, b, other} {
				_, err := e.svc.Authenticate(ctx, s.Token)
				if want[i] && err != nil {
					t.Errorf("session %d: %v, want it to work", i, err)
				}
				if !want[i] && keel.ErrorCode(err) != keel.Unauthenticated {
					t.Errorf("session %d: err = %v, want it ended", i, err)
				}
			}
		})
	}
}

func TestIdleTimeoutEndsAnUnusedSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *keel.Config) { c.IdleTimeout = 30 * time.Minute })
	e.signUp(t, "ada@example.com")
	s := e.login(t, "ada@example.com", goodPassword)
	if _, err := e.svc.Authenticate(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * time.Minute)
	_, err := e.svc.Authenticate(ctx, s.Token)
	wantErr(t, err, keel.ErrInvalidCredentials)
}

// A request still running when its session is logged out must not bring
// the session back: with an idle timeout every Authenticate writes the
// session, racing the logout's delete.
func TestLogoutRacingASessionSaveDoesNotReviveIt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *keel.Config) { c.IdleTimeout = time.Hour })
	e.signUp(t, "ada@example.com")
	for range 30 {
		s := e.login(t, "ada@example.com", goodPassword)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.svc.Authenticate(ctx, s.Token)
			}()
		}
		if err := e.svc.Logout(ctx, s.Token); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if _, err := e.svc.Authenticate(ctx, s.Token); err == nil {
			t.Fatal("a logged-out session came back")
		}
	}
}

func TestInactiveUsersCannotAuthenticate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.signUp(t, "ada@example.com")
	s := e.login(t, "ada@example.com", goodPassword)
	// Deactivate behind the Service's back: sessions survive in the store,
	// and Authenticate must still refuse them.
	u.IsActive = false
	if err := e.store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(ctx, s.Token)
	wantErr(t, err, keel.ErrInactiveUser)
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name             string
		current, newPass string
		want             error
		wantCode         keel.Code
	}{
		{"a wrong current password is refused", "not my password", "a new long password", keel.ErrIncorrectPassword, 0},
		{"the same password is refused", goodPassword, goodPassword, keel.ErrSamePassword, 0},
		{"a short new password is invalid", goodPassword, "short", nil, keel.Invalid},
		{"a common new password is invalid", goodPassword, "qwertyuiop", nil, keel.Invalid},
		{"a good new password is set", goodPassword, "a new long password", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.signUp(t, "ada@example.com")
			s := e.login(t, "ada@example.com", goodPassword)
			err := e.svc.ChangePassword(ctx, s, keel.ChangePasswordInput{CurrentPassword: tt.current, NewPassword: tt.newPass})
			switch {
			case tt.want != nil:
				wantErr(t, err, tt.want)
			case tt.wantCode != 0:
				wantCode(t, err, tt.wantCode)
			case err != nil:
				t.Fatal(err)
			default:
				if _, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword}); err == nil {
					t.Fatal("the old password still works")
				}
				e.login(t, "ada@example.com", tt.newPass)
			}
		})
	}
}

func TestLoginRateLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *keel.Config) {
		c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: 10 * time.Minute}
		c.RateLimits.LoginPerAddress = keel.Limit{Max: 5, Window: 10 * time.Minute}
	})
	e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")
	fail := func(email, addr string) error {
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: email, Password: "wrong password!", ClientAddr: addr})
		return err
	}

	t.Run("failures up to the account limit are ordinary failures", func(t *testing.T) {
		for range 3 {
			wantErr(t, fail("ada@example.com", "10.0.0.1"), keel.ErrIncorrectLogin)
		}
	})
	t.Run("past the account limit even the right password is refused with a retry time", func(t *testing.T) {
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword, ClientAddr: "10.0.0.9"})
		wantErr(t, err, keel.ErrTooManyRequests)
		var ke *keel.Error
		if !errorsAs(err, &ke) || ke.RetryAfter <= 0 || ke.RetryAfter > 10*time.Minute {
			t.Fatalf("RetryAfter = %v", ke)
		}
	})
	t.Run("another account is not limited by it", func(t *testing.T) {
		e.login(t, "bob@example.com", goodPassword)
	})
	t.Run("the address limit counts failures across accounts", func(t *testing.T) {
		wantErr(t, fail("bob@example.com", "10.0.0.1"), keel.ErrIncorrectLogin)
		wantErr(t, fail("eve@example.com", "10.0.0.1"), keel.ErrIncorrectLogin)
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "bob@example.com", Password: goodPassword, ClientAddr: "10.0.0.1"})
		wantErr(t, err, keel.ErrTooManyRequests)
	})
	t.Run("the limits lift when the window ends", func(t *testing.T) {
		e.clock.Advance(11 * time.Minute)
		s, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword, ClientAddr: "10.0.0.1"})
		if err != nil || s == nil {
			t.Fatal(err)
		}
	})
	t.Run("a successful login clears the account's failures", func(t *testing.T) {
		for range 2 {
			fail("ada@example.com", "10.0.0.2")
		}
		e.login(t, "ada@example.com", goodPassword)
		for range 3 {
			wantErr(t, fail("ada@example.com", "10.0.0.3"), keel.ErrIncorrectLogin)
		}
	})
}

func TestRateLimitsCanBeTurnedOff(t *testing.T) {
	e := newEnv(t, func(c *keel.Config) {
		c.RateLimits = keel.RateLimits{Disabled: true, LoginPerAccount: keel.Limit{Max: 1}}
	})
	e.signUp(t, "ada@example.com")
	for range 5 {
		_, err := e.svc.Login(context.Background(), keel.LoginInput{Email: "ada@example.com", Password: "wrong password!"})
		wantErr(t, err, keel.ErrIncorrectLogin)
	}
}

func TestLoginUpgradesOldHashes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.signUp(t, "ada@example.com")
	bc, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hash string
	}{
		{"an imported bcrypt hash", string(bc)},
		{"an argon2id hash with other parameters", argon2Hash(goodPassword, 32, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is verified and re-hashed", func(t *testing.T) {
			hash := tt.hash
			cur, _ := e.store.User(ctx, u.ID)
			cur.PasswordHash = hash
			if err := e.store.UpdateUser(ctx, cur); err != nil {
				t.Fatal(err)
			}
			e.login(t, "ada@example.com", goodPassword)
			after, _ := e.store.User(ctx, u.ID)
			if after.PasswordHash == hash || !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("hash not upgraded: %s", after.PasswordHash)
			}
			e.login(t, "ada@example.com", goodPassword)
		})
	}
}

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
		if _, err := e.svc.CreateUserTrusted(ctx, keel.CreateUserInput{Email: "off@example.com", Password: goodPassword, IsActive: ptr(false)}); err != nil {
			t.Fatal(err)
		}
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

func TestSendTestEmail(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	user := e.signUp(t, "ada@example.com")
	if err := e.svc.SendTestEmail(ctx, root, "Someone@Example.com"); err != nil {
		t.Fatal(err)
	}
	if got := e.mail.Tests(); len(got) != 1 || got[0] != "someone@example.com" {
		t.Fatalf("tests = %v", got)
	}
	wantErr(t, e.svc.SendTestEmail(ctx, user, "x@example.com"), keel.ErrNotSuperuser)
	wantCode(t, e.svc.SendTestEmail(ctx, root, "not an email"), keel.Invalid)
	e.mail.Fail(context.DeadlineExceeded)
	wantCode(t, e.svc.SendTestEmail(ctx, root, "x@example.com"), keel.Unavailable)
}

func TestConcurrentPasswordGuessesStayWithinTheAccountLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		guess func(svc *keel.Service, sess *keel.Session) error
		wrong error
	}{
		{"parallel wrong logins", func(svc *keel.Service, _ *keel.Session) error {
			_, err := svc.Login(context.Background(), keel.LoginInput{Email: "ada@example.com", Password: "wrong password!"})
			return err
		}, keel.ErrIncorrectLogin},
		{"parallel wrong current passwords", func(svc *keel.Service, sess *keel.Session) error {
			return svc.ChangePassword(context.Background(), sess, keel.ChangePasswordInput{CurrentPassword: "wrong password!", NewPassword: "another fine passphrase"})
		}, keel.ErrIncorrectPassword},
	} {
		t.Run(tc.name+" are checked no more often than the limit allows", func(t *testing.T) {
			ctx := context.Background()
			hs := &hookStore{Store: memstore.New()}
			svc, err := keel.New(hs, keel.Config{Argon2: cheap, RateLimits: keel.RateLimits{
				LoginPerAccount: keel.Limit{Max: 3, Window: 10 * time.Minute},
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			// Every guess reads the counter before any is counted: the
			// worst interleaving of a flood of parallel guesses.
			const guesses = 20
			var arrived atomic.Int32
			all := make(chan struct{})
			hs.beforeCounter = func() {
				if arrived.Add(1) == guesses {
					close(all)
				}
				<-all
			}
			// ChangePassword reads the user right before it verifies.
			var reads atomic.Int32
			hs.afterUser = func(uuid.UUID) { reads.Add(1) }
			var wrong, limited atomic.Int32
			var wg sync.WaitGroup
			for range guesses {
				wg.Go(func() {
					switch err := tc.guess(svc, sess); {
					case errors.Is(err, tc.wrong):
						wrong.Add(1)
					case errors.Is(err, keel.ErrTooManyRequests):
						limited.Add(1)
					default:
						t.Errorf("guess: %v", err)
					}
				})
			}
			wg.Wait()
			if wrong.Load() > 3 || wrong.Load()+limited.Load() != guesses {
				t.Fatalf("%d of %d parallel guesses were answered as wrong (limit 3), %d refused", wrong.Load(), guesses, limited.Load())
			}
			if reads.Load() > 3 {
				t.Fatalf("%d of %d parallel guesses were checked against the password (limit 3)", reads.Load(), guesses)
			}
		})
	}
}
