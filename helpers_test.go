package keel_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/memstore"
	"golang.org/x/crypto/argon2"
)

// cheap are argon2id parameters that keep tests fast. Production uses
// keel's defaults (see Config.Argon2).
var cheap = keeltest.CheapArgon2

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	svc   *keel.Service
	store keel.Store
	clock *clock
	mail  *keeltest.Mailbox
}

func newEnv(t *testing.T, mod ...func(*keel.Config)) *env {
	t.Helper()
	return newEnvOn(t, memstore.New(), mod...)
}

// newEnvOn is newEnv over the store st (see keeltest.EachStore).
func newEnvOn(t *testing.T, st keel.Store, mod ...func(*keel.Config)) *env {
	t.Helper()
	e := &env{store: st, clock: newClock(), mail: keeltest.NewMailbox()}
	cfg := keel.Config{Argon2: cheap, Now: e.clock.Now, Mailer: e.mail}
	for _, m := range mod {
		m(&cfg)
	}
	svc, err := keel.New(e.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Close(ctx)
	})
	return e
}

const goodPassword = "correct horse battery"

// signUp makes an active, ordinary user.
func (e *env) signUp(t *testing.T, email string) *keel.User {
	t.Helper()
	u, err := e.svc.SignUp(context.Background(), keel.SignUpInput{Email: email, Password: goodPassword})
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return u
}

// superuser makes an active superuser.
func (e *env) superuser(t *testing.T, email string) *keel.User {
	t.Helper()
	u, err := e.svc.Bootstrap(context.Background(), keel.SignUpInput{Email: email, Password: goodPassword})
	if err != nil {
		t.Fatalf("create superuser %s: %v", email, err)
	}
	return u
}

// deactivated makes a user and deactivates it behind keel's back, as a
// user deactivated while a request of its own runs.
func (e *env) deactivated(t *testing.T, email string) *keel.User {
	t.Helper()
	u := e.signUp(t, email)
	u.IsActive = false
	if err := e.store.UpdateUser(context.Background(), u); err != nil {
		t.Fatalf("deactivate %s: %v", email, err)
	}
	return u
}

func (e *env) login(t *testing.T, email, password string) *keel.Session {
	t.Helper()
	s, err := e.svc.Login(context.Background(), keel.LoginInput{Email: email, Password: password})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return s
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func wantCode(t *testing.T, err error, want keel.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want code %v", want)
	}
	if got := keel.ErrorCode(err); got != want {
		t.Fatalf("code = %v (%v), want %v", got, err, want)
	}
}

func ptr[T any](v T) *T { return &v }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// argon2Hash makes a PHC string the way another argon2id implementation
// would, to check keel reads hashes it did not make.
func argon2Hash(password string, memory, time uint32) string {
	salt := []byte("saltsaltsaltsalt")
	key := argon2.IDKey([]byte(password), salt, time, memory, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", memory, time,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// hookStore is a Store that runs hooks outside transactions: afterUser
// right after User returns, beforeCounter before Counter reads. Inside InTx
// fn gets the inner store's transaction, with no hooks. Tests use it to
// interleave a concurrent operation deterministically.
type hookStore struct {
	keel.Store
	afterUser     func(id uuid.UUID)
	beforeCounter func()
}

func (s *hookStore) User(ctx context.Context, id uuid.UUID) (*keel.User, error) {
	u, err := s.Store.User(ctx, id)
	if s.afterUser != nil {
		s.afterUser(id)
	}
	return u, err
}

func (s *hookStore) Counter(ctx context.Context, key string, now time.Time) (keel.Counter, error) {
	if s.beforeCounter != nil {
		s.beforeCounter()
	}
	return s.Store.Counter(ctx, key, now)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
