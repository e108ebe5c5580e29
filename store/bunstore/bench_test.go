package bunstore_test

import (
	"path/filepath"
	"testing"

	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/storetest"
)

// BenchmarkCreateItemParallel is W3's write on an SQLite file: CreateItem
// from 16 b.RunParallel goroutines per core (run it with -cpu 2,8: 32 and
// 128 writers, as many as the load harness's and the wrk
// connections), each item its own INSERT made outside a transaction. Every
// write needs the one writer connection, so this measures how the writes
// share it.
func BenchmarkCreateItemParallel(b *testing.B) {
	s, err := bunstore.Open(b.Context(), "sqlite://"+filepath.Join(b.TempDir(), "keel.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	owner := storetest.NewUser()
	if err := s.CreateUser(b.Context(), owner); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreateItem(b.Context(), storetest.NewItem(owner.ID)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
