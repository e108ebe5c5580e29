package bunstore_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/storetest"
)

func wantCode(t *testing.T, what string, err error, want keel.Code) {
	t.Helper()
	if got := keel.ErrorCode(err); err == nil || got != want {
		t.Errorf("%s: err = %v (code %v), want code %v", what, err, got, want)
	}
}

// proxy forwards a loopback port to PostgreSQL, and can go down (closing
// its listener and every connection) and come back on the same port.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(up, c); up.Close() })
			p.wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
}

// down stops listening and cuts every connection: the database is gone.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up listens on the same port again: the database is back.
func (p *proxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// withHost returns rawURL with its host:port replaced, and its query
// extended with the parameters.
func withHost(t *testing.T, rawURL, hostport string, params map[string]string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if hostport != "" {
		u.Host = hostport
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// eventually calls f until it succeeds, failing t when it returns an error
// that is not Unavailable or keeps failing.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	const attempts = 25 // the pool's dead connections fail one by one at most
	var err error
	for i := range attempts {
		if err = f(); err == nil {
			t.Logf("%s recovered after %d Unavailable answers", what, i)
			return
		}
		if keel.ErrorCode(err) != keel.Unavailable {
			t.Fatalf("%s while the database comes back: err = %v (code %v), want nil or Unavailable", what, err, keel.ErrorCode(err))
		}
	}
	t.Fatalf("%s did not recover after %d attempts: %v", what, attempts, err)
}

func TestPostgreSQLAvailability(t *testing.T) {
	postgresURL(t)

	t.Run("a store whose database is unreachable answers Unavailable, then recovers", func(t *testing.T) {
		schemaURL := newPostgresSchema(t)
		u := storetest.NewUser()
		setup := open(t, schemaURL)
		if err := setup.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		pgURL, _ := url.Parse(schemaURL)
		p := startProxy(t, pgURL.Host)
		s := openUnmigrated(t, withHost(t, schemaURL, p.addr, nil))
		if _, err := s.User(t.Context(), u.ID); err != nil {
			t.Fatalf("User through the proxy: %v", err)
		}

		p.down()
		for _, tc := range []struct {
			name string
			call func(context.Context) error
		}{
			{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
			{"User", func(ctx context.Context) error { _, err := s.User(ctx, u.ID); return err }},
			{"User of a missing id", func(ctx context.Context) error { _, err := s.User(ctx, storetest.NewID()); return err }},
			{"UserByEmail", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, u.Email); return err }},
			{"FindSession", func(ctx context.Context) error {
				_, _, err := s.FindSession(ctx, "missing", storetest.Now())
				return err
			}},
			{"ConsumeResetToken", func(ctx context.Context) error { _, err := s.ConsumeResetToken(ctx, "missing"); return err }},
			{"CreateUser", func(ctx context.Context) error { return s.CreateUser(ctx, storetest.NewUser()) }},
			{"InTx", func(ctx context.Context) error { return s.InTx(ctx, func(keel.Tx) error { return nil }) }},
		} {
			wantCode(t, tc.name+" with the database down", tc.call(t.Context()), keel.Unavailable)
		}

		p.up()
		eventually(t, "User", func() error { _, err := s.User(t.Context(), u.ID); return err })
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping after recovery: %v", err)
		}
	})

	t.Run("Open on a closed port answers Unavailable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		_, err = bunstore.Open(t.Context(), withHost(t, postgresURL(t), closed, nil))
		wantCode(t, "Open", err, keel.Unavailable)
	})

	t.Run("a store whose connections are terminated answers Unavailable or succeeds, then recovers", func(t *testing.T) {
		schemaURL := newPostgresSchema(t)
		app := "keel_test_terminate_" + storetest.NewTokenHash()[:12]
		s := open(t, withHost(t, schemaURL, "", map[string]string{"application_name": app}))
		u := storetest.NewUser()
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		// Fill the pool with several connections.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { _, _ = s.User(t.Context(), u.ID) })
		}
		wg.Wait()

		admin := openUnmigrated(t, postgresURL(t))
		var terminated int
		err := admin.DB().NewRaw(
			"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?", app,
		).Scan(t.Context(), &terminated)
		if err != nil {
			t.Fatalf("pg_terminate_backend: %v", err)
		}
		if terminated == 0 {
			t.Fatal("no connection of the store to terminate")
		}
		eventually(t, "User", func() error { _, err := s.User(t.Context(), u.ID); return err })
		eventually(t, "CreateUser", func() error { return s.CreateUser(t.Context(), storetest.NewUser()) })
	})
}

func TestSQLiteAvailability(t *testing.T) {
	t.Run("a closed store answers Internal: using it is a bug, not an outage", func(t *testing.T) {
		s := newSQLiteFile(t)
		u := storetest.NewUser()
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := s.User(t.Context(), u.ID)
		wantCode(t, "User on a closed store", err, keel.Internal)
		wantCode(t, "CreateUser on a closed store", s.CreateUser(t.Context(), storetest.NewUser()), keel.Internal)
	})

	t.Run("a write blocked by another process's lock answers Unavailable after the busy timeout, then recovers", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keel.db")
		s := open(t, "sqlite://"+path+"?_pragma=busy_timeout(20)")
		u := storetest.NewUser()
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}

		// Another process takes the write lock and keeps it.
		other, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		conn, err := other.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}

		wantCode(t, "CreateUser while locked", s.CreateUser(t.Context(), storetest.NewUser()), keel.Unavailable)
		if _, err := s.User(t.Context(), u.ID); err != nil {
			t.Errorf("User while another process writes (WAL readers do not wait): %v", err)
		}

		if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(t.Context(), storetest.NewUser()); err != nil {
			t.Errorf("CreateUser once the lock is gone: %v", err)
		}
	})
}

func TestSQLiteConcurrentProcesses(t *testing.T) {
	// Two stores on one file stand for two processes: each has its own
	// writer connection, so they meet at SQLite's lock, where BEGIN
	// IMMEDIATE and the busy timeout make them wait instead of failing
	// with "database is locked".
	url := sqliteFileURL(t)
	a, b := open(t, url), open(t, url)
	const perStore = 25
	counts := make(chan int64, 2*perStore)
	errs := make(chan error, 4*perStore)
	var wg sync.WaitGroup
	for _, s := range []*bunstore.Store{a, b} {
		for range perStore {
			wg.Go(func() {
				u := storetest.NewUser()
				if err := s.CreateUser(t.Context(), u); err != nil {
					errs <- err
					return
				}
				err := s.InTx(t.Context(), func(tx keel.Tx) error {
					return tx.CreateItem(t.Context(), storetest.NewItem(u.ID))
				})
				if err != nil {
					errs <- err
				}
				c, err := s.IncrementCounter(t.Context(), "shared", 1e12, storetest.Now())
				if err != nil {
					errs <- err
					return
				}
				counts <- c.Count
			})
		}
	}
	wg.Wait()
	close(errs)
	close(counts)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
		var busy interface{ Code() int }
		if errors.As(err, &busy) {
			t.Logf("sqlite code %d", busy.Code())
		}
	}
	seen := map[int64]bool{}
	for c := range counts {
		if seen[c] {
			t.Errorf("IncrementCounter returned %d twice", c)
		}
		seen[c] = true
	}
	for i := int64(1); i <= 2*perStore; i++ {
		if !seen[i] {
			t.Errorf("no IncrementCounter returned %d", i)
		}
	}
	_, total, err := a.ListItems(t.Context(), keel.ItemFilter{}, keel.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2*perStore {
		t.Errorf("ListItems total = %d, want %d", total, 2*perStore)
	}
}
