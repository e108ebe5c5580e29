package keel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// TestAccountSecurityAcrossProcesses runs sessions, API tokens, device
// tokens and the session cap on every store, through two Services on one
// database: what one process ends, the other refuses at once.
func TestAccountSecurityAcrossProcesses(t *testing.T) {
	for _, kind := range keeltest.StoreKinds {
		t.Run("on "+kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			storeA, storeB := keeltest.TwoProcesses(t, kind)
			clk := newClock()
			cfg := keel.Config{Argon2: cheap, Now: clk.Now, MaxSessionsPerUser: 3,
				RateLimits: keel.RateLimits{LoginPerAccount: keel.Limit{Max: 3, Window: time.Hour}}}
			a, err := keel.New(storeA, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := keel.New(storeB, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			login := func(svc *keel.Service, addr, device string) (*keel.Session, error) {
				client := keel.WithClient(ctx, keel.Client{UserAgent: "agent " + addr})
				return svc.Login(client, keel.LoginInput{Email: "ada@example.com", Password: goodPassword, ClientAddr: addr, DeviceToken: device})
			}
			mustLogin := func(svc *keel.Service, addr string) *keel.Session {
				t.Helper()
				s, err := login(svc, addr, "")
				if err != nil {
					t.Fatal(err)
				}
				return s
			}

			s1 := mustLogin(a, "192.0.2.1")
			clk.Advance(time.Second)
			s2 := mustLogin(a, "192.0.2.2")

			t.Run("a session listed and ended in one process stops working in the other at once", func(t *testing.T) {
				listed, err := b.Sessions(ctx, s2, s2.User.ID)
				if err != nil || len(listed) != 2 {
					t.Fatalf("Sessions = %+v, %v", listed, err)
				}
				if listed[0].ID != s2.ID || !listed[0].Current || listed[0].ClientAddr != "192.0.2.2" || listed[0].UserAgent != "agent 192.0.2.2" {
					t.Errorf("the newest session = %+v", listed[0])
				}
				if err := b.EndSession(ctx, s2.User, s2.User.ID, s1.ID); err != nil {
					t.Fatal(err)
				}
				_, err = a.Authenticate(ctx, s1.Token)
				wantErr(t, err, keel.ErrInvalidCredentials)
				if _, err := a.Authenticate(ctx, s2.Token); err != nil {
					t.Fatal(err)
				}
			})

			t.Run("last use is recorded once a minute and read back", func(t *testing.T) {
				clk.Advance(2 * time.Minute)
				if _, err := b.Authenticate(ctx, s2.Token); err != nil {
					t.Fatal(err)
				}
				listed, err := a.Sessions(ctx, s2, s2.User.ID)
				if err != nil || len(listed) != 1 {
					t.Fatalf("Sessions = %+v, %v", listed, err)
				}
				if want := clk.Now().UTC().Truncate(time.Microsecond); !listed[0].LastUsedAt.Equal(want) {
					t.Errorf("LastUsedAt = %v, want %v", listed[0].LastUsedAt, want)
				}
			})

			t.Run("an API token made in one process is scoped and revoked in the other", func(t *testing.T) {
				tok, err := a.CreateAPIToken(ctx, s2.User, keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead, ExpiresInDays: 7})
				if err != nil {
					t.Fatal(err)
				}
				ts, err := b.Authenticate(ctx, tok.Token)
				if err != nil || !ts.APIToken || ts.Scope != keel.ScopeRead {
					t.Fatalf("Authenticate(token) = %+v, %v", ts, err)
				}
				if _, _, err := b.Items(ctx, ts.User, keel.ListOptions{}); err != nil {
					t.Errorf("a read-only token cannot read: %v", err)
				}
				_, err = b.CreateItem(ctx, ts.User, keel.CreateItemInput{Title: "no"})
				wantErr(t, err, keel.ErrReadOnlyToken)
				if err := a.RevokeAPIToken(ctx, s2.User, s2.User.ID, tok.ID); err != nil {
					t.Fatal(err)
				}
				_, err = b.Authenticate(ctx, tok.Token)
				wantErr(t, err, keel.ErrInvalidCredentials)
			})

			t.Run("a device token from one process is trusted by the other during a lockout", func(t *testing.T) {
				for range 3 {
					_, err := b.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "wrong password!"})
					wantErr(t, err, keel.ErrIncorrectLogin)
				}
				_, err := login(b, "198.51.100.1", "")
				wantErr(t, err, keel.ErrTooManyRequests)
				if _, err := login(b, "198.51.100.1", s2.DeviceToken); err != nil {
					t.Fatalf("the device token of a login to the other process: %v", err)
				}
				if err := a.UnlockEmail(ctx, "ada@example.com"); err != nil {
					t.Fatal(err)
				}
			})

			t.Run("a login past the cap ends the least recently used session", func(t *testing.T) {
				if _, err := a.EndOtherSessions(ctx, s2); err != nil {
					t.Fatal(err)
				}
				clk.Advance(time.Second)
				s3 := mustLogin(b, "192.0.2.3")
				clk.Advance(time.Second)
				s4 := mustLogin(a, "192.0.2.4")
				clk.Advance(2 * time.Minute)
				for _, s := range []*keel.Session{s2, s4} { // s3 is now the least recently used
					if _, err := b.Authenticate(ctx, s.Token); err != nil {
						t.Fatal(err)
					}
				}
				s5 := mustLogin(b, "192.0.2.5")
				_, err := a.Authenticate(ctx, s3.Token)
				wantErr(t, err, keel.ErrInvalidCredentials)
				for _, s := range []*keel.Session{s2, s4, s5} {
					if _, err := a.Authenticate(ctx, s.Token); err != nil {
						t.Errorf("a session within the cap was ended: %v", err)
					}
				}
			})
		})
	}
}

// TestConcurrentTokenCreatesKeepTheCap makes the last tokens a user may
// have from two processes at once: exactly as many succeed as there is
// room for, on every store.
func TestConcurrentTokenCreatesKeepTheCap(t *testing.T) {
	for _, kind := range keeltest.StoreKinds {
		t.Run("on "+kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			storeA, storeB := keeltest.TwoProcesses(t, kind)
			var svcs []*keel.Service
			for _, s := range []keel.Store{storeA, storeB} {
				svc, err := keel.New(s, keel.Config{Argon2: cheap})
				if err != nil {
					t.Fatal(err)
				}
				svcs = append(svcs, svc)
			}
			if _, err := svcs[0].SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			sess, err := svcs[0].Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			in := keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead, ExpiresInDays: 1}
			for range keel.MaxAPITokensPerUser - 3 {
				if _, err := svcs[0].CreateAPIToken(ctx, sess.User, in); err != nil {
					t.Fatal(err)
				}
			}
			const tries = 10
			errs := make(chan error, tries)
			var wg sync.WaitGroup
			for i := range tries {
				wg.Go(func() {
					_, err := svcs[i%2].CreateAPIToken(ctx, sess.User, in)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			made := 0
			for err := range errs {
				switch {
				case err == nil:
					made++
				case !errors.Is(err, keel.ErrTooManyAPITokens):
					t.Errorf("CreateAPIToken: %v", err)
				}
			}
			listed, err := svcs[1].APITokens(ctx, sess.User, sess.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != keel.MaxAPITokensPerUser || made != 3 {
				t.Errorf("%d tokens made concurrently, %d listed; want 3 and %d", made, len(listed), keel.MaxAPITokensPerUser)
			}
		})
	}
}
