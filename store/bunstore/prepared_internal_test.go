package bunstore

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/storetest"
)

// TestHotQueriesArePrepared checks that a Store from Open really takes the
// prepared path for the hot queries, so that TestStore's runs "with" and
// "without prepared statements" cover both implementations, and that the
// option, query hooks and transactions turn it off.
func TestHotQueriesArePrepared(t *testing.T) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"SQLite file", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "keel.db") }},
		{"SQLite memory", func(*testing.T) string { return "sqlite::memory:" }},
		{"PostgreSQL", func(t *testing.T) string { return pgtest.Schema(t) }},
	} {
		t.Run(d.name, func(t *testing.T) {
			t.Run("a Store from Open prepares them", func(t *testing.T) {
				s := openInternal(t, d.url(t))
				runHotQueries(t, s)
				for _, pool := range []struct {
					name    string
					p       *stmtCache
					queries []string
				}{
					{"read", s.readStmts, []string{sqlFindSession, sqlFindAPIToken, sqlItem, sqlOwnerItems, sqlOwnerItemsAfter}},
					{"write", s.writeStmts, []string{sqlCreateItem}},
				} {
					got := pool.p.queries()
					for _, q := range pool.queries {
						if !slices.Contains(got, q) {
							t.Errorf("not prepared on the %s pool: %.60s...", pool.name, q)
						}
					}
				}
			})
			for _, tc := range []struct {
				name string
				opt  Option
			}{
				{"withoutPreparedStatements prepares none", withoutPreparedStatements()},
				{"a query hook prepares none", WithQueryHook(nopHook{})},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s := openInternal(t, d.url(t), tc.opt)
					runHotQueries(t, s)
					if s.readStmts != nil || s.writeStmts != nil {
						t.Errorf("the Store has prepared statements: %d, %d", len(s.readStmts.queries()), len(s.writeStmts.queries()))
					}
				})
			}
			t.Run("a transaction prepares none", func(t *testing.T) {
				s := openInternal(t, d.url(t))
				err := s.InTx(t.Context(), func(tx keel.Tx) error {
					if h := tx.(*handle); h.readStmts != nil || h.writeStmts != nil {
						t.Error("the transaction's handle has prepared statements")
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// queries returns the queries p holds statements for; none for a nil p.
func (p *stmtCache) queries() []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for q := range p.stmts {
		out = append(out, q)
	}
	return out
}

// runHotQueries calls every method that has a prepared path.
func runHotQueries(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	now := storetest.Now()
	u := storetest.NewUser()
	must(t, s.CreateUser(ctx, u))
	it := storetest.NewItem(u.ID)
	must(t, s.CreateItem(ctx, it))
	sess := storetest.NewSession(u.ID, now.Add(time.Hour))
	must(t, s.CreateSession(ctx, sess))
	_, _, err := s.FindSession(ctx, sess.TokenHash, now)
	must(t, err)
	tok := storetest.NewAPIToken(u.ID, now, now.Add(time.Hour))
	must(t, s.CreateAPIToken(ctx, tok))
	_, _, err = s.FindAPIToken(ctx, tok.TokenHash, now)
	must(t, err)
	_, err = s.Item(ctx, it.ID)
	must(t, err)
	_, _, err = s.ListItems(ctx, keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 10})
	must(t, err)
	_, _, err = s.ListItems(ctx, keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 10, After: &keel.Cursor{CreatedAt: it.CreatedAt, ID: it.ID}})
	must(t, err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openInternal(t *testing.T, rawURL string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), rawURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

type nopHook struct{}

func (nopHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (nopHook) AfterQuery(context.Context, *bun.QueryEvent)                        {}
