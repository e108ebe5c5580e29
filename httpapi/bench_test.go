package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/metrics"
	"github.com/keel-dev/keel/store/memstore"
)

// benchStores are the stores the handler is measured on: memstore and
// SQLite always, PostgreSQL when KEEL_TEST_DATABASE_URL is set.
func benchStores() []string {
	s := []string{"mem", "sqlite"}
	if os.Getenv(pgtest.EnvVar) != "" {
		s = append(s, "postgres")
	}
	return s
}

func openBenchStore(b *testing.B, name string) keel.Store { return keeltest.OpenStore(b, name) }

const (
	benchEmail    = "bench@example.com"
	benchPassword = "a-long-bench-passphrase-42"
)

// BenchmarkHTTP measures the whole handler (middleware, access log to a
// discarding text handler, routing, authentication, JSON) per store, for
// the load harness's workloads: W1 get-item, W2 list-20-items, W3
// create-item, W4 login (with cheap argon2 parameters, so it measures
// everything but the hash; BenchmarkPasswordHashing in the root package
// measures the hash).
// Besides ns/op it reports cpu-ns/op, the process's CPU time per request
// (the request built, served and recorded, and the garbage collector):
// the quantity the harness's targets are stated in.
func BenchmarkHTTP(b *testing.B) {
	for _, name := range benchStores() {
		b.Run("store="+name, func(b *testing.B) {
			ctx := context.Background()
			svc, err := keel.New(openBenchStore(b, name), keel.Config{Argon2: fastArgon2, RateLimits: keel.RateLimits{Disabled: true}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: benchEmail, Password: benchPassword}); err != nil {
				b.Fatal(err)
			}
			sess, err := svc.Login(ctx, keel.LoginInput{Email: benchEmail, Password: benchPassword})
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, 1000)
			for i := range ids {
				it, err := svc.CreateItem(ctx, sess.User, keel.CreateItemInput{Title: fmt.Sprintf("item %d", i)})
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = it.ID.String()
			}
			h := httpapi.New(svc, httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			bearer := "Bearer " + sess.Token
			form := url.Values{"username": {benchEmail}, "password": {benchPassword}}.Encode()

			ops := []struct {
				name string
				want int
				req  func(i int) *http.Request
			}{
				{"op=get-item", http.StatusOK, func(i int) *http.Request {
					r := httptest.NewRequest("GET", "/items/"+ids[i%len(ids)], nil)
					r.Header.Set("Authorization", bearer)
					return r
				}},
				{"op=list-20-items", http.StatusOK, func(int) *http.Request {
					r := httptest.NewRequest("GET", "/items/?limit=20", nil)
					r.Header.Set("Authorization", bearer)
					return r
				}},
				{"op=create-item", http.StatusCreated, func(int) *http.Request {
					r := httptest.NewRequest("POST", "/items/", strings.NewReader(`{"title":"bench","description":"created by the benchmark"}`))
					r.Header.Set("Authorization", bearer)
					r.Header.Set("Content-Type", "application/json")
					return r
				}},
				{"op=login", http.StatusOK, func(int) *http.Request {
					r := httptest.NewRequest("POST", "/login/access-token", strings.NewReader(form))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					return r
				}},
			}
			for _, op := range ops {
				b.Run(op.name, func(b *testing.B) {
					b.ReportAllocs()
					cpu0, measured := processCPU()
					defer func() {
						// CPU per request, unlike ns/op, holds still on a
						// machine whose other work leaves this one waiting.
						if cpu1, ok := processCPU(); measured && ok && b.N > 0 {
							b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
						}
					}()
					b.RunParallel(func(pb *testing.PB) {
						i := 0
						for pb.Next() {
							w := httptest.NewRecorder()
							h.ServeHTTP(w, op.req(i))
							if w.Code != op.want {
								b.Fatalf("%s: %d %s", op.name, w.Code, w.Body)
							}
							i += 7
						}
					})
				})
			}
		})
	}
}

// BenchmarkObservers measures what the observers cost a request: the
// same cheap request (GET /items/{id} on memstore, authenticated) with no
// observer and with package metrics counting it. Compare the two with
// benchstat; allocations must stay flat.
func BenchmarkObservers(b *testing.B) {
	ctx := context.Background()
	svc, err := keel.New(memstore.New(), keel.Config{Argon2: fastArgon2, RateLimits: keel.RateLimits{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: benchEmail, Password: benchPassword}); err != nil {
		b.Fatal(err)
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: benchEmail, Password: benchPassword})
	if err != nil {
		b.Fatal(err)
	}
	it, err := svc.CreateItem(ctx, sess.User, keel.CreateItemInput{Title: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, v := range []struct {
		name      string
		observers []httpapi.Observer
	}{
		{"observers=none", nil},
		{"observers=metrics", []httpapi.Observer{metrics.New()}},
	} {
		b.Run(v.name, func(b *testing.B) {
			h := httpapi.New(svc, httpapi.Config{Logger: log, Observers: v.observers})
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", "/items/"+it.ID.String(), nil)
					r.Header.Set("Authorization", "Bearer "+sess.Token)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
