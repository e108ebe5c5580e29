package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
)

// server is `keel serve` running in the test on a loopback port.
type server struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	out    *keeltest.SyncBuffer
	log    *keeltest.SyncBuffer
}

// startServe runs serve with the variables until the test stops it (with
// stop) or ends.
func startServe(t *testing.T, vars map[string]string) *server {
	t.Helper()
	c, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1), out: new(keeltest.SyncBuffer), log: new(keeltest.SyncBuffer)}
	go func() {
		s.done <- serve(ctx, c, ln, "keel createsuperuser -email you@example.com", newLogger(c, s.log), s.out)
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop cancels serve's context, as SIGTERM does, and returns what serve
// returned.
func (s *server) stop() error {
	s.cancel()
	err, ok := <-s.done
	if !ok {
		return nil
	}
	close(s.done)
	return err
}

func (s *server) do(t *testing.T, method, path, token string, body io.Reader, contentType string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func (s *server) login(t *testing.T, email, password string) string {
	t.Helper()
	form := url.Values{"username": {email}, "password": {password}}
	resp, body := s.do(t, "POST", "/api/v1/login/access-token", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("login answer %s: %v", body, err)
	}
	return tok.AccessToken
}

func TestServeEndToEnd(t *testing.T) {
	dbURL := sqliteURL(t)
	s := startServe(t, map[string]string{
		"DATABASE_URL":             dbURL,
		"FIRST_SUPERUSER":          "admin@example.com",
		"FIRST_SUPERUSER_PASSWORD": "a long enough pass",
		"PROJECT_NAME":             "Acme",
	})

	t.Run("the API answers under /api/v1", func(t *testing.T) {
		resp, body := s.do(t, "GET", "/api/v1/utils/health-check/", "", nil, "")
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "true" {
			t.Errorf("health check: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("/docs redirects to the API documentation, which is served", func(t *testing.T) {
		resp, _ := s.do(t, "GET", "/docs", "", nil, "")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/api/v1/docs" {
			t.Errorf("/docs: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = s.do(t, "GET", "/api/v1/docs", "", nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/api/v1/docs: %d", resp.StatusCode)
		}
		resp, body := s.do(t, "GET", "/api/v1/openapi.json", "", nil, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Acme") {
			t.Errorf("/api/v1/openapi.json: %d, titled Acme: %v", resp.StatusCode, strings.Contains(string(body), "Acme"))
		}
	})
	t.Run("the first superuser was created and can list users", func(t *testing.T) {
		tok := s.login(t, "admin@example.com", "a long enough pass")
		resp, body := s.do(t, "GET", "/api/v1/users/", tok, nil, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"count":1`) {
			t.Errorf("users: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("outside the API an unknown path is a JSON 404", func(t *testing.T) {
		resp, body := s.do(t, "GET", "/nowhere", "", nil, "")
		if resp.StatusCode != http.StatusNotFound || strings.TrimSpace(string(body)) != `{"detail":"Not Found"}` {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("production mode has no private route", func(t *testing.T) {
		resp, _ := s.do(t, "POST", "/api/v1/private/users/", "", strings.NewReader(`{"email":"x@example.com","password":"a long enough pass","full_name":"X"}`), "application/json")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("private route: %d", resp.StatusCode)
		}
	})
	t.Run("it says where the documentation is", func(t *testing.T) {
		if !strings.Contains(s.out.String(), s.base+"/api/v1/docs") {
			t.Errorf("stdout: %s", s.out.String())
		}
	})
	t.Run("SIGTERM stops it cleanly and closes the database", func(t *testing.T) {
		if err := s.stop(); err != nil {
			t.Fatalf("serve returned %v", err)
		}
		if _, err := http.Get(s.base + "/api/v1/utils/health-check/"); err == nil {
			t.Error("the server still answers")
		}
		// The data outlives the process: a new store sees the superuser.
		st, err := bunstore.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.UserByEmail(context.Background(), "admin@example.com"); err != nil {
			t.Errorf("the superuser is gone: %v", err)
		}
	})
}

func TestServeDevelopmentMode(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:", "ENVIRONMENT": "local"})
	resp, body := s.do(t, "POST", "/api/v1/private/users/", "", strings.NewReader(`{"email":"dev@example.com","password":"a long enough pass","full_name":"Dev"}`), "application/json")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("private route: %d %s", resp.StatusCode, body)
	}
	// Password recovery logs the reset link in development.
	resp, body = s.do(t, "POST", "/api/v1/password-recovery/dev@example.com", "", nil, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("recovery: %d %s", resp.StatusCode, body)
	}
	if err := s.stop(); err != nil { // waits for the email, sent in the background
		t.Fatal(err)
	}
	if !strings.Contains(s.log.String(), `link="http://localhost:5173/reset-password?token=`) {
		t.Errorf("the reset link was not logged:\n%s", s.log.String())
	}
}

func TestServeRefusesToStart(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string
	}{
		{"a common first-superuser password in production", map[string]string{
			"DATABASE_URL": "memory:", "FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "password1",
		}, "FIRST_SUPERUSER_PASSWORD: "},
		{"a database that cannot be opened", map[string]string{"DATABASE_URL": "sqlite:///nonexistent-dir/x/keel.db"}, "DATABASE_URL: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, tt.vars)
			err := <-s.done
			close(s.done)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("serve returned %v, want an error starting %q", err, tt.wantErr)
			}
		})
	}
}

func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	type answer struct {
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{string(b), err}
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- shutdown(srv, time.Hour, slog.New(slog.DiscardHandler)) }()
	// Shutdown closes the listener first: wait until a new connection is refused.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
	}
	close(release)
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if a := <-answered; a.err != nil || a.body != "finished" {
		t.Errorf("the request in flight got %q, %v", a.body, a.err)
	}
}

func TestServePprof(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pprofAddr := ln.Addr().String()
	ln.Close()
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:", "KEEL_PPROF_ADDR": pprofAddr})

	t.Run("profiles are served on KEEL_PPROF_ADDR", func(t *testing.T) {
		var resp *http.Response
		for range 50 { // serve opens the pprof listener after the store
			if resp, err = http.Get("http://" + pprofAddr + "/debug/pprof/goroutine?debug=1"); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
			t.Errorf("pprof: %d %.200s", resp.StatusCode, body)
		}
	})
	t.Run("profiles are not served on the API's address", func(t *testing.T) {
		resp, _ := s.do(t, "GET", "/debug/pprof/", "", nil, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/ on the API: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("the banner says where the profiles are", func(t *testing.T) {
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
		if want := "Profiles (pprof): http://" + pprofAddr + "/debug/pprof/\n"; !strings.Contains(s.out.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, s.out.String())
		}
	})
}

func TestServeBanner(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "keel.db")
	vars := map[string]string{"DATABASE_URL": "sqlite://" + dbPath}
	banner := func(t *testing.T, vars map[string]string) (string, string) {
		t.Helper()
		s := startServe(t, vars)
		if resp, _ := s.do(t, "GET", "/api/v1/utils/health-check/", "", nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("health check: %d", resp.StatusCode)
		}
		if err := s.stop(); err != nil { // the banner is complete once serve returned
			t.Fatal(err)
		}
		return s.out.String(), strings.TrimPrefix(s.base, "http://")
	}

	t.Run("a new database: the address bound, the docs, the data and how to make a superuser", func(t *testing.T) {
		out, addr := banner(t, vars)
		for _, want := range []string{
			"keel is listening on http://" + addr + " (bound to " + addr + ": this machine only)\n",
			"API documentation: http://" + addr + "/api/v1/docs\n",
			"Data: SQLite file " + dbPath + "\n",
			"No superuser yet. Make one with: keel createsuperuser -email you@example.com\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the banner lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("the command it suggests makes the superuser, and then it says nothing of it", func(t *testing.T) {
		r := runKeel(t, vars, "a long enough pass\n", "createsuperuser", "-email", "you@example.com")
		if r.code != 0 {
			t.Fatalf("createsuperuser: %d %s", r.code, r.err)
		}
		out, _ := banner(t, vars)
		if strings.Contains(out, "superuser") {
			t.Errorf("the banner still speaks of a superuser:\n%s", out)
		}
	})
	t.Run("memory: says a superuser must be configured", func(t *testing.T) {
		out, _ := banner(t, map[string]string{"DATABASE_URL": "memory:"})
		for _, want := range []string{"Data: in memory, lost when keel stops", "set FIRST_SUPERUSER and FIRST_SUPERUSER_PASSWORD"} {
			if !strings.Contains(out, want) {
				t.Errorf("the banner lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("PostgreSQL: host and database, never the password", func(t *testing.T) {
		url := pgtest.Schema(t)
		out, _ := banner(t, map[string]string{"DATABASE_URL": url, "FIRST_SUPERUSER": "admin@example.com", "FIRST_SUPERUSER_PASSWORD": "a long enough pass"})
		if !strings.Contains(out, "Data: PostgreSQL database ") {
			t.Errorf("the banner does not name the PostgreSQL database:\n%s", out)
		}
		if pw, ok := urlPassword(url); ok && pw != "" && strings.Contains(out, pw) {
			t.Errorf("the banner shows the password:\n%s", out)
		}
		if strings.Contains(out, "superuser") {
			t.Errorf("FIRST_SUPERUSER made one, yet the banner speaks of a superuser:\n%s", out)
		}
	})
}

func urlPassword(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	return u.User.Password()
}

func TestDescribeListener(t *testing.T) {
	tests := []struct {
		name       string
		addr       net.Addr
		url, bound string
	}{
		{"every interface is reached at localhost", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8000}, "http://localhost:8000", "[::]:8000: every interface"},
		{"every IPv4 interface is said so", &net.TCPAddr{IP: net.IPv4zero, Port: 8000}, "http://localhost:8000", "0.0.0.0:8000: every IPv4 interface"},
		{"a loopback address is this machine only", &net.TCPAddr{IP: net.IPv6loopback, Port: 41234}, "http://[::1]:41234", "[::1]:41234: this machine only"},
		{"another address is shown as is", &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 80}, "http://192.0.2.7:80", "192.0.2.7:80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := baseURL(tt.addr); got != tt.url {
				t.Errorf("URL %q, want %q", got, tt.url)
			}
			if got := describeListener(tt.addr); got != tt.bound {
				t.Errorf("bound %q, want %q", got, tt.bound)
			}
		})
	}
}

func TestProgram(t *testing.T) {
	tests := []struct{ name, argv0, want string }{
		{"a binary on the PATH is named as typed", "keel", "keel"},
		{"a path is kept", "./bin/keel", "./bin/keel"},
		{"go run's temporary binary is go run ./cmd/keel", "/tmp/go-build123/b001/exe/keel", "go run ./cmd/keel"},
		{"a path with a space is quoted", "/opt/my apps/keel", "'/opt/my apps/keel'"},
		{"a quote is escaped", "/opt/it's/keel", `'/opt/it'\''s/keel'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := program(tt.argv0); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
