package keel_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

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
