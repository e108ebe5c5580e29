package bunstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/storetest"
)

// BenchmarkHotReads measures the reads every authenticated request makes
// (FindSession, then the Item it asks for; or both in one round trip,
// FindSessionItem, as GET /items/{id} does) and a page of one owner's
// items, from b.RunParallel's goroutines: run it with -cpu 1,2,8 to see
// how they scale, and with -mutexprofile for the locks they share. It runs
// on a SQLite file always and on PostgreSQL when KEEL_TEST_DATABASE_URL is
// set.
func BenchmarkHotReads(b *testing.B) {
	stores := []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"store=sqlite", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "keel.db") }},
	}
	if os.Getenv(pgtest.EnvVar) != "" {
		stores = append(stores, struct {
			name string
			url  func(b *testing.B) string
		}{"store=postgres", func(b *testing.B) string { return pgtest.Schema(b) }})
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s, u := benchStore(b, st.url(b))
			now := storetest.Now()
			sess := storetest.NewSession(u.ID, now.Add(time.Hour))
			if err := s.CreateSession(b.Context(), sess); err != nil {
				b.Fatal(err)
			}
			var items []*keel.Item
			for range 50 {
				it := storetest.NewItem(u.ID)
				if err := s.CreateItem(b.Context(), it); err != nil {
					b.Fatal(err)
				}
				items = append(items, it)
			}
			b.Run("op=FindSession+Item", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if _, _, err := s.FindSession(b.Context(), sess.TokenHash, now); err != nil {
							b.Fatal(err)
						}
						if _, err := s.Item(b.Context(), items[i%len(items)].ID); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			})
			b.Run("op=FindSessionItem", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if _, _, it, err := s.FindSessionItem(b.Context(), sess.TokenHash, now, items[i%len(items)].ID); err != nil || it == nil {
							b.Fatal(it, err)
						}
						i++
					}
				})
			})
			b.Run("op=ListItems", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, _, err := s.ListItems(b.Context(), keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 20}); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}

// BenchmarkCreateItemParallel is W3's write on an SQLite file: CreateItem
// from 16 b.RunParallel goroutines per core (run it with -cpu 2,8: 32 and
// 128 writers, as many as the load harness's and the wrk
// connections), each item its own INSERT made outside a transaction. Every
// write needs the one writer connection, so this measures how the writes
// share it.
func BenchmarkCreateItemParallel(b *testing.B) {
	s, owner := benchStore(b, "sqlite://"+filepath.Join(b.TempDir(), "keel.db"))
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	createItemsParallel(b, s, owner.ID)
}

// benchStore opens a Store on url with opts, migrated, closed when b ends,
// with one user in it: what every benchmark here starts from.
func benchStore(b *testing.B, url string, opts ...bunstore.Option) (*bunstore.Store, *keel.User) {
	b.Helper()
	s, err := bunstore.Open(b.Context(), url, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	u := storetest.NewUser()
	if err := s.CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	return s, u
}

// createItemsParallel runs b.N CreateItem calls of new items of the owner
// from b.RunParallel's goroutines, each made outside a transaction.
func createItemsParallel(b *testing.B, s *bunstore.Store, owner uuid.UUID) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreateItem(b.Context(), storetest.NewItem(owner)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
