package bunstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/storetest"
)

// queryLog is a bun query hook that records the queries a store runs.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, e.Query)
}

func (l *queryLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = nil
}

func (l *queryLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queries)
}

// TestRoundTrips checks how many queries the calls that matter most run:
// one for a session or an API token with its user, one for each write of
// session metadata, one for a page plus at most one for the count, one for
// an increment and one for consuming a token.
func TestRoundTrips(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			d.available(t)
			var log queryLog
			s := open(t, d.url(t), bunstore.WithQueryHook(&log))
			ctx := t.Context()
			now := storetest.Now()
			u := storetest.NewUser()
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if err := s.CreateItem(ctx, storetest.NewItem(u.ID)); err != nil {
					t.Fatal(err)
				}
			}
			sess := storetest.NewSession(u.ID, now.Add(time.Hour))
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			tok := storetest.NewResetToken(u.ID, now, now.Add(time.Hour))
			if err := s.CreateResetToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			apiTok := storetest.NewAPIToken(u.ID, now, now.Add(time.Hour))
			if err := s.CreateAPIToken(ctx, apiTok); err != nil {
				t.Fatal(err)
			}

			for _, tc := range []struct {
				name string
				max  int
				call func() error
			}{
				{"FindSession joins the session to its user", 1, func() error {
					_, _, err := s.FindSession(ctx, sess.TokenHash, now)
					return err
				}},
				{"FindAPIToken joins the token to its user", 1, func() error {
					_, _, err := s.FindAPIToken(ctx, apiTok.TokenHash, now)
					return err
				}},
				{"TouchSession is one UPDATE", 1, func() error { return s.TouchSession(ctx, sess.TokenHash, now.Add(time.Minute)) }},
				{"TouchAPIToken is one UPDATE", 1, func() error { return s.TouchAPIToken(ctx, apiTok.ID, now.Add(time.Minute)) }},
				{"TrimUserSessions is one DELETE", 1, func() error {
					_, err := s.TrimUserSessions(ctx, u.ID, 100, now)
					return err
				}},
				{"ListUserSessions", 1, func() error { _, err := s.ListUserSessions(ctx, u.ID, now); return err }},
				{"ListItems of a full page runs the page and the count", 2, func() error {
					items, total, err := s.ListItems(ctx, keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 2})
					if err == nil && (len(items) != 2 || total != 5) {
						t.Errorf("ListItems = %d items of %d, want 2 of 5", len(items), total)
					}
					return err
				}},
				{"ListItems of the last page needs no count", 1, func() error {
					items, total, err := s.ListItems(ctx, keel.ItemFilter{}, keel.Page{Offset: 4, Limit: 2})
					if err == nil && (len(items) != 1 || total != 5) {
						t.Errorf("ListItems = %d items of %d, want 1 of 5", len(items), total)
					}
					return err
				}},
				{"ListItems past the end runs the count", 2, func() error {
					items, total, err := s.ListItems(ctx, keel.ItemFilter{}, keel.Page{Offset: 10, Limit: 2})
					if err == nil && (len(items) != 0 || total != 5) {
						t.Errorf("ListItems = %d items of %d, want 0 of 5", len(items), total)
					}
					return err
				}},
				{"ListUsers", 2, func() error { _, _, err := s.ListUsers(ctx, keel.Page{Limit: 1}); return err }},
				{"IncrementCounter is one upsert", 1, func() error {
					_, err := s.IncrementCounter(ctx, "k", time.Minute, now)
					return err
				}},
				{"ConsumeResetToken is one DELETE ... RETURNING", 1, func() error {
					_, err := s.ConsumeResetToken(ctx, tok.TokenHash)
					return err
				}},
				{"UpdateSession is one UPDATE", 1, func() error {
					return s.UpdateSession(ctx, sess.TokenHash, []byte("x"), now.Add(2*time.Hour))
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					log.reset()
					if err := tc.call(); err != nil {
						t.Fatal(err)
					}
					if n := log.count(); n > tc.max {
						t.Errorf("ran %d queries, want at most %d: %q", n, tc.max, log.queries)
					}
				})
			}
		})
	}
}
