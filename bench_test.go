package keel_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/memstore"
)

// benchStores are the stores the hot paths are measured on: memstore and
// SQLite always, PostgreSQL when KEEL_TEST_DATABASE_URL is set.
func benchStores(b *testing.B) map[string]func(b *testing.B) keel.Store {
	stores := map[string]func(b *testing.B) keel.Store{
		"store=mem":    func(b *testing.B) keel.Store { return keeltest.OpenStore(b, "mem") },
		"store=sqlite": func(b *testing.B) keel.Store { return keeltest.OpenStore(b, "sqlite") },
	}
	if os.Getenv(pgtest.EnvVar) != "" {
		stores["store=postgres"] = func(b *testing.B) keel.Store { return keeltest.OpenStore(b, "postgres") }
	}
	return stores
}

// benchEnv is a Service with one user, its session and n items.
type benchEnv struct {
	svc   *keel.Service
	sess  *keel.Session
	items []*keel.Item
}

func newBenchEnv(b *testing.B, st keel.Store, n int) *benchEnv {
	ctx := context.Background()
	svc, err := keel.New(st, keel.Config{Argon2: cheap, RateLimits: keel.RateLimits{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "bench@example.com", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: "bench@example.com", Password: goodPassword})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{svc: svc, sess: sess}
	for i := range n {
		it, err := svc.CreateItem(ctx, sess.User, keel.CreateItemInput{Title: fmt.Sprintf("item %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		e.items = append(e.items, it)
	}
	return e
}

// BenchmarkHotPaths measures, per store, what an authenticated request
// costs in the root package: resolving the token, then reading, listing or
// creating an item.
func BenchmarkHotPaths(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			e := newBenchEnv(b, open(b), 1000)
			ctx := context.Background()
			b.Run("op=authenticate", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := e.svc.Authenticate(ctx, e.sess.Token); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("op=get-item", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						s, err := e.svc.Authenticate(ctx, e.sess.Token)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := e.svc.Item(ctx, s.User, e.items[i%len(e.items)].ID); err != nil {
							b.Fatal(err)
						}
						i += 7
					}
				})
			})
			b.Run("op=list-20-items", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						s, err := e.svc.Authenticate(ctx, e.sess.Token)
						if err != nil {
							b.Fatal(err)
						}
						if _, _, err := e.svc.Items(ctx, s.User, keel.ListOptions{Limit: 20}); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("op=create-item", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						s, err := e.svc.Authenticate(ctx, e.sess.Token)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := e.svc.CreateItem(ctx, s.User, keel.CreateItemInput{Title: "bench"}); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}

// BenchmarkPasswordHashing measures argon2id at the production defaults.
// op=login is one login at a time: its cost on one core. op=login-parallel
// runs logins from GOMAXPROCS goroutines at once (b.RunParallel, so -cpu N
// measures N cores): the logins per second N cores actually sustain, which
// is less than N × op=login wherever argon2id's memory traffic does not
// scale with the cores (shared caches, memory bandwidth, SMT siblings).
// The load harness runs it with -cpu set to the machine's cores to predict
// the W4 ceiling.
func BenchmarkPasswordHashing(b *testing.B) {
	ctx := context.Background()
	svc, err := keel.New(memstore.New(), keel.Config{RateLimits: keel.RateLimits{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "bench@example.com", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	b.Run("op=login", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Login(ctx, keel.LoginInput{Email: "bench@example.com", Password: goodPassword}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=login-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Login(ctx, keel.LoginInput{Email: "bench@example.com", Password: goodPassword}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("op=sign-up", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: fmt.Sprintf("u%d@example.com", i), Password: goodPassword}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPasswordCheck measures the check of a new password's strength
// (CheckPassword: length, characters, zxcvbn's estimate), which every
// sign-up and password change runs before its argon2id hash
// (BenchmarkPasswordHashing, op=sign-up): it must stay a small part of
// that. The shapes are the costliest for zxcvbn found: digits, mixed
// case with symbols, and multi-byte text, at the length zxcvbn judges
// (32 code points) and at the longest password (128).
func BenchmarkPasswordCheck(b *testing.B) {
	svc, err := keel.New(memstore.New(), keel.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, unit string }{
		{"shape=passphrase", "correct horse battery staple "},
		{"shape=digits", "1234"},
		{"shape=mixed", "Aa1!"},
		{"shape=multibyte", "é1x☕"},
	} {
		for _, n := range []int{32, 128} {
			password := string([]rune(strings.Repeat(tc.unit, 128))[:n])
			b.Run(fmt.Sprintf("%s/len=%d", tc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = svc.CheckPassword(password)
				}
			})
		}
	}
}
