package bunstore_test

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
)

// BenchmarkCreateItem measures CreateItem on PostgreSQL from many
// goroutines at once, as W3 calls it (more callers than pooled
// connections), on both query paths. Besides ns/op it reports pg-cpu-µs/op,
// the CPU the store's server backends spent per item (read from /proc, so
// only when the server runs on this machine): on a small machine the
// server's work per insert competes with keel's.
func BenchmarkCreateItem(b *testing.B) {
	for _, v := range []struct {
		name string
		opts []bunstore.Option
	}{
		{"path=prepared", nil},
		{"path=bun", []bunstore.Option{bunstore.WithoutPreparedStatements()}},
	} {
		b.Run(v.name, func(b *testing.B) {
			app := "keel_bench_" + strconv.Itoa(os.Getpid())
			u, err := url.Parse(pgtest.Schema(b))
			if err != nil {
				b.Fatal(err)
			}
			q := u.Query()
			q.Set("application_name", app)
			u.RawQuery = q.Encode()
			s, owner := benchStore(b, u.String(), v.opts...)
			b.SetParallelism(16)
			b.ReportAllocs()
			cpu := backendCPU(b, s, app)
			b.ResetTimer()
			createItemsParallel(b, s, owner.ID)
			b.StopTimer()
			if spent, ok := cpu(); ok {
				b.ReportMetric(float64(spent.Microseconds())/float64(b.N), "pg-cpu-µs/op")
			}
		})
	}
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// backendCPU returns a function that tells the CPU time the server's
// backends named app spent since backendCPU was called, read from
// /proc/PID/stat; it reports false when the backends cannot be read (the
// server runs elsewhere) or some ended meanwhile.
func backendCPU(b *testing.B, s *bunstore.Store, app string) func() (time.Duration, bool) {
	b.Helper()
	// Fill the pool first, so that every backend the benchmark uses is
	// there to be read.
	conns := make([]interface{ Close() error }, 0, 10)
	for range 10 {
		c, err := s.DB().Conn(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.ExecContext(b.Context(), "SELECT 1"); err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	var pids []int
	if err := s.DB().NewRaw("SELECT pid FROM pg_stat_activity WHERE application_name = ?", app).Scan(b.Context(), &pids); err != nil {
		b.Fatal(err)
	}
	read := func() (int64, bool) {
		var ticks int64
		for _, pid := range pids {
			f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return 0, false
			}
			line, err := bufio.NewReader(f).ReadString('\n')
			f.Close()
			if err != nil {
				return 0, false
			}
			// The fields after the command's closing parenthesis; utime
			// and stime are the 14th and 15th of the line.
			fields := strings.Fields(line[strings.LastIndexByte(line, ')')+1:])
			for _, i := range []int{11, 12} {
				n, err := strconv.ParseInt(fields[i], 10, 64)
				if err != nil {
					return 0, false
				}
				ticks += n
			}
		}
		return ticks, true
	}
	start, ok := read()
	return func() (time.Duration, bool) {
		end, ok2 := read()
		if !ok || !ok2 {
			return 0, false
		}
		return time.Duration(end-start) * clockTick, true
	}
}

// BenchmarkListItems measures the first page of one owner's items and
// their count on PostgreSQL with 1,000 and with 1,000,000 items of the
// owner: the two should cost the same, since the count sums item_counts
// instead of reading the items. The items are loaded with one SQL
// statement, which bypasses keel's counting, and then recounted as the
// item_counts_by_keel migration tells hosts to.
func BenchmarkListItems(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run("items="+strconv.Itoa(n), func(b *testing.B) {
			// The load takes longer than pgdriver's default read timeout.
			s, owner := benchStore(b, pgtest.Schema(b)+"&read_timeout=10m")
			for _, q := range []string{
				`INSERT INTO items (id, title, owner_id, created_at, updated_at)
				 SELECT gen_random_uuid(), 'item ' || g, ?, now() - g * interval '1 millisecond', now() FROM generate_series(1, ?) AS g`,
				`DELETE FROM item_counts WHERE owner_id = ?`,
				`INSERT INTO item_counts (owner_id, shard, n) SELECT ?, 0, count(*) FROM items WHERE owner_id = ?`,
				`VACUUM ANALYZE items`,
			} {
				args := []any{owner.ID, n}
				switch {
				case strings.HasPrefix(q, "DELETE"):
					args = args[:1]
				case strings.HasPrefix(q, "INSERT INTO item_counts"):
					args = []any{owner.ID, owner.ID}
				case strings.HasPrefix(q, "VACUUM"):
					args = nil
				}
				if _, err := s.DB().ExecContext(b.Context(), q, args...); err != nil {
					b.Fatal(err)
				}
			}
			f := keel.ItemFilter{OwnerID: owner.ID}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					items, total, err := s.ListItems(b.Context(), f, keel.Page{Limit: 20})
					if err != nil || len(items) != 20 || total != n {
						b.Errorf("ListItems = %d items, count %d, %v; want 20 of %d", len(items), total, err, n)
						return
					}
				}
			})
		})
	}
}
