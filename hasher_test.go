package keel

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var cheapParams = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func TestHashIsAPHCStringThatVerifies(t *testing.T) {
	ctx := context.Background()
	h, err := newHasher(cheapParams, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := h.Hash(ctx, "pässwörd long")
	b, _ := h.Hash(ctx, "pässwörd long")
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") || a == b {
		t.Fatalf("hashes %q %q: want PHC strings with distinct salts", a, b)
	}
	for _, tt := range []struct {
		name     string
		password string
		ok       bool
	}{
		{"the right password verifies", "pässwörd long", true},
		{"a different password does not", "passwörd long", false},
		{"a prefix does not", "pässwörd", false},
		{"the empty password does not", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.password, a)
			if err != nil || ok != tt.ok || rehash {
				t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
			}
		})
	}
}

func TestMalformedStoredHashesAreErrorsNotPanics(t *testing.T) {
	h, err := newHasher(cheapParams, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, hash string }{
		{"zero memory", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdA"},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdA"},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdA"},
		{"absurd memory", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdA"},
		{"another version", "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdA"},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$!!!$c2FsdHNhbHRzYWx0c2FsdA"},
		{"too few parts", "$argon2id$v=19$m=64,t=1,p=1"},
		{"argon2i, not argon2id", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdA"},
		{"plain text", "hunter2"},
	} {
		t.Run("a hash with "+tt.name+" is an internal error", func(t *testing.T) {
			ok, _, err := h.Verify(context.Background(), "s3cret-probe", tt.hash)
			if ok || ErrorCode(err) != Internal {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
			if strings.Contains(err.Error(), "s3cret-probe") {
				t.Fatalf("the error names the password: %v", err)
			}
		})
	}
}

func TestAnEmptyHashIsAnAccountWithoutAPasswordThatNothingMatches(t *testing.T) {
	h, err := newHasher(cheapParams, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "s3cret-probe", "correct horse battery"} {
		ok, rehash, err := h.Verify(context.Background(), pw, "")
		if ok || rehash || err != nil {
			t.Errorf("Verify(%q, \"\") = %v, %v, %v; want false, false, nil", pw, ok, rehash, err)
		}
	}
}

func TestTooWeakParametersAreRefused(t *testing.T) {
	if _, err := New(nopStore{}, Config{Argon2: Argon2Params{Memory: 4, Time: 1, Threads: 1}}); err == nil {
		t.Fatal("m=4 KiB accepted")
	}
}

func TestDefaultsAreOWASPs(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Argon2.Memory < 19456 || c.Argon2.Time < 2 || c.Argon2.Threads < 1 {
		t.Fatalf("argon2 defaults %+v are below OWASP's minimum", c.Argon2)
	}
	if c.SessionLifetime != 8*24*time.Hour || c.ResetTokenLifetime != time.Hour || c.RateLimits.Disabled {
		t.Fatalf("defaults %+v", c)
	}
}

// Hashing takes a slot; with every slot taken, a login must wait for one —
// for an unknown email too, which proves the dummy hash is really computed
// and an unknown email costs what a wrong password costs.
func TestLoginHashesEvenForAnUnknownEmail(t *testing.T) {
	known := &User{ID: uuid.Must(uuid.NewV7()), Email: "ada@example.com", IsActive: true}
	st := &userOnlyStore{users: map[string]*User{known.Email: known}}
	s, err := New(st, Config{Argon2: cheapParams, MaxConcurrentHashes: 1, RateLimits: RateLimits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	known.PasswordHash, _ = s.hasher.Hash(context.Background(), "correct horse battery")
	s.hasher.slots <- struct{}{} // every slot is busy
	for _, email := range []string{"ada@example.com", "nobody@example.com", ""} {
		t.Run("a login as "+strconvQuote(email)+" waits for a hashing slot", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			_, err := s.Login(ctx, LoginInput{Email: email, Password: "wrong password!"})
			if ErrorCode(err) != Unavailable || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want it to block on hashing until the deadline", err)
			}
		})
	}
	<-s.hasher.slots
	t.Run("with a free slot the unknown email is an incorrect login", func(t *testing.T) {
		_, err := s.Login(context.Background(), LoginInput{Email: "nobody@example.com", Password: "wrong password!"})
		if !errors.Is(err, ErrIncorrectLogin) {
			t.Fatal(err)
		}
	})
}

func strconvQuote(s string) string { return `"` + s + `"` }

// nopStore satisfies Store for tests that never reach it.
type nopStore struct{ Store }

// userOnlyStore answers the calls a failed Login makes: the lookup of
// the email, and the audit row of the failure.
type userOnlyStore struct {
	Store
	users map[string]*User
}

func (s *userOnlyStore) AppendAuditEvent(context.Context, *AuditEvent) error { return nil }

func (s *userOnlyStore) UserByEmail(_ context.Context, email string) (*User, error) {
	if u, ok := s.users[email]; ok {
		c := *u
		return &c, nil
	}
	return nil, Errorf(NotFound, "no user")
}

// HashStats counts a caller that found every slot taken as waiting while it
// waits, and adds its wait to WaitCount and WaitDuration once it has a
// slot or gives up.
func TestHashStatsCountWaitsForASlot(t *testing.T) {
	s, err := New(nopStore{}, Config{Argon2: cheapParams, MaxConcurrentHashes: 1, RateLimits: RateLimits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.HashStats(); got != (HashStats{MaxConcurrent: 1}) {
		t.Fatalf("a fresh hasher: %+v", got)
	}
	ctx := context.Background()
	if _, err := s.hasher.Hash(ctx, "a password hashed at once"); err != nil {
		t.Fatal(err)
	}
	if got := s.HashStats(); got.WaitCount != 0 || got.InFlight != 0 {
		t.Fatalf("a hash with a free slot counted as a wait: %+v", got)
	}

	s.hasher.slots <- struct{}{} // a hash in flight holds the only slot
	done := make(chan error, 1)
	go func() {
		_, err := s.hasher.Hash(ctx, "a password that waits")
		done <- err
	}()
	waitFor(t, func() bool { return s.HashStats().Waiting == 1 })
	if got := s.HashStats(); got.InFlight != 1 || got.WaitCount != 0 {
		t.Fatalf("while a caller waits: %+v", got)
	}
	<-s.hasher.slots
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := s.HashStats()
	if got.Waiting != 0 || got.InFlight != 0 || got.WaitCount != 1 || got.WaitDuration <= 0 {
		t.Fatalf("after the wait: %+v", got)
	}

	t.Run("a caller that gives up counts too", func(t *testing.T) {
		s.hasher.slots <- struct{}{}
		defer func() { <-s.hasher.slots }()
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			waitFor(t, func() bool { return s.HashStats().Waiting == 1 })
			cancel()
		}()
		if _, err := s.hasher.Hash(cctx, "a password that gives up"); ErrorCode(err) != Unavailable {
			t.Fatalf("err = %v, want Unavailable", err)
		}
		if got := s.HashStats(); got.Waiting != 0 || got.WaitCount != 2 {
			t.Fatalf("after giving up: %+v", got)
		}
	})
}

// waitFor yields until cond holds (the test's own timeout bounds it).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		runtime.Gosched()
	}
}
