package keel_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/memstore"
)

// auditStores are the stores the audit log is tested on: memstore and
// SQLite always, PostgreSQL when KEEL_TEST_DATABASE_URL is set (skipped
// otherwise, failed on CI).
var auditStores = []struct {
	name string
	open func(t *testing.T) keel.Store
}{
	{"memstore", func(*testing.T) keel.Store { return memstore.New() }},
	{"SQLite", func(t *testing.T) keel.Store { return openBunstore(t, "sqlite://"+t.TempDir()+"/keel.db") }},
	{"PostgreSQL", func(t *testing.T) keel.Store { return openBunstore(t, pgtest.Schema(t)) }},
}

func openBunstore(t *testing.T, url string) keel.Store {
	t.Helper()
	st, err := bunstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// watchStore is a Store that collects every password hash and token hash
// keel writes through it, inside transactions too, and can fail the
// append of an audit row.
type watchStore struct {
	keel.Store
	w *watcher
}

type watchTx struct {
	keel.Tx
	w *watcher
}

type watcher struct {
	mu      sync.Mutex
	secrets []string
	// failAppend, when set, fails the append of the events of its kind.
	failAppend keel.EventKind
}

func (w *watcher) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s != "" {
		w.secrets = append(w.secrets, s)
	}
}

func (w *watcher) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.secrets)
}

var errInjected = errors.New("injected store failure")

func (w *watcher) appendAudit(ctx context.Context, tx keel.Tx, e *keel.AuditEvent) error {
	w.mu.Lock()
	fail := w.failAppend != "" && e.Kind == w.failAppend
	w.mu.Unlock()
	if fail {
		return keel.Wrap(errInjected, keel.Unavailable, "")
	}
	return tx.AppendAuditEvent(ctx, e)
}

func (s watchStore) InTx(ctx context.Context, fn func(tx keel.Tx) error) error {
	return s.Store.InTx(ctx, func(tx keel.Tx) error { return fn(watchTx{tx, s.w}) })
}

func (s watchStore) CreateUser(ctx context.Context, u *keel.User) error {
	s.w.add(u.PasswordHash)
	return s.Store.CreateUser(ctx, u)
}
func (s watchStore) UpdateUser(ctx context.Context, u *keel.User) error {
	s.w.add(u.PasswordHash)
	return s.Store.UpdateUser(ctx, u)
}
func (s watchStore) CreateSession(ctx context.Context, r *keel.SessionRecord) error {
	s.w.add(r.TokenHash)
	return s.Store.CreateSession(ctx, r)
}
func (s watchStore) CreateResetToken(ctx context.Context, r *keel.ResetToken) error {
	s.w.add(r.TokenHash)
	return s.Store.CreateResetToken(ctx, r)
}
func (s watchStore) CreateAPIToken(ctx context.Context, t *keel.APIToken) error {
	s.w.add(t.TokenHash)
	return s.Store.CreateAPIToken(ctx, t)
}
func (s watchStore) AppendAuditEvent(ctx context.Context, e *keel.AuditEvent) error {
	return s.w.appendAudit(ctx, s.Store, e)
}

func (t watchTx) CreateUser(ctx context.Context, u *keel.User) error {
	t.w.add(u.PasswordHash)
	return t.Tx.CreateUser(ctx, u)
}
func (t watchTx) UpdateUser(ctx context.Context, u *keel.User) error {
	t.w.add(u.PasswordHash)
	return t.Tx.UpdateUser(ctx, u)
}
func (t watchTx) CreateSession(ctx context.Context, r *keel.SessionRecord) error {
	t.w.add(r.TokenHash)
	return t.Tx.CreateSession(ctx, r)
}
func (t watchTx) CreateResetToken(ctx context.Context, r *keel.ResetToken) error {
	t.w.add(r.TokenHash)
	return t.Tx.CreateResetToken(ctx, r)
}
func (t watchTx) CreateAPIToken(ctx context.Context, a *keel.APIToken) error {
	t.w.add(a.TokenHash)
	return t.Tx.CreateAPIToken(ctx, a)
}
func (t watchTx) AppendAuditEvent(ctx context.Context, e *keel.AuditEvent) error {
	return t.w.appendAudit(ctx, t.Tx, e)
}

// auditRows returns every row of the audit log, oldest first.
func auditRows(t *testing.T, st keel.Store) []*keel.AuditEvent {
	t.Helper()
	rows, err := st.ListAuditEvents(context.Background(), keel.AuditFilter{}, keel.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(rows)
	return rows
}

// wantRow is an audit row a test expects: every field but the id and
// the time, Detail exactly.
type wantRow struct {
	kind            keel.EventKind
	actor, user     uuid.UUID
	client          keel.Client
	detail          map[string]string
	what            string // the step, for failure messages
	wantWarnLogLine bool
}

// logLines returns the JSON log lines of buf that report an event.
func eventLogLines(t *testing.T, buf *keeltest.SyncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if _, ok := m["event"]; ok {
			out = append(out, m)
		}
	}
	return out
}

// TestAuditLogRecordsEveryEvent runs every operation that reports an
// event, each from a client of its own, and checks the audit row of each
// (actor, subject, client address, user agent, request id, detail), its
// log line, and that no row and no log line holds a password, token or
// hash used on the way.
func TestAuditLogRecordsEveryEvent(t *testing.T) {
	for _, st := range auditStores {
		t.Run(st.name, func(t *testing.T) {
			w := &watcher{}
			store := watchStore{st.open(t), w}
			logs := &keeltest.SyncBuffer{}
			e := newEnvOn(t, store, func(c *keel.Config) {
				c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
				c.RateLimits.LoginPerAccount = keel.Limit{Max: 2}
			})
			svc := e.svc
			const (
				rootPassword  = "root-secret-7c1e93"
				adaPassword   = "ada-secret-52d8a1"
				adaPassword2  = "ada-second-secret-0b4f"
				adaPassword3  = "ada-third-secret-9e27"
				bobPassword   = "bob-secret-3f6a0d"
				carolPassword = "carol-secret-81b5e2"
				wrongPassword = "wrong-guess-4a9c71"
			)
			passwords := []string{rootPassword, adaPassword, adaPassword2, adaPassword3, bobPassword, carolPassword, wrongPassword}
			var tokens []string

			var (
				want   []wantRow
				step   int
				client keel.Client
			)
			// next starts a step: a second later, from a client of its own.
			next := func() context.Context {
				step++
				e.clock.Advance(time.Second)
				client = keel.Client{
					Addr:      fmt.Sprintf("198.51.100.%d", step),
					UserAgent: fmt.Sprintf("audit-test/%d (\"quoted\"; ünïcode)", step),
					RequestID: fmt.Sprintf("req-%d", step),
				}
				return keel.WithClient(context.Background(), client)
			}
			expect := func(what string, kind keel.EventKind, actor, user uuid.UUID, detail map[string]string) {
				want = append(want, wantRow{kind: kind, actor: actor, user: user, client: client, detail: detail, what: what,
					wantWarnLogLine: kind == keel.EventLoginFailed || kind == keel.EventRateLimited})
			}
			must := func(t *testing.T, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			login := func(ctx context.Context, email, password string) *keel.Session {
				t.Helper()
				sess, err := svc.Login(ctx, keel.LoginInput{Email: email, Password: password})
				must(t, err)
				tokens = append(tokens, sess.Token, sess.DeviceToken)
				return sess
			}
			email := func(s string) map[string]string { return map[string]string{"email": s} }

			root, err := svc.Bootstrap(next(), keel.SignUpInput{Email: "root@example.com", Password: rootPassword})
			must(t, err)
			expect("bootstrap", keel.EventUserCreated, uuid.Nil, root.ID, email("root@example.com"))
			rootSess := login(next(), "root@example.com", rootPassword)
			expect("the superuser's login", keel.EventLoginSucceeded, root.ID, root.ID, email("root@example.com"))
			root = rootSess.User

			ada, err := svc.SignUp(next(), keel.SignUpInput{Email: "ada@example.com", Password: adaPassword})
			must(t, err)
			expect("sign-up", keel.EventSignedUp, ada.ID, ada.ID, email("ada@example.com"))

			bob, err := svc.CreateUser(next(), root, keel.CreateUserInput{Email: "bob@example.com", Password: bobPassword})
			must(t, err)
			expect("a superuser creating a user", keel.EventUserCreated, root.ID, bob.ID, email("bob@example.com"))

			sess := login(next(), "ada@example.com", adaPassword)
			expect("login", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.com"))

			_, err = svc.Login(next(), keel.LoginInput{Email: "ada@example.com", Password: wrongPassword})
			wantErr(t, err, keel.ErrIncorrectLogin)
			expect("a wrong password", keel.EventLoginFailed, uuid.Nil, ada.ID, map[string]string{"email": "ada@example.com", "reason": keel.ReasonWrongPassword})

			_, err = svc.Login(next(), keel.LoginInput{Email: "nobody@example.com", Password: wrongPassword})
			wantErr(t, err, keel.ErrIncorrectLogin)
			expect("an unknown email", keel.EventLoginFailed, uuid.Nil, uuid.Nil, map[string]string{"email": "nobody@example.com", "reason": keel.ReasonUnknownEmail})

			// A password typed into the email field matches no account and is
			// not an address: the row keeps no email.
			_, err = svc.Login(next(), keel.LoginInput{Email: adaPassword, Password: adaPassword})
			wantErr(t, err, keel.ErrIncorrectLogin)
			expect("a password in the email field", keel.EventLoginFailed, uuid.Nil, uuid.Nil, map[string]string{"reason": keel.ReasonUnknownEmail})

			off, err := svc.CreateUser(next(), root, keel.CreateUserInput{Email: "off@example.com", Password: carolPassword, IsActive: ptr(false)})
			must(t, err)
			expect("creating an inactive user", keel.EventUserCreated, root.ID, off.ID, email("off@example.com"))
			_, err = svc.Login(next(), keel.LoginInput{Email: "off@example.com", Password: carolPassword})
			wantErr(t, err, keel.ErrInactiveUser)
			expect("an inactive user", keel.EventLoginFailed, uuid.Nil, off.ID, map[string]string{"email": "off@example.com", "reason": keel.ReasonInactiveUser})

			carol, err := svc.SignUp(next(), keel.SignUpInput{Email: "carol@example.com", Password: carolPassword})
			must(t, err)
			expect("carol's sign-up", keel.EventSignedUp, carol.ID, carol.ID, email("carol@example.com"))
			for range 2 {
				_, err = svc.Login(next(), keel.LoginInput{Email: "carol@example.com", Password: wrongPassword})
				wantErr(t, err, keel.ErrIncorrectLogin)
				expect("a wrong password for carol", keel.EventLoginFailed, uuid.Nil, carol.ID, map[string]string{"email": "carol@example.com", "reason": keel.ReasonWrongPassword})
			}
			refused := map[string]string{"email": "carol@example.com", "reason": keel.ReasonLoginAccount}
			ctx := next()
			for range 3 { // one row a minute per limit, account and address
				_, err = svc.Login(ctx, keel.LoginInput{Email: "carol@example.com", Password: carolPassword})
				wantCode(t, err, keel.RateLimited)
			}
			expect("the account's limit", keel.EventRateLimited, uuid.Nil, carol.ID, refused)
			_, err = svc.Login(next(), keel.LoginInput{Email: "carol@example.com", Password: carolPassword})
			wantCode(t, err, keel.RateLimited)
			expect("the account's limit, from another address", keel.EventRateLimited, uuid.Nil, carol.ID, refused)
			e.clock.Advance(time.Minute)
			_, err = svc.Login(keel.WithClient(context.Background(), client), keel.LoginInput{Email: "carol@example.com", Password: carolPassword})
			wantCode(t, err, keel.RateLimited)
			expect("the account's limit, a minute later", keel.EventRateLimited, uuid.Nil, carol.ID, refused)

			must(t, svc.Logout(next(), sess.Token))
			expect("logout", keel.EventLoggedOut, ada.ID, ada.ID, map[string]string{"email": "ada@example.com", "sessions": "1"})

			kept := login(next(), "ada@example.com", adaPassword)
			expect("a second login", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.com"))
			login(next(), "ada@example.com", adaPassword)
			expect("a third login", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.com"))
			must(t, svc.ChangePassword(next(), kept, keel.ChangePasswordInput{CurrentPassword: adaPassword, NewPassword: adaPassword2}))
			expect("a password change", keel.EventPasswordChanged, ada.ID, ada.ID, email("ada@example.com"))
			expect("the other session ending", keel.EventSessionsEnded, ada.ID, ada.ID, map[string]string{"email": "ada@example.com", "sessions": "1"})

			err = svc.ChangePassword(next(), kept, keel.ChangePasswordInput{CurrentPassword: wrongPassword, NewPassword: adaPassword3})
			wantErr(t, err, keel.ErrIncorrectPassword)
			expect("a wrong current password", keel.EventLoginFailed, ada.ID, ada.ID, map[string]string{"email": "ada@example.com", "reason": keel.ReasonPasswordCheck})

			must(t, svc.RequestPasswordReset(next(), keel.RecoveryInput{Email: "ada@example.com"}))
			expect("a reset request", keel.EventPasswordResetRequested, uuid.Nil, ada.ID, email("ada@example.com"))
			must(t, svc.RequestPasswordReset(next(), keel.RecoveryInput{Email: "nobody@example.com"}))
			expect("a reset request for no account", keel.EventPasswordResetRequested, uuid.Nil, uuid.Nil, map[string]string{"email": "nobody@example.com", "reason": keel.ReasonUnknownEmail})
			resetToken := e.mail.WaitReset(t).Token
			tokens = append(tokens, resetToken)
			must(t, svc.ResetPassword(next(), keel.ResetPasswordInput{Token: resetToken, NewPassword: adaPassword3}))
			expect("a reset", keel.EventPasswordReset, ada.ID, ada.ID, email("ada@example.com"))
			expect("every session ending with the reset", keel.EventSessionsEnded, ada.ID, ada.ID, map[string]string{"email": "ada@example.com", "sessions": "1"})

			ada, err = svc.UpdateMe(next(), ada, keel.UpdateMeInput{Email: keel.Some("ada@example.org")})
			must(t, err)
			expect("an email change", keel.EventUserUpdated, ada.ID, ada.ID, map[string]string{"email": "ada@example.org", "changes": "email"})

			_, err = svc.UpdateUser(next(), root, bob.ID, keel.UpdateUserInput{IsActive: keel.Some(false), IsSuperuser: keel.Some(true)})
			must(t, err)
			expect("a deactivation and promotion", keel.EventUserUpdated, root.ID, bob.ID, map[string]string{"email": "bob@example.com", "changes": "is_active,is_superuser"})

			adaSess := login(next(), "ada@example.org", adaPassword3)
			expect("a login after the reset", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.org"))
			ada = adaSess.User
			created, err := svc.CreateAPIToken(next(), ada, keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead, ExpiresInDays: 30})
			must(t, err)
			tokens = append(tokens, created.Token)
			expect("an API token made", keel.EventAPITokenCreated, ada.ID, ada.ID, map[string]string{"email": "ada@example.org",
				"token_id": created.ID.String(), "token_name": "ci", "token_scope": "read"})
			must(t, svc.RevokeAPIToken(next(), ada, ada.ID, created.ID))
			expect("an API token revoked", keel.EventAPITokenRevoked, ada.ID, ada.ID, map[string]string{"email": "ada@example.org", "token_id": created.ID.String()})
			for _, name := range []string{"deploy", "backup"} {
				created, err := svc.CreateAPIToken(next(), ada, keel.CreateAPITokenInput{Name: name, Scope: keel.ScopeFull, ExpiresInDays: 30})
				must(t, err)
				tokens = append(tokens, created.Token)
				expect("another API token made", keel.EventAPITokenCreated, ada.ID, ada.ID, map[string]string{"email": "ada@example.org",
					"token_id": created.ID.String(), "token_name": name, "token_scope": "full"})
			}
			other := login(next(), "ada@example.org", adaPassword3)
			expect("a login to end by its id", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.org"))
			must(t, svc.EndSession(next(), ada, ada.ID, other.ID))
			expect("a session ended by its id", keel.EventSessionsEnded, ada.ID, ada.ID, map[string]string{"email": "ada@example.org", "sessions": "1"})
			login(next(), "ada@example.org", adaPassword3)
			expect("a login to end with the others", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.org"))
			_, err = svc.EndOtherSessions(next(), adaSess)
			must(t, err)
			expect("the other sessions ended", keel.EventSessionsEnded, ada.ID, ada.ID, map[string]string{"email": "ada@example.org", "sessions": "1"})
			_, err = svc.UpdateUser(next(), root, ada.ID, keel.UpdateUserInput{Password: keel.Some(adaPassword)})
			must(t, err)
			expect("a superuser setting a password", keel.EventUserUpdated, root.ID, ada.ID, map[string]string{"email": "ada@example.org", "changes": "password"})
			expect("the sessions it ended", keel.EventSessionsEnded, root.ID, ada.ID, map[string]string{"email": "ada@example.org", "sessions": "1"})
			expect("the API tokens it revoked", keel.EventAPITokensRevoked, root.ID, ada.ID, map[string]string{"email": "ada@example.org", "api_tokens": "2"})

			must(t, svc.Unlock(next(), root, carol.ID))
			expect("a superuser lifting a lockout", keel.EventLockoutLifted, root.ID, carol.ID, email("carol@example.com"))
			must(t, svc.UnlockEmail(next(), "Carol@Example.com"))
			expect("the operator lifting a lockout", keel.EventLockoutLifted, uuid.Nil, carol.ID, email("carol@example.com"))

			login(next(), "ada@example.org", adaPassword)
			expect("a login after the new password", keel.EventLoginSucceeded, ada.ID, ada.ID, email("ada@example.org"))
			must(t, svc.LogoutAll(next(), ada))
			expect("logging out everywhere", keel.EventSessionsEnded, ada.ID, ada.ID, map[string]string{"email": "ada@example.org", "sessions": "1"})

			must(t, svc.DeleteUser(next(), root, bob.ID))
			expect("a deletion", keel.EventUserDeleted, root.ID, bob.ID, email("bob@example.com"))

			rows := auditRows(t, e.store)
			t.Run("every event has its row, with who, whom and from where", func(t *testing.T) {
				if len(rows) != len(want) {
					var got []keel.EventKind
					for _, r := range rows {
						got = append(got, r.Kind)
					}
					t.Fatalf("%d rows %v, want %d", len(rows), got, len(want))
				}
				for i, w := range want {
					r := rows[i]
					if r.Kind != w.kind || r.ActorID != w.actor || r.UserID != w.user {
						t.Errorf("%s: %s by %v about %v, want %s by %v about %v", w.what, r.Kind, r.ActorID, r.UserID, w.kind, w.actor, w.user)
					}
					if got := (keel.Client{Addr: r.ClientAddr, UserAgent: r.UserAgent, RequestID: r.RequestID}); got != w.client {
						t.Errorf("%s: client %+v, want %+v", w.what, got, w.client)
					}
					if !maps.Equal(r.Detail, w.detail) {
						t.Errorf("%s: detail %v, want %v", w.what, r.Detail, w.detail)
					}
					if r.CreatedAt.Location() != time.UTC || r.ID == uuid.Nil {
						t.Errorf("%s: id %v, time %v", w.what, r.ID, r.CreatedAt)
					}
				}
			})

			t.Run("every row has its log line, refusals at warn", func(t *testing.T) {
				lines := eventLogLines(t, logs)
				if len(lines) != len(want) {
					t.Fatalf("%d event log lines, want %d", len(lines), len(want))
				}
				for i, w := range want {
					l := lines[i]
					level := "INFO"
					if w.wantWarnLogLine {
						level = "WARN"
					}
					if l["event"] != string(w.kind) || l["request_id"] != w.client.RequestID || l["client_addr"] != w.client.Addr || l["level"] != level {
						t.Errorf("%s: log line %v, want event %s, request %s, address %s at %s", w.what, l, w.kind, w.client.RequestID, w.client.Addr, level)
					}
					if w.user != uuid.Nil && l["user_id"] != w.user.String() {
						t.Errorf("%s: log line %v, want user %s", w.what, l, w.user)
					}
				}
			})

			t.Run("no row and no log line holds a password, token or hash", func(t *testing.T) {
				secrets := append(append(passwords, tokens...), w.all()...)
				if len(w.all()) < 10 {
					t.Fatalf("the store saw only %d hashes: the watch is broken", len(w.all()))
				}
				var texts []string
				for _, r := range rows {
					texts = append(texts, fmt.Sprintf("%+v %v", *r, r.Detail))
				}
				texts = append(texts, logs.String())
				for _, text := range texts {
					for _, s := range secrets {
						if s != "" && strings.Contains(text, s) {
							t.Errorf("%q appears in %s", s, text)
						}
					}
				}
			})
		})
	}
}

// TestAuditLogRollsBackWithItsOperation checks that an operation that a
// hook vetoes, or that fails, leaves no row claiming it happened.
func TestAuditLogRollsBackWithItsOperation(t *testing.T) {
	ctx := context.Background()
	for _, st := range auditStores {
		t.Run(st.name, func(t *testing.T) {
			t.Run("a vetoed sign-up leaves no row", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), func(c *keel.Config) {
					c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
						return keel.Refuse(keel.PermissionDenied, "sign-ups are closed")
					}}
				})
				_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
				wantCode(t, err, keel.PermissionDenied)
				if rows := auditRows(t, e.store); len(rows) != 0 {
					t.Errorf("rows %v after a vetoed sign-up", rows)
				}
			})

			t.Run("a password change vetoed at its second event leaves neither row", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), func(c *keel.Config) {
					c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, ev keel.Event) error {
						if ev.Kind == keel.EventSessionsEnded {
							return keel.Refuse(keel.PermissionDenied, "sessions stay")
						}
						return nil
					}}
				})
				e.signUp(t, "ada@example.com")
				sess := e.login(t, "ada@example.com", goodPassword)
				e.login(t, "ada@example.com", goodPassword)
				before := auditRows(t, e.store)
				err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a whole new passphrase"})
				wantCode(t, err, keel.PermissionDenied)
				if rows := auditRows(t, e.store); len(rows) != len(before) {
					t.Errorf("%d rows after the vetoed change, want the %d before it", len(rows), len(before))
				}
				e.login(t, "ada@example.com", goodPassword) // the old password still works
			})

			t.Run("a password change whose second row fails to write leaves neither row", func(t *testing.T) {
				w := &watcher{}
				e := newEnvOn(t, watchStore{st.open(t), w})
				e.signUp(t, "ada@example.com")
				sess := e.login(t, "ada@example.com", goodPassword)
				e.login(t, "ada@example.com", goodPassword)
				before := auditRows(t, e.store)
				w.mu.Lock()
				w.failAppend = keel.EventSessionsEnded
				w.mu.Unlock()
				err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a whole new passphrase"})
				if !errors.Is(err, errInjected) {
					t.Fatalf("err = %v, want the store's failure", err)
				}
				if rows := auditRows(t, e.store); len(rows) != len(before) {
					t.Errorf("%d rows after the failed change, want the %d before it", len(rows), len(before))
				}
				e.login(t, "ada@example.com", goodPassword)
			})

			t.Run("a program's transaction that fails after a sign-up leaves no row", func(t *testing.T) {
				e := newEnvOn(t, st.open(t))
				errChanged := errors.New("changed my mind")
				err := e.svc.InTx(ctx, func(ctx context.Context, _ keel.Tx) error {
					if _, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}); err != nil {
						return err
					}
					if rows, err := e.svc.AuditEvents(ctx, &keel.User{IsActive: true, IsSuperuser: true}, keel.AuditOptions{}); err != nil || len(rows.Events) != 1 {
						return fmt.Errorf("inside the transaction: %v, %v; want the sign-up's row", rows, err)
					}
					return errChanged
				})
				if !errors.Is(err, errChanged) {
					t.Fatalf("InTx = %v", err)
				}
				if rows := auditRows(t, e.store); len(rows) != 0 {
					t.Errorf("rows %v after the rolled-back sign-up", rows)
				}
			})
		})
	}
}
