package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/storetest"
)

// TestHotQueriesArePrepared checks that a Store from Open really takes the
// prepared path for the hot queries, so that TestStore's runs "with" and
// "without prepared statements" cover both implementations, that the
// option and transactions turn it off, and that query hooks see the
// prepared queries without turning it off.
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
					p       *hotPool
					queries []hotQuery
				}{
					{"read", s.readStmts, []hotQuery{qFindSession, qFindSessionItem, qFindAPIToken, qItem, qOwnerItems, qOwnerItemsAfter}},
					{"write", s.writeStmts, []hotQuery{qCreateItem}},
				} {
					got := pool.p.queries()
					for _, q := range pool.queries {
						if !slices.Contains(got, q) {
							t.Errorf("not prepared on the %s pool: %.60s...", pool.name, hotTemplates[q])
						}
					}
				}
			})
			t.Run("withoutPreparedStatements prepares none", func(t *testing.T) {
				s := openInternal(t, d.url(t), withoutPreparedStatements())
				runHotQueries(t, s)
				if s.readStmts != nil || s.writeStmts != nil {
					t.Errorf("the Store has prepared statements: %d, %d", len(s.readStmts.queries()), len(s.writeStmts.queries()))
				}
			})
			t.Run("query hooks see the prepared queries, which stay prepared", func(t *testing.T) {
				outer, inner := &recordingHook{name: "outer"}, &recordingHook{name: "inner"}
				s := openInternal(t, d.url(t), WithQueryHook(outer), WithQueryHook(inner))
				runHotQueries(t, s)
				if _, err := s.Item(t.Context(), uuid.New()); keel.ErrorCode(err) != keel.NotFound {
					t.Fatalf("a missing item: %v", err)
				}
				prepared := append(s.readStmts.queries(), s.writeStmts.queries()...)
				for q := range numHotQueries {
					if !slices.Contains(prepared, q) {
						t.Errorf("not prepared: %.60s...", hotTemplates[q])
					}
					for _, h := range []*recordingHook{outer, inner} {
						if !slices.Contains(h.templates(), s.readStmts.sql.templates[q]) {
							t.Errorf("the %s hook did not see %.60s...", h.name, hotTemplates[q])
						}
					}
				}
				if e := inner.last(); e.QueryTemplate != s.readStmts.sql.templates[qItem] || !errors.Is(e.Err, sql.ErrNoRows) || e.DB == nil || len(e.QueryArgs) != 1 {
					t.Errorf("the missing item's event: %q %v %v", e.QueryTemplate, e.Err, e.QueryArgs)
				}
				if inner.nested != len(inner.templates()) {
					t.Errorf("%d of %d events reached AfterQuery with the context the outer BeforeQuery made", inner.nested, len(inner.templates()))
				}
			})
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

// queries returns the queries some connection of p prepared; none for a
// nil p.
func (p *hotPool) queries() []hotQuery {
	if p == nil {
		return nil
	}
	var out []hotQuery
	for q := range numHotQueries {
		if p.conns.prepared[q].Load() {
			out = append(out, q)
		}
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
	_, _, _, err = s.FindSessionItem(ctx, sess.TokenHash, now, it.ID)
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

// recordingHook keeps the events AfterQuery sees.
type recordingHook struct {
	name   string
	mu     sync.Mutex
	events []*bun.QueryEvent
	nested int // events whose context held the outer hook's mark
}

type hookMark struct{}

func (h *recordingHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if h.name == "outer" {
		return context.WithValue(ctx, hookMark{}, true)
	}
	return ctx
}

func (h *recordingHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	if ctx.Value(hookMark{}) != nil {
		h.nested++
	}
}

func (h *recordingHook) templates() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.QueryTemplate)
	}
	return out
}

func (h *recordingHook) last() *bun.QueryEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.events[len(h.events)-1]
}
