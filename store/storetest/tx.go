package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// txFixture is the state the rollback tests start from and must find again.
type txFixture struct {
	now          time.Time
	user         *keel.User
	other        *keel.User
	item         *keel.Item
	session      *keel.SessionRecord
	oldSession   *keel.SessionRecord // user's, used before session
	expiredSess  *keel.SessionRecord
	token        *keel.ResetToken
	expiredToken *keel.ResetToken // other's
	apiToken     *keel.APIToken
	expiredAPI   *keel.APIToken // other's
	counterKey   string
	counter      keel.Counter
	expiredKey   string
	secretName   string
	secret       []byte
	freshSecret  string           // a name no secret has
	event        *keel.AuditEvent // about user, an hour old
}

func newTxFixture(t *testing.T, s keel.Store) *txFixture {
	t.Helper()
	ctx := t.Context()
	now := Now()
	f := &txFixture{now: now, counterKey: "login:" + NewID().String(), expiredKey: "login:" + NewID().String(),
		secretName: "secret:" + NewID().String(), freshSecret: "secret:" + NewID().String()}
	f.user = mustCreateUser(t, s, NewUser())
	f.other = mustCreateUser(t, s, NewUser())
	f.item = mustCreateItem(t, s, NewItem(f.user.ID))
	f.session = mustCreateSession(t, s, NewSession(f.user.ID, now.Add(time.Hour)))
	old := NewSession(f.user.ID, now.Add(time.Hour))
	old.LastUsedAt = now.Add(-time.Hour)
	f.oldSession = mustCreateSession(t, s, old)
	f.expiredSess = mustCreateSession(t, s, NewSession(f.user.ID, now.Add(-time.Hour)))
	f.token = mustCreateResetToken(t, s, NewResetToken(f.user.ID, now, now.Add(time.Hour)))
	f.expiredToken = mustCreateResetToken(t, s, NewResetToken(f.other.ID, now.Add(-2*time.Hour), now.Add(-time.Hour)))
	f.apiToken = mustCreateAPIToken(t, s, NewAPIToken(f.user.ID, now, now.Add(time.Hour)))
	f.expiredAPI = mustCreateAPIToken(t, s, NewAPIToken(f.other.ID, now.Add(-2*time.Hour), now.Add(-time.Hour)))
	var err error
	f.secret, err = s.LoadOrStoreSecret(ctx, f.secretName, []byte("fixture secret"))
	wantNoError(t, "LoadOrStoreSecret", err)
	f.counter, err = s.IncrementCounter(ctx, f.counterKey, time.Hour, now)
	wantNoError(t, "IncrementCounter", err)
	_, err = s.IncrementCounter(ctx, f.expiredKey, time.Minute, now.Add(-time.Hour))
	wantNoError(t, "IncrementCounter", err)
	f.event = mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoginSucceeded, f.user.ID, now.Add(-time.Hour)))
	return f
}

// check fails the test unless s holds exactly the fixture's state. It
// consumes the reset tokens and deletes the expired rows, so it comes last.
func (f *txFixture) check(t *testing.T, s keel.Store) {
	t.Helper()
	ctx := t.Context()
	checkUser(t, "the user", mustUser(t, s, f.user.ID), f.user)
	got, err := s.UserByEmail(ctx, f.user.Email)
	wantNoError(t, "UserByEmail", err)
	checkUser(t, "UserByEmail", got, f.user)
	users, total, err := s.ListUsers(ctx, keel.Page{Limit: 10})
	wantNoError(t, "ListUsers", err)
	if total != 2 || len(users) != 2 {
		t.Errorf("ListUsers = %d users, count %d; want 2, count 2", len(users), total)
	}

	checkItem(t, "the item", mustItem(t, s, f.item.ID), f.item)
	items, total, err := s.ListItems(ctx, keel.ItemFilter{}, keel.Page{Limit: 10})
	wantNoError(t, "ListItems", err)
	if total != 1 || len(items) != 1 {
		t.Errorf("ListItems = %d items, count %d; want 1, count 1", len(items), total)
	}

	sess, su, err := s.FindSession(ctx, f.session.TokenHash, f.now)
	wantNoError(t, "FindSession", err)
	checkSession(t, "the session", sess, f.session)
	checkUser(t, "the session's user", su, f.user)
	sess, _, err = s.FindSession(ctx, f.oldSession.TokenHash, f.now)
	wantNoError(t, "FindSession of the older session", err)
	checkSession(t, "the older session", sess, f.oldSession)
	sessions, err := s.ListUserSessions(ctx, f.user.ID, f.now)
	wantNoError(t, "ListUserSessions", err)
	if len(sessions) != 2 {
		t.Errorf("ListUserSessions = %d sessions, want 2", len(sessions))
	}

	apiTok, au, err := s.FindAPIToken(ctx, f.apiToken.TokenHash, f.now)
	wantNoError(t, "FindAPIToken", err)
	checkAPIToken(t, "the API token", apiTok, f.apiToken)
	checkUser(t, "the API token's user", au, f.user)
	for _, u := range []*keel.User{f.user, f.other} {
		toks, err := s.ListUserAPITokens(ctx, u.ID, f.now)
		wantNoError(t, "ListUserAPITokens", err)
		if want := map[bool]int{true: 1, false: 0}[u == f.user]; len(toks) != want {
			t.Errorf("ListUserAPITokens = %d tokens, want %d", len(toks), want)
		}
	}

	secret, err := s.LoadOrStoreSecret(ctx, f.secretName, []byte("another"))
	wantNoError(t, "LoadOrStoreSecret", err)
	if string(secret) != string(f.secret) {
		t.Errorf("the secret = %q, want %q", secret, f.secret)
	}
	secret, err = s.LoadOrStoreSecret(ctx, f.freshSecret, []byte("stored by check"))
	wantNoError(t, "LoadOrStoreSecret of a fresh name", err)
	if string(secret) != "stored by check" {
		t.Errorf("a fresh secret name already holds %q", secret)
	}

	c, err := s.Counter(ctx, f.counterKey, f.now)
	wantNoError(t, "Counter", err)
	checkCounter(t, "the counter", c, f.counter.Count, f.counter.ResetAt)

	tok, err := s.ConsumeResetToken(ctx, f.token.TokenHash)
	wantNoError(t, "ConsumeResetToken", err)
	checkResetToken(t, "the reset token", tok, f.token)

	events, err := s.ListAuditEvents(ctx, keel.AuditFilter{}, keel.Page{Limit: 10})
	wantNoError(t, "ListAuditEvents", err)
	if len(events) != 1 {
		t.Errorf("ListAuditEvents = %d events, want 1", len(events))
	} else {
		checkAuditEvent(t, "the audit event", events[0], f.event)
	}

	// The expired session, the other user's expired reset token and the
	// expired counter are all still there to be deleted.

	// The expired session, the other user's expired reset token and API
	// token and the expired counter are all still there to be deleted.
	n, err := s.DeleteExpired(ctx, f.now)
	wantNoError(t, "DeleteExpired", err)
	if n != 4 {
		t.Errorf("DeleteExpired = %d, want 4 (a session, a reset token, an API token, a counter)", n)
	}
}

var errRollback = errors.New("storetest: roll back")

type txPanic struct{ msg string }

func testTransactions(t *testing.T, newStore newStoreFunc) {
	t.Run("InTx commits every write when fn returns nil", func(t *testing.T) {
		s := newStore(t)
		f := newTxFixture(t, s)
		ctx := t.Context()
		u := NewUser()
		it := NewItem(u.ID)
		sess := NewSession(u.ID, f.now.Add(time.Hour))
		tok := NewResetToken(u.ID, f.now, f.now.Add(time.Hour))
		ev := NewAuditEvent(keel.EventUserCreated, u.ID, f.now)
		apiTok := NewAPIToken(u.ID, f.now, f.now.Add(time.Hour))
		updItem := *f.item
		updItem.Title = "Committed"
		err := s.InTx(ctx, func(tx keel.Tx) error {
			if _, err := tx.LoadOrStoreSecret(ctx, f.freshSecret, []byte("committed")); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateItem(ctx, it); err != nil {
				return err
			}
			if err := tx.CreateSession(ctx, sess); err != nil {
				return err
			}
			if err := tx.CreateResetToken(ctx, tok); err != nil {
				return err
			}
			if err := tx.CreateAPIToken(ctx, apiTok); err != nil {
				return err
			}
			if err := tx.TouchAPIToken(ctx, f.apiToken.ID, f.now.Add(time.Minute)); err != nil {
				return err
			}
			if err := tx.TouchSession(ctx, f.oldSession.TokenHash, f.now.Add(time.Minute)); err != nil {
				return err
			}
			if err := tx.UpdateItem(ctx, &updItem); err != nil {
				return err
			}
			if err := tx.DeleteSession(ctx, f.session.TokenHash); err != nil {
				return err
			}
			if err := tx.AppendAuditEvent(ctx, ev); err != nil {
				return err
			}
			if _, err := tx.DeleteAuditEventsBefore(ctx, f.now); err != nil {
				return err
			}
			_, err := tx.IncrementCounter(ctx, f.counterKey, time.Hour, f.now)
			return err
		})
		wantNoError(t, "InTx", err)

		events, err := s.ListAuditEvents(ctx, keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "ListAuditEvents: the appended event, not the deleted one", events, ev)

		checkUser(t, "the created user", mustUser(t, s, u.ID), u)
		checkItem(t, "the created item", mustItem(t, s, it.ID), it)
		checkItem(t, "the updated item", mustItem(t, s, f.item.ID), &updItem)
		gotSess, _, err := s.FindSession(ctx, sess.TokenHash, f.now)
		wantNoError(t, "FindSession of the created session", err)
		checkSession(t, "the created session", gotSess, sess)
		_, _, err = s.FindSession(ctx, f.session.TokenHash, f.now)
		wantCode(t, "FindSession of the deleted session", err, keel.NotFound)
		c, err := s.Counter(ctx, f.counterKey, f.now)
		wantNoError(t, "Counter", err)
		checkCounter(t, "the counter", c, 2, f.counter.ResetAt)
		gotTok, err := s.ConsumeResetToken(ctx, tok.TokenHash)
		wantNoError(t, "ConsumeResetToken", err)
		checkResetToken(t, "the created reset token", gotTok, tok)
		gotAPITok, _, err := s.FindAPIToken(ctx, apiTok.TokenHash, f.now)
		wantNoError(t, "FindAPIToken of the created token", err)
		checkAPIToken(t, "the created API token", gotAPITok, apiTok)
		gotAPITok, _, err = s.FindAPIToken(ctx, f.apiToken.TokenHash, f.now)
		wantNoError(t, "FindAPIToken of the touched token", err)
		checkTime(t, "the touched API token's LastUsedAt", gotAPITok.LastUsedAt, f.now.Add(time.Minute))
		gotSess, _, err = s.FindSession(ctx, f.oldSession.TokenHash, f.now)
		wantNoError(t, "FindSession of the touched session", err)
		checkTime(t, "the touched session's LastUsedAt", gotSess.LastUsedAt, f.now.Add(time.Minute))
		secret, err := s.LoadOrStoreSecret(ctx, f.freshSecret, []byte("later"))
		wantNoError(t, "LoadOrStoreSecret", err)
		if string(secret) != "committed" {
			t.Errorf("the secret stored in the transaction = %q, want %q", secret, "committed")
		}
	})

	// Every kind of write, undone both ways fn can fail.
	writes := []struct {
		name  string
		write func(ctx context.Context, tx keel.Tx, f *txFixture) error
	}{
		{"CreateUser", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.CreateUser(ctx, NewUser())
		}},
		{"UpdateUser", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			u := *f.user
			u.Email, u.FullName, u.IsSuperuser, u.PasswordHash = "changed@example.com", nil, true, "changed"
			return tx.UpdateUser(ctx, &u)
		}},
		{"DeleteUser with its items, sessions, reset tokens and API tokens", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteUser(ctx, f.user.ID)
		}},
		{"CreateItem", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.CreateItem(ctx, NewItem(f.other.ID))
		}},
		{"UpdateItem", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			it := *f.item
			it.Title, it.Description, it.UpdatedAt = "changed", nil, f.now.Add(time.Hour)
			return tx.UpdateItem(ctx, &it)
		}},
		{"DeleteItem", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteItem(ctx, f.item.ID)
		}},
		{"CreateSession", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			// The other user's only session: gone again after rollback, or
			// DeleteExpired's count is off.
			return tx.CreateSession(ctx, NewSession(f.other.ID, f.now.Add(-time.Minute)))
		}},
		{"UpdateSession", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.UpdateSession(ctx, f.session.TokenHash, []byte("changed"), f.now.Add(48*time.Hour))
		}},
		{"DeleteSession", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteSession(ctx, f.session.TokenHash)
		}},
		{"DeleteUserSessions", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.DeleteUserSessions(ctx, f.user.ID, "")
			return err
		}},
		{"DeleteUserSession", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteUserSession(ctx, f.user.ID, f.session.ID)
		}},
		{"TouchSession", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.TouchSession(ctx, f.session.TokenHash, f.now.Add(time.Hour))
		}},
		{"TrimUserSessions", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			n, err := tx.TrimUserSessions(ctx, f.user.ID, 1, f.now)
			if err == nil && n != 1 {
				return fmt.Errorf("TrimUserSessions = %d, want 1", n)
			}
			return err
		}},
		{"CreateAPIToken", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			// Expired: DeleteExpired's count is off if it survives.
			return tx.CreateAPIToken(ctx, NewAPIToken(f.other.ID, f.now.Add(-time.Hour), f.now.Add(-time.Minute)))
		}},
		{"DeleteUserAPIToken", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteUserAPIToken(ctx, f.user.ID, f.apiToken.ID)
		}},
		{"DeleteUserAPITokens", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.DeleteUserAPITokens(ctx, f.user.ID)
			return err
		}},
		{"TouchAPIToken", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.TouchAPIToken(ctx, f.apiToken.ID, f.now.Add(time.Minute))
		}},
		{"LoadOrStoreSecret of a new name", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.LoadOrStoreSecret(ctx, f.freshSecret, []byte("rolled back"))
			return err
		}},
		{"CreateResetToken, which supersedes the earlier one", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.CreateResetToken(ctx, NewResetToken(f.user.ID, f.now, f.now.Add(time.Hour)))
		}},
		{"ConsumeResetToken", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.ConsumeResetToken(ctx, f.token.TokenHash)
			return err
		}},
		{"DeleteUserResetTokens", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteUserResetTokens(ctx, f.user.ID)
		}},
		{"IncrementCounter", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.IncrementCounter(ctx, f.counterKey, time.Hour, f.now)
			return err
		}},
		{"IncrementCounter restarting an ended window", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.IncrementCounter(ctx, f.expiredKey, time.Hour, f.now)
			return err
		}},
		{"IncrementCounter on a fresh key", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			// Its window has ended by check's DeleteExpired if it survives.
			_, err := tx.IncrementCounter(ctx, "fresh:"+NewID().String(), time.Minute, f.now.Add(-time.Hour))
			return err
		}},
		{"DeleteCounter", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.DeleteCounter(ctx, f.counterKey)
		}},
		{"AppendAuditEvent", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			return tx.AppendAuditEvent(ctx, NewAuditEvent(keel.EventUserDeleted, f.user.ID, f.now))
		}},
		{"DeleteAuditEventsBefore", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			_, err := tx.DeleteAuditEventsBefore(ctx, f.now)
			return err
		}},
		{"every write at once", func(ctx context.Context, tx keel.Tx, f *txFixture) error {
			u := NewUser()
			for _, err := range []error{
				tx.CreateUser(ctx, u),
				tx.CreateItem(ctx, NewItem(u.ID)),
				tx.CreateSession(ctx, NewSession(u.ID, f.now.Add(time.Hour))),
				tx.CreateResetToken(ctx, NewResetToken(f.user.ID, f.now, f.now.Add(time.Hour))),
				tx.CreateAPIToken(ctx, NewAPIToken(u.ID, f.now, f.now.Add(time.Hour))),
				tx.TouchSession(ctx, f.session.TokenHash, f.now.Add(time.Hour)),
				tx.DeleteItem(ctx, f.item.ID),
				tx.DeleteCounter(ctx, f.counterKey),
				tx.AppendAuditEvent(ctx, NewAuditEvent(keel.EventUserDeleted, f.user.ID, f.now)),
				tx.DeleteUser(ctx, f.user.ID),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		}},
	}

	t.Run("InTx rolls back every write and returns fn's error when fn fails", func(t *testing.T) {
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				s := newStore(t)
				f := newTxFixture(t, s)
				ctx := t.Context()
				err := s.InTx(ctx, func(tx keel.Tx) error {
					if err := w.write(ctx, tx, f); err != nil {
						return fmt.Errorf("the write failed: %w", err)
					}
					return fmt.Errorf("fn failed: %w", errRollback)
				})
				if !errors.Is(err, errRollback) {
					t.Fatalf("InTx = %v, want fn's error", err)
				}
				f.check(t, s)
			})
		}
	})

	t.Run("InTx rolls back every write and re-panics when fn panics", func(t *testing.T) {
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				s := newStore(t)
				f := newTxFixture(t, s)
				ctx := t.Context()
				sent := &txPanic{"boom"}
				var writeErr error
				recovered := func() (r any) {
					defer func() { r = recover() }()
					_ = s.InTx(ctx, func(tx keel.Tx) error {
						if writeErr = w.write(ctx, tx, f); writeErr != nil {
							return writeErr
						}
						panic(sent)
					})
					return nil
				}()
				wantNoError(t, "the write", writeErr)
				if recovered != sent {
					t.Fatalf("InTx panicked with %v, want fn's panic value", recovered)
				}
				f.check(t, s)
			})
		}
	})

	t.Run("a Conflict inside InTx is returned with its code and rolls back the earlier writes", func(t *testing.T) {
		s := newStore(t)
		first := mustCreateUser(t, s, NewUser())
		ctx := t.Context()
		u := NewUser()
		err := s.InTx(ctx, func(tx keel.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			dup := NewUser()
			dup.Email = first.Email
			return tx.CreateUser(ctx, dup) // Conflict
		})
		wantCode(t, "InTx", err, keel.Conflict)
		_, err = s.User(ctx, u.ID)
		wantCode(t, "User written before the Conflict", err, keel.NotFound)
	})

	t.Run("reads inside InTx see the transaction's own writes", func(t *testing.T) {
		s := newStore(t)
		f := newTxFixture(t, s)
		ctx := t.Context()
		// fn reports failures by returning them, not with t.Fatal, so that
		// InTx always gets to roll back.
		err := s.InTx(ctx, func(tx keel.Tx) error {
			u := NewUser()
			if err := tx.CreateUser(ctx, u); err != nil {
				return fmt.Errorf("tx.CreateUser: %w", err)
			}
			got, err := tx.User(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("tx.User: %w", err)
			}
			checkUser(t, "User in the tx", got, u)
			if got, err = tx.UserByEmail(ctx, u.Email); err != nil {
				return fmt.Errorf("tx.UserByEmail: %w", err)
			}
			checkUser(t, "UserByEmail in the tx", got, u)
			users, total, err := tx.ListUsers(ctx, keel.Page{Limit: 1})
			if err != nil {
				return fmt.Errorf("tx.ListUsers: %w", err)
			}
			if total != 3 || len(users) != 1 || users[0].ID != u.ID {
				t.Errorf("ListUsers in the tx: count %d, first %v; want count 3 and the new user first", total, userIDs(users))
			}

			it := NewItem(u.ID)
			if err := tx.CreateItem(ctx, it); err != nil {
				return fmt.Errorf("tx.CreateItem: %w", err)
			}
			if _, total, err = tx.ListItems(ctx, keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 10}); err != nil {
				return fmt.Errorf("tx.ListItems: %w", err)
			}
			if total != 1 {
				t.Errorf("ListItems in the tx: count %d, want 1", total)
			}
			upd := *f.item
			upd.Title = "seen"
			if err := tx.UpdateItem(ctx, &upd); err != nil {
				return fmt.Errorf("tx.UpdateItem: %w", err)
			}
			gotItem, err := tx.Item(ctx, f.item.ID)
			if err != nil {
				return fmt.Errorf("tx.Item: %w", err)
			}
			checkItem(t, "Item in the tx", gotItem, &upd)

			sess := NewSession(u.ID, f.now.Add(time.Hour))
			if err := tx.CreateSession(ctx, sess); err != nil {
				return fmt.Errorf("tx.CreateSession: %w", err)
			}
			gotSess, gotUser, err := tx.FindSession(ctx, sess.TokenHash, f.now)
			if err != nil {
				return fmt.Errorf("tx.FindSession: %w", err)
			}
			checkSession(t, "FindSession in the tx", gotSess, sess)
			checkUser(t, "FindSession's user in the tx", gotUser, u)
			listed, err := tx.ListUserSessions(ctx, u.ID, f.now)
			if err != nil {
				return fmt.Errorf("tx.ListUserSessions: %w", err)
			}
			checkIDs(t, "ListUserSessions in the tx", sessionIDs(listed), []uuid.UUID{sess.ID})
			apiTok := NewAPIToken(u.ID, f.now, f.now.Add(time.Hour))
			if err := tx.CreateAPIToken(ctx, apiTok); err != nil {
				return fmt.Errorf("tx.CreateAPIToken: %w", err)
			}
			gotAPITok, _, err := tx.FindAPIToken(ctx, apiTok.TokenHash, f.now)
			if err != nil {
				return fmt.Errorf("tx.FindAPIToken: %w", err)
			}
			checkAPIToken(t, "FindAPIToken in the tx", gotAPITok, apiTok)
			if _, err := tx.LoadOrStoreSecret(ctx, f.freshSecret, []byte("in tx")); err != nil {
				return fmt.Errorf("tx.LoadOrStoreSecret: %w", err)
			}
			if got, err := tx.LoadOrStoreSecret(ctx, f.freshSecret, []byte("later")); err != nil || string(got) != "in tx" {
				t.Errorf("LoadOrStoreSecret in the tx = %q, %v; want the value stored in the tx", got, err)
			}
			if err := tx.DeleteSession(ctx, f.session.TokenHash); err != nil {
				return fmt.Errorf("tx.DeleteSession: %w", err)
			}
			_, _, err = tx.FindSession(ctx, f.session.TokenHash, f.now)
			wantCode(t, "FindSession of a session deleted in the tx", err, keel.NotFound)

			c, err := tx.IncrementCounter(ctx, f.counterKey, time.Hour, f.now)
			if err != nil {
				return fmt.Errorf("tx.IncrementCounter: %w", err)
			}
			gotCounter, err := tx.Counter(ctx, f.counterKey, f.now)
			if err != nil {
				return fmt.Errorf("tx.Counter: %w", err)
			}
			checkCounter(t, "Counter in the tx", gotCounter, 2, c.ResetAt)

			tok := NewResetToken(u.ID, f.now, f.now.Add(time.Hour))
			if err := tx.CreateResetToken(ctx, tok); err != nil {
				return fmt.Errorf("tx.CreateResetToken: %w", err)
			}
			gotTok, err := tx.ConsumeResetToken(ctx, tok.TokenHash)
			if err != nil {
				return fmt.Errorf("tx.ConsumeResetToken: %w", err)
			}
			checkResetToken(t, "ConsumeResetToken in the tx", gotTok, tok)

			if err := tx.DeleteUser(ctx, u.ID); err != nil {
				return fmt.Errorf("tx.DeleteUser: %w", err)
			}
			_, err = tx.User(ctx, u.ID)
			wantCode(t, "User deleted in the tx", err, keel.NotFound)
			_, err = tx.Item(ctx, it.ID)
			wantCode(t, "Item of a user deleted in the tx", err, keel.NotFound)
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want fn's error", err)
		}
		f.check(t, s)
	})

	t.Run("a Tx used after InTx returned fails and writes nothing", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		var leaked keel.Tx
		wantNoError(t, "InTx", s.InTx(ctx, func(tx keel.Tx) error { leaked = tx; return nil }))
		u := NewUser()
		wantCode(t, "CreateUser on the ended Tx", leaked.CreateUser(ctx, u), keel.Internal)
		_, _, err := leaked.ListUsers(ctx, keel.Page{Limit: 1})
		wantCode(t, "ListUsers on the ended Tx", err, keel.Internal)
		_, err = s.User(ctx, u.ID)
		wantCode(t, "User written through the ended Tx", err, keel.NotFound)
		wantCode(t, "AppendAuditEvent on the ended Tx", leaked.AppendAuditEvent(ctx, NewAuditEvent(keel.EventUserCreated, u.ID, Now())), keel.Internal)
		events, err := s.ListAuditEvents(ctx, keel.AuditFilter{}, keel.Page{Limit: 1})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "events written through the ended Tx", events)
	})
}

// testNoLostUpdates: keel reads a row in a transaction, changes it and
// writes it back (renames, password changes, resets, item updates). The
// store must make those read-modify-write transactions serial per row:
// concurrent ones may wait, but never overwrite each other.
func testNoLostUpdates(t *testing.T, newStore newStoreFunc) {
	const workers = 16
	// increments runs workers concurrent transactions that each add one
	// to the number get reads and set writes back, and returns the result.
	increments := func(t *testing.T, s keel.Store, get func(tx keel.Tx) (int, error), set func(tx keel.Tx, n int) error) int {
		errs := make(chan error, workers)
		for range workers {
			go func() {
				errs <- s.InTx(t.Context(), func(tx keel.Tx) error {
					n, err := get(tx)
					if err != nil {
						return err
					}
					return set(tx, n+1)
				})
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Errorf("InTx: %v", err)
			}
		}
		n, err := get(s)
		wantNoError(t, "read back", err)
		return n
	}
	t.Run("concurrent read-modify-write transactions on a user lose no update", func(t *testing.T) {
		s := newStore(t)
		u := NewUser()
		u.FullName = nil
		wantNoError(t, "CreateUser", s.CreateUser(t.Context(), u))
		n := increments(t, s, func(tx keel.Tx) (int, error) {
			got, err := tx.User(t.Context(), u.ID)
			if err != nil || got.FullName == nil {
				return 0, err
			}
			return strconv.Atoi(*got.FullName)
		}, func(tx keel.Tx, n int) error {
			got, err := tx.User(t.Context(), u.ID)
			if err != nil {
				return err
			}
			name := strconv.Itoa(n)
			got.FullName = &name
			return tx.UpdateUser(t.Context(), got)
		})
		if n != workers {
			t.Fatalf("after %d increments the counter is %d: updates were lost", workers, n)
		}
	})
	t.Run("concurrent transactions that each keep only their own session of a user leave exactly one", func(t *testing.T) {
		// A password change: lock the user, check that the caller's session
		// still exists, end every other session. Each transaction must see
		// what the one before it (on the user's row) committed, so the
		// first to commit wins and every later one finds its session gone.
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		now := Now()
		sessions := make([]*keel.SessionRecord, workers)
		for i := range sessions {
			sessions[i] = mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		}
		errGone := errors.New("storetest: the session is gone")
		errs := make(chan error, workers)
		for _, sess := range sessions {
			go func() {
				errs <- s.InTx(ctx, func(tx keel.Tx) error {
					if _, err := tx.User(ctx, u.ID); err != nil {
						return err
					}
					if _, _, err := tx.FindSession(ctx, sess.TokenHash, now); err != nil {
						if keel.ErrorCode(err) == keel.NotFound {
							return errGone
						}
						return err
					}
					_, err := tx.DeleteUserSessions(ctx, u.ID, sess.TokenHash)
					return err
				})
			}()
		}
		won := 0
		for range workers {
			switch err := <-errs; {
			case err == nil:
				won++
			case !errors.Is(err, errGone):
				t.Errorf("InTx: %v", err)
			}
		}
		left := 0
		for _, sess := range sessions {
			if _, _, err := s.FindSession(ctx, sess.TokenHash, now); err == nil {
				left++
			}
		}
		if won != 1 || left != 1 {
			t.Fatalf("%d transactions kept their session and %d sessions are left; want 1 and 1", won, left)
		}
	})
	t.Run("concurrent read-modify-write transactions on an item lose no update", func(t *testing.T) {
		s := newStore(t)
		u := NewUser()
		wantNoError(t, "CreateUser", s.CreateUser(t.Context(), u))
		it := NewItem(u.ID)
		it.Title = "0"
		wantNoError(t, "CreateItem", s.CreateItem(t.Context(), it))
		n := increments(t, s, func(tx keel.Tx) (int, error) {
			got, err := tx.Item(t.Context(), it.ID)
			if err != nil {
				return 0, err
			}
			return strconv.Atoi(got.Title)
		}, func(tx keel.Tx, n int) error {
			got, err := tx.Item(t.Context(), it.ID)
			if err != nil {
				return err
			}
			got.Title = strconv.Itoa(n)
			return tx.UpdateItem(t.Context(), got)
		})
		if n != workers {
			t.Fatalf("after %d increments the counter is %d: updates were lost", workers, n)
		}
	})
}
