package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel/internal/keeltest"
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
	go func() { s.done <- serve(ctx, c, ln, slog.New(slog.NewTextHandler(s.log, nil)), s.out) }()
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
}
