// Package keeltest holds the test doubles keel's own tests share: a
// Mailer that keeps what it is given, a goroutine-safe log sink, cheap
// hashing parameters, and a fresh store of each kind.
package keeltest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/memstore"
)

// CheapArgon2 keeps hashing fast in tests; production uses keel's defaults.
var CheapArgon2 = keel.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// Mailbox is a keel.Mailer and keel.VerificationMailer that keeps what it
// is given.
type Mailbox struct {
	mu      sync.Mutex
	resets  []keel.PasswordResetMail
	tests   []string
	verifs  []keel.VerificationMail
	changes []keel.EmailChangeMail
	notices []keel.EmailChangeNoticeMail
	fail    error
	sent    chan struct{} // one value per password-reset attempt
	account chan struct{} // one value per verification, change or notice attempt
}

var _ keel.VerificationMailer = (*Mailbox)(nil)

// NewMailbox returns an empty Mailbox.
func NewMailbox() *Mailbox {
	return &Mailbox{sent: make(chan struct{}, 1000), account: make(chan struct{}, 1000)}
}

// SendVerification keeps m, or fails with the error given to Fail.
func (b *Mailbox) SendVerification(_ context.Context, m keel.VerificationMail) error {
	return b.keep(func() { b.verifs = append(b.verifs, m) })
}

// SendEmailChange keeps m, or fails with the error given to Fail.
func (b *Mailbox) SendEmailChange(_ context.Context, m keel.EmailChangeMail) error {
	return b.keep(func() { b.changes = append(b.changes, m) })
}

// SendEmailChangeNotice keeps m, or fails with the error given to Fail.
func (b *Mailbox) SendEmailChangeNotice(_ context.Context, m keel.EmailChangeNoticeMail) error {
	return b.keep(func() { b.notices = append(b.notices, m) })
}

func (b *Mailbox) keep(add func()) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() { b.account <- struct{}{} }()
	if b.fail != nil {
		return b.fail
	}
	add()
	return nil
}

// WaitAccountMail waits until n more verification, email-change or notice
// emails have been attempted (keel sends them in the background).
func (b *Mailbox) WaitAccountMail(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-b.account:
		case <-time.After(10 * time.Second):
			t.Fatal("an expected email was not sent")
		}
	}
}

// Verifications returns the verification mails kept so far.
func (b *Mailbox) Verifications() []keel.VerificationMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]keel.VerificationMail(nil), b.verifs...)
}

// EmailChanges returns the email-change confirmations kept so far.
func (b *Mailbox) EmailChanges() []keel.EmailChangeMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]keel.EmailChangeMail(nil), b.changes...)
}

// EmailChangeNotices returns the email-change notices kept so far.
func (b *Mailbox) EmailChangeNotices() []keel.EmailChangeNoticeMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]keel.EmailChangeNoticeMail(nil), b.notices...)
}

// SendPasswordReset keeps m, or fails with the error given to Fail.
func (b *Mailbox) SendPasswordReset(_ context.Context, m keel.PasswordResetMail) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() { b.sent <- struct{}{} }()
	if b.fail != nil {
		return b.fail
	}
	b.resets = append(b.resets, m)
	return nil
}

// SendTestEmail keeps to, or fails with the error given to Fail.
func (b *Mailbox) SendTestEmail(_ context.Context, to string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.tests = append(b.tests, to)
	return nil
}

// Fail makes every later send fail with err (nil: succeed again).
func (b *Mailbox) Fail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

// WaitReset waits for the next password-reset attempt (keel sends in the
// background) and returns the newest reset mail kept.
func (b *Mailbox) WaitReset(t testing.TB) keel.PasswordResetMail {
	t.Helper()
	select {
	case <-b.sent:
	case <-time.After(10 * time.Second):
		t.Fatal("no password-reset email was sent")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.resets) == 0 {
		t.Fatal("the password-reset email failed")
	}
	return b.resets[len(b.resets)-1]
}

// Resets returns the reset mails kept so far.
func (b *Mailbox) Resets() []keel.PasswordResetMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]keel.PasswordResetMail(nil), b.resets...)
}

// Tests returns the recipients of the test emails kept so far.
func (b *Mailbox) Tests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.tests...)
}

// SyncBuffer is a bytes.Buffer safe for a server and a test to share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// EachStore runs f, as a subtest, on a fresh migrated store of each kind:
// memstore, SQLite and PostgreSQL (skipped without KEEL_TEST_DATABASE_URL,
// unless CI=true). It is for behaviour that depends on what the database
// does: transactions, locks, the text it takes.
func EachStore(t *testing.T, f func(t *testing.T, st keel.Store)) {
	for _, kind := range StoreKinds {
		t.Run("on "+kind, func(t *testing.T) { f(t, OpenStore(t, kind)) })
	}
}

// OpenStore opens a fresh, migrated store of the kind: "mem", "sqlite" (a
// file in the test's directory) or "postgres" (a schema of its own, see
// pgtest). It is closed when tb ends.
func OpenStore(tb testing.TB, kind string) keel.Store {
	tb.Helper()
	if kind == "mem" {
		return memstore.New()
	}
	return openBun(tb, storeURL(tb, kind))
}

// TwoProcesses opens two Stores of the kind on one fresh database: two
// pools, as two processes sharing it have (memstore has no second pool, so
// both are its one Store, its only way to share data).
func TwoProcesses(tb testing.TB, kind string) (keel.Store, keel.Store) {
	tb.Helper()
	if kind == "mem" {
		s := memstore.New()
		return s, s
	}
	url := storeURL(tb, kind)
	return openBun(tb, url), openBun(tb, url)
}

// StoreKinds are the kinds OpenStore and TwoProcesses take.
var StoreKinds = []string{"mem", "sqlite", "postgres"}

func storeURL(tb testing.TB, kind string) string {
	switch kind {
	case "sqlite":
		return "sqlite://" + tb.TempDir() + "/keel.db"
	case "postgres":
		return pgtest.Schema(tb)
	}
	tb.Fatalf("keeltest: no store kind %q", kind)
	return ""
}

// openBun opens and migrates a bunstore on url, closed when tb ends.
func openBun(tb testing.TB, url string) keel.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := bunstore.Open(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}
