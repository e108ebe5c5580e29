package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// output collects what run writes (from several goroutines) and reports
// the address it prints.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addr  chan string
	found bool
}

func newOutput() *output { return &output{addr: make(chan string, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if !o.found {
		for line := range strings.Lines(o.buf.String()) {
			if rest, ok := strings.CutPrefix(line, "listening on "); ok && strings.HasSuffix(line, "\n") {
				o.found = true
				o.addr <- strings.TrimSpace(rest)
				break
			}
		}
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// start runs the example until the test ends, or stop is called, and
// returns its base URL. stop shuts it down and waits for run to return,
// so out then holds everything it wrote.
func start(t *testing.T, args []string, env map[string]string) (base string, out *output, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = newOutput()
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, args, func(k string) string { return env[k] }) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run after shutdown: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case base = <-out.addr:
		return base, out, stop
	case err := <-done:
		t.Fatalf("run ended before listening: %v\n%s", err, out.String())
	}
	panic("unreachable")
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, u, contentType, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("decoding %q: %v", a.body, err)
	}
	return v
}

func TestListenAddress(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"the -addr flag names the address", []string{"-addr", "127.0.0.1:0"}, nil},
		{"ADDR names it when there is no flag", nil, map[string]string{"ADDR": "127.0.0.1:0"}},
		{"the flag wins over ADDR", []string{"-addr", "127.0.0.1:0"}, map[string]string{"ADDR": "256.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _, _ := start(t, tt.args, tt.env)
			if !strings.HasPrefix(base, "http://127.0.0.1:") {
				t.Fatalf("listening on %s, want a 127.0.0.1 address", base)
			}
			if a := do(t, "GET", base+"/healthz", "", "", ""); a.status != 200 || a.body != "ok\n" {
				t.Errorf("GET /healthz = %d %q", a.status, a.body)
			}
		})
	}
}

func TestMountedAPI(t *testing.T) {
	base, out, _ := start(t, []string{"-addr", "127.0.0.1:0"}, nil)
	const hostHeader = "X-Served-By"

	t.Run("the host's own routes answer", func(t *testing.T) {
		a := do(t, "GET", base+"/", "", "", "")
		if a.status != 200 || !strings.Contains(a.body, "Hello from the host program") {
			t.Errorf("GET / = %d %q", a.status, a.body)
		}
		if got := a.header.Get(hostHeader); got != "mount-example" {
			t.Errorf("GET / %s = %q, want the host middleware's", hostHeader, got)
		}
		if a := do(t, "GET", base+"/healthz", "", "", ""); a.status != 200 || a.body != "ok\n" {
			t.Errorf("GET /healthz = %d %q", a.status, a.body)
		}
	})

	t.Run("a user signs up, logs in and manages items through the prefix", func(t *testing.T) {
		a := do(t, "POST", base+"/api/users/signup", "application/json", "",
			`{"email":"ada@example.com","password":"analytical engine","full_name":"Ada"}`)
		if a.status != http.StatusCreated {
			t.Fatalf("signup = %d %s", a.status, a.body)
		}
		if got := a.header.Get(hostHeader); got != "mount-example" {
			t.Errorf("signup %s = %q: the host middleware did not wrap the API", hostHeader, got)
		}
		if a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("signup lacks httpapi's security headers: %v", a.header)
		}
		user := decode[struct{ ID, Email string }](t, a)
		if user.Email != "ada@example.com" {
			t.Errorf("signed up %+v", user)
		}

		form := url.Values{"username": {"ada@example.com"}, "password": {"analytical engine"}}.Encode()
		a = do(t, "POST", base+"/api/login/access-token", "application/x-www-form-urlencoded", "", form)
		if a.status != 200 {
			t.Fatalf("login = %d %s", a.status, a.body)
		}
		tok := decode[struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
		}](t, a)
		if tok.AccessToken == "" || tok.TokenType != "bearer" {
			t.Fatalf("login token %+v", tok)
		}

		a = do(t, "POST", base+"/api/items/", "application/json", tok.AccessToken, `{"title":"Notes","description":"on the engine"}`)
		if a.status != http.StatusCreated {
			t.Fatalf("create item = %d %s", a.status, a.body)
		}
		item := decode[struct {
			ID      string
			Title   string
			OwnerID string `json:"owner_id"`
		}](t, a)
		if item.Title != "Notes" || item.OwnerID != user.ID {
			t.Errorf("created %+v, want title Notes owned by %s", item, user.ID)
		}

		a = do(t, "GET", base+"/api/items/", "", tok.AccessToken, "")
		list := decode[struct {
			Data  []struct{ ID string }
			Count int
		}](t, a)
		if a.status != 200 || list.Count != 1 || len(list.Data) != 1 || list.Data[0].ID != item.ID {
			t.Errorf("list items = %d %s, want the one item", a.status, a.body)
		}

		if a := do(t, "GET", base+"/api/items/", "", "", ""); a.status != http.StatusUnauthorized {
			t.Errorf("list items without a token = %d %s, want 401", a.status, a.body)
		}
	})

	t.Run("the API's documentation is served under the prefix", func(t *testing.T) {
		a := do(t, "GET", base+"/api/openapi.json", "", "", "")
		if a.status != 200 || !strings.Contains(a.body, `"/users/signup"`) {
			t.Errorf("GET /api/openapi.json = %d %.200s", a.status, a.body)
		}
		if a := do(t, "GET", base+"/api/docs", "", "", ""); a.status != 200 || !strings.Contains(a.body, "<html") {
			t.Errorf("GET /api/docs = %d %.200s", a.status, a.body)
		}
	})

	t.Run("unknown paths under the prefix get the API's 404", func(t *testing.T) {
		a := do(t, "GET", base+"/api/nowhere", "", "", "")
		if a.status != 404 || a.body != `{"detail":"Not Found"}` {
			t.Errorf("GET /api/nowhere = %d %q", a.status, a.body)
		}
	})

	t.Run("the host's logging middleware saw the API's requests", func(t *testing.T) {
		logs := out.String()
		for _, want := range []string{"method=GET path=/healthz", "method=POST path=/api/items/", "method=POST path=/api/users/signup"} {
			if !strings.Contains(logs, fmt.Sprintf("msg=\"host saw a request\" %s", want)) {
				t.Errorf("the log lacks the host's line for %s:\n%s", want, logs)
			}
		}
	})
}
