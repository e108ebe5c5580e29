package keel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

func (e *env) loginFrom(t *testing.T, email, addr, userAgent string) *keel.Session {
	t.Helper()
	ctx := keel.WithClient(context.Background(), keel.Client{UserAgent: userAgent})
	s, err := e.svc.Login(ctx, keel.LoginInput{Email: email, Password: goodPassword, ClientAddr: addr})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return s
}

func TestSessionsListTheUsersSessionsWithTheirClients(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ada := e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")
	first := e.loginFrom(t, "ada@example.com", "192.0.2.1", "Firefox/140.0")
	e.clock.Advance(time.Second)
	second := e.loginFrom(t, "ada@example.com", "2001:db8::7", "curl/8.0")
	e.loginFrom(t, "bob@example.com", "198.51.100.9", "Bob's browser")

	got, err := e.svc.Sessions(ctx, second, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Sessions = %d sessions, want ada's 2", len(got))
	}
	want := []struct {
		sess      *keel.Session
		addr, ua  string
		isCurrent bool
	}{{second, "2001:db8::7", "curl/8.0", true}, {first, "192.0.2.1", "Firefox/140.0", false}}
	for i, w := range want {
		g := got[i]
		if g.ID != w.sess.ID || g.ClientAddr != w.addr || g.UserAgent != w.ua || g.Current != w.isCurrent {
			t.Errorf("session %d = %+v, want ID %s from %s (%s), current %v", i, g, w.sess.ID, w.addr, w.ua, w.isCurrent)
		}
		if !g.Expiry.Equal(w.sess.Expiry) || g.CreatedAt.IsZero() || !g.LastUsedAt.Equal(g.CreatedAt) {
			t.Errorf("session %d times = %v, %v, %v", i, g.CreatedAt, g.LastUsedAt, g.Expiry)
		}
		if strings.Contains(w.sess.Token, g.ID.String()) || strings.Contains(g.ID.String(), w.sess.Token) || g.ID == uuid.Nil {
			t.Errorf("session %d: the ID %s is not opaque", i, g.ID)
		}
	}
	if got, err := e.svc.Sessions(ctx, first, ada.ID); err != nil || !got[1].Current || got[0].Current {
		t.Errorf("Sessions from the first session marks %+v", got)
	}
}

func TestSessionMetadataIsCleanedAndTruncated(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name           string
		addr, ua       string
		wantAddr, want string
	}{
		{"control characters and NULs are dropped", "192.0.2.1\x00", "Mozilla\x00/5.0\r\n\x1b[31m", "192.0.2.1", "Mozilla/5.0[31m"},
		{"invalid UTF-8 is replaced", "::1", "agent \xff\xfe", "::1", "agent \uFFFD"},
		{"a long user agent is cut to 256 bytes on a character boundary", "::1", strings.Repeat("é", 200), "::1", strings.Repeat("é", 128)},
		{"a long address is cut to 64 bytes", strings.Repeat("9", 100), "ua", strings.Repeat("9", 64), "ua"},
		{"none at all is kept as none", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.signUp(t, "ada@example.com")
			sess := e.loginFrom(t, "ada@example.com", tt.addr, tt.ua)
			got, err := e.svc.Sessions(ctx, sess, sess.User.ID)
			if err != nil || len(got) != 1 {
				t.Fatalf("Sessions = %v, %v", got, err)
			}
			if got[0].ClientAddr != tt.wantAddr || got[0].UserAgent != tt.want {
				t.Errorf("kept %q, %q; want %q, %q", got[0].ClientAddr, got[0].UserAgent, tt.wantAddr, tt.want)
			}
		})
	}
}

func TestSessionLastUsedCostsNoRoundTripWithinAMinute(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cs := &keeltest.CountingStore{Store: e.store}
	svc, err := keel.New(cs, keel.Config{Argon2: cheap, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.signUp(t, "ada@example.com")
	sess := e.login(t, "ada@example.com", goodPassword)
	steps := []struct {
		name    string
		advance time.Duration
		writes  int
	}{
		{"a call right after the login writes nothing", 0, 0},
		{"a call 59 seconds later writes nothing", 59 * time.Second, 0},
		{"a call a minute after the login writes LastUsedAt once", time.Second, 1},
		{"the next call writes nothing", time.Second, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.clock.Advance(st.advance)
			cs.Reset()
			if _, err := svc.Authenticate(ctx, sess.Token); err != nil {
				t.Fatal(err)
			}
			if got := cs.Get("FindSession"); got != 1 {
				t.Errorf("FindSession ran %d times, want 1", got)
			}
			if got := cs.Get("TouchSession") + cs.Get("UpdateSession"); got != st.writes {
				t.Errorf("%d writes, want %d", got, st.writes)
			}
		})
	}
	listed, err := e.svc.Sessions(ctx, sess, sess.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(-time.Second).UTC().Truncate(time.Microsecond); !listed[0].LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt = %v, want %v", listed[0].LastUsedAt, want)
	}
}

func TestEndingSessions(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (e *env, ada, bob []*keel.Session, root *keel.Session) {
		e = newEnv(t)
		e.signUp(t, "ada@example.com")
		e.signUp(t, "bob@example.com")
		e.superuser(t, "root@example.com")
		for range 3 {
			ada = append(ada, e.login(t, "ada@example.com", goodPassword))
		}
		bob = append(bob, e.login(t, "bob@example.com", goodPassword))
		return e, ada, bob, e.login(t, "root@example.com", goodPassword)
	}
	works := func(t *testing.T, e *env, sess *keel.Session, want bool) {
		t.Helper()
		_, err := e.svc.Authenticate(ctx, sess.Token)
		if want && err != nil {
			t.Errorf("a session that should stay was ended: %v", err)
		}
		if !want && !errorsIs(err, keel.ErrInvalidCredentials) {
			t.Errorf("a session that should have ended authenticates: %v", err)
		}
	}

	t.Run("a user ends one of its other sessions by its ID", func(t *testing.T) {
		e, ada, bob, _ := setup(t)
		if err := e.svc.EndSession(ctx, ada[0].User, ada[0].User.ID, ada[1].ID); err != nil {
			t.Fatal(err)
		}
		works(t, e, ada[1], false)
		works(t, e, ada[0], true)
		works(t, e, ada[2], true)
		works(t, e, bob[0], true)
	})
	t.Run("a user may end its current session", func(t *testing.T) {
		e, ada, _, _ := setup(t)
		if err := e.svc.EndSession(ctx, ada[0].User, ada[0].User.ID, ada[0].ID); err != nil {
			t.Fatal(err)
		}
		works(t, e, ada[0], false)
	})
	t.Run("another user's session ID is not found, whichever user it is named under", func(t *testing.T) {
		e, ada, bob, _ := setup(t)
		wantErr(t, e.svc.EndSession(ctx, ada[0].User, ada[0].User.ID, bob[0].ID), keel.ErrSessionNotFound)
		wantErr(t, e.svc.EndSession(ctx, ada[0].User, bob[0].User.ID, bob[0].ID), keel.ErrNotSuperuser)
		_, err := e.svc.Sessions(ctx, ada[0], bob[0].User.ID)
		wantErr(t, err, keel.ErrNotSuperuser)
		works(t, e, bob[0], true)
	})
	t.Run("an unknown ID is not found", func(t *testing.T) {
		e, ada, _, _ := setup(t)
		wantErr(t, e.svc.EndSession(ctx, ada[0].User, ada[0].User.ID, uuid.New()), keel.ErrSessionNotFound)
	})
	t.Run("ending the other sessions keeps the current one", func(t *testing.T) {
		e, ada, bob, _ := setup(t)
		n, err := e.svc.EndOtherSessions(ctx, ada[1])
		if err != nil || n != 2 {
			t.Fatalf("EndOtherSessions = %d, %v; want 2", n, err)
		}
		works(t, e, ada[0], false)
		works(t, e, ada[1], true)
		works(t, e, ada[2], false)
		works(t, e, bob[0], true)
	})
	t.Run("a superuser lists and ends anyone's session", func(t *testing.T) {
		e, ada, _, root := setup(t)
		listed, err := e.svc.Sessions(ctx, root, ada[0].User.ID)
		if err != nil || len(listed) != 3 {
			t.Fatalf("Sessions = %v, %v", listed, err)
		}
		for _, s := range listed {
			if s.Current {
				t.Error("the superuser's listing marks one of ada's sessions current")
			}
		}
		if err := e.svc.EndSession(ctx, root.User, ada[0].User.ID, ada[2].ID); err != nil {
			t.Fatal(err)
		}
		works(t, e, ada[2], false)
		_, err = e.svc.Sessions(ctx, root, uuid.New())
		wantErr(t, err, keel.ErrUserNotFound)
	})
	t.Run("a session ended through another Service on the store stops working at once", func(t *testing.T) {
		e, ada, _, _ := setup(t)
		other, err := keel.New(e.store, keel.Config{Argon2: cheap, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.EndSession(ctx, ada[0].User, ada[0].User.ID, ada[1].ID); err != nil {
			t.Fatal(err)
		}
		works(t, e, ada[1], false)
	})
}

func TestTheSessionCapEndsTheLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *keel.Config) { c.MaxSessionsPerUser = 3 })
	e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")
	bob := e.login(t, "bob@example.com", goodPassword)
	var ada []*keel.Session
	for range 3 {
		ada = append(ada, e.login(t, "ada@example.com", goodPassword))
		e.clock.Advance(time.Second)
	}
	// Use the oldest login two minutes later: ada[1] is now the least
	// recently used.
	e.clock.Advance(2 * time.Minute)
	for _, s := range []*keel.Session{ada[0], ada[2]} {
		if _, err := e.svc.Authenticate(ctx, s.Token); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)
	ada = append(ada, e.login(t, "ada@example.com", goodPassword))

	for i, want := range []bool{true, false, true, true} {
		_, err := e.svc.Authenticate(ctx, ada[i].Token)
		if (err == nil) != want {
			t.Errorf("session %d: Authenticate = %v, want it kept %v", i, err, want)
		}
	}
	listed, err := e.svc.Sessions(ctx, ada[3], ada[3].User.ID)
	if err != nil || len(listed) != 3 {
		t.Fatalf("Sessions = %d, %v; want 3", len(listed), err)
	}
	if _, err := e.svc.Authenticate(ctx, bob.Token); err != nil {
		t.Errorf("another user's session was ended: %v", err)
	}
}
