package keel_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

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
