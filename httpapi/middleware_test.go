package httpapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"time"
)

func TestRequestID(t *testing.T) {
	var seen string
	h := httpapi.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = httpapi.RequestIDFrom(r.Context()) }))
	for _, tc := range []struct {
		name, in string
		echoed   bool
	}{
		{"a sane client id is echoed", "abc-123.X:y_z", true},
		{"a missing id is generated", "", false},
		{"an id with spaces or newlines is replaced", "bad id\r\nX-Evil: 1", false},
		{"an overlong id is replaced", strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.in != "" {
				r.Header.Set("X-Request-ID", tc.in)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			got := rec.Header().Get("X-Request-ID")
			if got != seen || got == "" {
				t.Fatalf("header %q, context %q", got, seen)
			}
			if (got == tc.in) != tc.echoed {
				t.Fatalf("id %q for input %q", got, tc.in)
			}
		})
	}
}

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(httpapi.RequestID(httpapi.AccessLog(log)(httpapi.Recover(log)(mux))))
	defer srv.Close()

	t.Run("a panic answers 500 JSON without internals", func(t *testing.T) {
		res, err := http.Get(srv.URL + "/panic")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 500 || string(b) != `{"detail":"Internal Server Error"}` {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
	})
	t.Run("the server keeps serving after a panic", func(t *testing.T) {
		res, err := http.Get(srv.URL + "/ok")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("the panic is logged with its stack, request id and a 500 access line", func(t *testing.T) {
		l := logs.String()
		if !strings.Contains(l, "boom") || !strings.Contains(l, "goroutine") || !strings.Contains(l, "request_id=") || !strings.Contains(l, "status=500") {
			t.Fatalf("logs: %s", l)
		}
	})
}

func TestAccessLogNeverHoldsSecrets(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	e.do(req{method: "GET", path: "/users/me?token=" + tok, bearer: tok, cookie: tok})
	e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {"wrong-secret-pw"}}})
	e.do(req{method: "PATCH", path: "/users/me/password", bearer: tok, json: map[string]string{"current_password": password, "new_password": "another secret pw"}})
	l := e.logs.String()
	for _, secret := range []string{tok, password, "wrong-secret-pw", "another secret pw", "Bearer"} {
		if strings.Contains(l, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, l)
		}
	}
	if !strings.Contains(l, "path=/users/me ") || !strings.Contains(l, "status=200") || !strings.Contains(l, "request_id=") {
		t.Fatalf("access log lacks fields:\n%s", l)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.CORSOrigins = []string{"https://app.example.com"} }))
	t.Run("a preflight from a listed origin is allowed with credentials", func(t *testing.T) {
		e.noValidate = true
		defer func() { e.noValidate = false }()
		res := e.do(req{method: "OPTIONS", path: "/items/", header: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}})
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			res.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("%d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("a preflight from another origin gets no CORS headers", func(t *testing.T) {
		e.noValidate = true
		defer func() { e.noValidate = false }()
		res := e.do(req{method: "OPTIONS", path: "/items/", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
		if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("%v", res.Header)
		}
	})
	t.Run("a simple request from a listed origin gets the CORS headers", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/utils/health-check/", header: map[string]string{"Origin": "https://app.example.com"}})
		if res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
			t.Fatalf("%v", res.Header)
		}
	})
	t.Run("a wildcard allows any origin without credentials", func(t *testing.T) {
		h := httpapi.CORS([]string{"*"})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Origin", "https://any.example")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("%v", rec.Header())
		}
	})
}

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		header       map[string]string
		trusted      []netip.Prefix
		want         string
	}{
		{"the peer is the client without trusted proxies", "203.0.113.5:1234", map[string]string{"X-Forwarded-For": "198.51.100.1"}, nil, "203.0.113.5"},
		{"X-Forwarded-For from an untrusted peer is ignored", "203.0.113.5:1234", map[string]string{"X-Forwarded-For": "198.51.100.1"}, proxies, "203.0.113.5"},
		{"a trusted proxy's X-Forwarded-For gives the client", "10.0.0.2:1234", map[string]string{"X-Forwarded-For": "198.51.100.1"}, proxies, "198.51.100.1"},
		{"the right-most untrusted address wins over a spoofed left one", "10.0.0.2:1234", map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.1, 10.0.0.3"}, proxies, "198.51.100.1"},
		{"Forwarded is honoured from a trusted proxy", "[::1]:1234", map[string]string{"Forwarded": `for=6.6.6.6, for="[2001:db8::1]:4711";proto=https`}, proxies, "2001:db8::1"},
		{"an unreadable hop stops the walk", "10.0.0.2:1234", map[string]string{"X-Forwarded-For": "198.51.100.1, garbage"}, proxies, "10.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if got := httpapi.ClientAddr(r, tc.trusted); got != tc.want {
				t.Fatalf("ClientAddr %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoginRateLimitPerAddressBehindProxy(t *testing.T) {
	e := newEnv(t,
		withHTTP(func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} }),
		withKeel(func(c *keel.Config) { c.RateLimits.LoginPerAddress = keel.Limit{Max: 2, Window: time.Hour} }))
	login := func(client, email string) *resp {
		return e.do(req{method: "POST", path: "/login/access-token", header: map[string]string{"X-Forwarded-For": client},
			form: url.Values{"username": {email}, "password": {"wrong password"}}})
	}
	expect(t, login("198.51.100.1", "a@example.com"), 400, "")
	expect(t, login("198.51.100.1", "b@example.com"), 400, "")
	t.Run("the forwarded client is limited", func(t *testing.T) {
		expect(t, login("198.51.100.1", "c@example.com"), 429, "Too many requests")
	})
	t.Run("another forwarded client is not", func(t *testing.T) {
		expect(t, login("198.51.100.2", "c@example.com"), 400, "Incorrect email or password")
	})
}
