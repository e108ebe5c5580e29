package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// bare serves the ceiling: a fixed 192-byte JSON answer.
func bare() (addr string, stop func(), err error) {
	body := []byte(`{"id":"0190a6f2-7c1e-7d3a-9b4e-5f6a7b8c9d0e","title":"bare","description":"a fixed answer: the ceiling!!","owner_id":"0190a6f2-7c1e-7d3a-9b4e-5f6a7b8c9d0f","created_at":"2025-01-01T00:00:00Z"}`)
	if len(body) != 192 {
		return "", nil, fmt.Errorf("bare body is %d bytes, want 192", len(body))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// keelServer is a running `keel serve`.
type keelServer struct {
	cmd     *exec.Cmd
	addr    string
	pprof   string
	logPath string
	exited  chan struct{}
}

// startKeel runs the binary against databaseURL and waits until it answers.
func startKeel(ctx context.Context, bin, databaseURL, logDir, logLevel string, pprof bool, extraEnv []string) (*keelServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &keelServer{addr: addr, exited: make(chan struct{})}
	env := append(os.Environ(),
		"DATABASE_URL="+databaseURL,
		"KEEL_ADDR="+addr,
		// Off for W4: every login comes from one address and account.
		"KEEL_RATE_LIMITS=off",
		"KEEL_LOG_LEVEL="+logLevel,
		"ENVIRONMENT=production",
	)
	env = append(env, extraEnv...)
	if pprof {
		if s.pprof, err = freeAddr(); err != nil {
			return nil, err
		}
		env = append(env, "KEEL_PPROF_ADDR="+s.pprof)
	}
	s.logPath = filepath.Join(logDir, "keel-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".log")
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { s.cmd.Wait(); logf.Close(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/v1/utils/health-check/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("keel serve exited at start; see %s", s.logPath)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("keel serve did not answer in 60s; see %s", s.logPath)
		}
	}
}

func (s *keelServer) url() string { return "http://" + s.addr }

func (s *keelServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// rssKiB reads the resident set size of the server.
func (s *keelServer) rssKiB() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// rssSampler samples the server's RSS until stopped.
type rssSampler struct {
	mu      sync.Mutex
	samples []int64
	done    chan struct{}
	stopped chan struct{}
}

func sampleRSS(s *keelServer, every time.Duration) *rssSampler {
	r := &rssSampler{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(r.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			r.mu.Lock()
			r.samples = append(r.samples, s.rssKiB())
			r.mu.Unlock()
			select {
			case <-r.done:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

// stop returns the samples in KiB.
func (r *rssSampler) stop() []int64 {
	close(r.done)
	<-r.stopped
	return r.samples
}

// client talks to the API to seed the store.
type client struct {
	base  string
	token string
	http  *http.Client
}

func (c *client) do(ctx context.Context, method, path, contentType string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// benchUser is the account the workloads use.
const (
	benchEmail    = "bench@example.com"
	benchPassword = "a-long-bench-passphrase-42"
)

func loginForm() string {
	return url.Values{"username": {benchEmail}, "password": {benchPassword}}.Encode()
}

// seed signs the bench user up through the API, logs in and creates n
// items, returning the token and the items' ids.
func seed(ctx context.Context, base string, n int) (token string, ids []string, err error) {
	c := &client{base: base + "/api/v1", http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	signup, _ := json.Marshal(map[string]string{"email": benchEmail, "password": benchPassword, "full_name": "Bench"})
	if err := c.do(ctx, "POST", "/users/signup", "application/json", signup, 201, nil); err != nil {
		return "", nil, fmt.Errorf("sign up: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(ctx, "POST", "/login/access-token", "application/x-www-form-urlencoded", []byte(loginForm()), 200, &tok); err != nil {
		return "", nil, fmt.Errorf("log in: %w", err)
	}
	c.token = tok.AccessToken
	ids = make([]string, n)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				body := fmt.Appendf(nil, `{"title":"item %d","description":"seeded by bench/cmd/load"}`, i)
				var it struct {
					ID string `json:"id"`
				}
				if err := c.do(ctx, "POST", "/items/", "application/json", body, 201, &it); err != nil {
					errs <- err
					return
				}
				ids[i] = it.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", nil, fmt.Errorf("create items: %w", err)
	}
	return c.token, ids, nil
}

// pgSchema makes a fresh schema on the PostgreSQL server at raw and
// returns a URL that uses it, and a function that drops it.
func pgSchema(ctx context.Context, raw string) (string, *sql.DB, func(), error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, nil, fmt.Errorf("PostgreSQL URL: %w", err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, nil, fmt.Errorf("the PostgreSQL URL must name a loopback host, not %q", u.Hostname())
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "keel_bench_" + hex.EncodeToString(b)
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(raw)))
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, nil, fmt.Errorf("CREATE SCHEMA: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	// A second pool in the schema, for bulk seeding.
	sdb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(u.String())))
	drop := func() {
		sdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "load: DROP SCHEMA %s: %v\n", schema, err)
		}
		db.Close()
	}
	return u.String(), sdb, drop, nil
}

// bulkItems adds n items of the bench user straight in SQL (older than
// the API-seeded ones), then returns up to sample random item ids.
func bulkItems(ctx context.Context, db *sql.DB, n, sample int) ([]string, error) {
	const batch = 100_000
	for done := 0; done < n; done += batch {
		k := min(batch, n-done)
		_, err := db.ExecContext(ctx, `
INSERT INTO items (id, title, description, owner_id, created_at, updated_at)
SELECT gen_random_uuid(), 'bulk ' || g, 'inserted by bench/cmd/load', u.id,
       now() - interval '1 day' - g * interval '1 second', now() - interval '1 day'
FROM users u, generate_series($1::int, $2::int) g
WHERE u.email = $3`, done+1, done+k, benchEmail)
		if err != nil {
			return nil, fmt.Errorf("bulk insert: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE items"); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT id::text FROM items ORDER BY random() LIMIT $1", sample)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// fetch GETs a URL into a file (profiles).
func fetch(ctx context.Context, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
