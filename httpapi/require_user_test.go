package httpapi_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// host is a program's own routes behind httpapi.Auth, beside keel's.
type host struct {
	*env
	h http.Handler

	mu    sync.Mutex
	notes []string // what POST /notes wrote, as "email: text"
}

func newHost(t *testing.T, opts ...httpapi.AuthOption) *host {
	t.Helper()
	return newHostOn(newEnv(t, withHTTP(func(c *httpapi.Config) { c.CORSOrigins = []string{"https://app.example.com"} })), opts...)
}

func newHostOn(e *env, opts ...httpapi.AuthOption) *host {
	hs := &host{env: e}
	auth := httpapi.NewAuth(e.svc, e.hc, opts...)
	mux := http.NewServeMux()
	mux.Handle("GET /me", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := httpapi.SessionFrom(r.Context())
		if sess == nil || sess.User != httpapi.UserFrom(r.Context()) {
			http.Error(w, "no session in the context", 500)
			return
		}
		io.WriteString(w, sess.User.Email)
	})))
	mux.Handle("POST /notes", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hs.mu.Lock()
		hs.notes = append(hs.notes, httpapi.UserFrom(r.Context()).Email+": "+string(b))
		hs.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})))
	mux.Handle("GET /admin", auth.RequireSuperuser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "admin "+httpapi.UserFrom(r.Context()).Email)
	})))
	optional := auth.OptionalUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := httpapi.UserFrom(r.Context()); u != nil {
			io.WriteString(w, "hello "+u.Email)
			return
		}
		io.WriteString(w, "hello stranger")
	}))
	mux.Handle("GET /feed", optional)
	mux.Handle("GET /client", auth.OptionalUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := keel.ClientFrom(r.Context())
		io.WriteString(w, c.Addr+" "+c.UserAgent)
	})))
	mux.Handle("POST /feed", optional)
	hs.h = mux
	return hs
}

// serve sends q to the host's routes.
func (hs *host) serve(q req) *resp {
	hs.t.Helper()
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, hs.build(q))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return &resp{Response: res, body: b}
}

func (hs *host) written() []string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]string(nil), hs.notes...)
}

func TestRequireUser(t *testing.T) {
	hs := newHost(t)
	_, tok := hs.userToken("alice@example.com", false)
	_, revoked := hs.userToken("bob@example.com", false)
	expect(t, hs.do(req{method: "POST", path: "/logout", bearer: revoked}), 200, "")
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	for _, tc := range []struct {
		name   string
		q      req
		status int
		body   string // the answer's body, or its JSON detail for an error
	}{
		{"a bearer token reaches the handler with its user", req{method: "GET", bearer: tok}, 200, "alice@example.com"},
		{"a session cookie reaches the handler with its user", req{method: "GET", cookie: tok}, 200, "alice@example.com"},
		{"no credentials answer 401 Not authenticated", req{method: "GET"}, 401, "Not authenticated"},
		{"a revoked token answers 401", req{method: "GET", bearer: revoked}, 401, "Could not validate credentials"},
		{"a made-up cookie answers 401", req{method: "GET", cookie: "made-up"}, 401, "Could not validate credentials"},
		{"a token in the query is never looked at", req{method: "GET", path: "/me?token=" + tok + "&access_token=" + tok}, 401, "Not authenticated"},
		{"the bearer token decides over a valid cookie", req{method: "GET", bearer: "made-up", cookie: tok}, 401, "Could not validate credentials"},
		{"a valid bearer token decides over a bad cookie", req{method: "GET", bearer: tok, cookie: "made-up"}, 200, "alice@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			if q.path == "" {
				q.path = "/me"
			}
			res := hs.serve(q)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.body)
			}
			if tc.status == 200 {
				if string(res.body) != tc.body {
					t.Fatalf("body %q, want %q", res.body, tc.body)
				}
			} else if got := res.detail(t); got != tc.body {
				t.Fatalf("detail %q, want %q", got, tc.body)
			}
			if tc.status == 401 && res.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
			if (q.bearer != "" || q.cookie != "") && res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control %q on an answer to credentials", res.Header.Get("Cache-Control"))
			}
		})
	}
	t.Run("a cookie POST from another site answers 403 and writes nothing", func(t *testing.T) {
		res := hs.serve(req{method: "POST", path: "/notes", raw: "forged", cookie: tok, header: cross})
		expect(t, res, 403, "Cross-origin request refused")
		if got := hs.written(); len(got) != 0 {
			t.Fatalf("the refused request wrote %q", got)
		}
	})
	t.Run("a bearer POST from another site is written", func(t *testing.T) {
		res := hs.serve(req{method: "POST", path: "/notes", raw: "by bearer", bearer: tok, header: cross})
		expect(t, res, 201, "")
	})
	t.Run("a cookie POST from a configured origin is written", func(t *testing.T) {
		res := hs.serve(req{method: "POST", path: "/notes", raw: "by cookie", cookie: tok,
			header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://app.example.com"}})
		expect(t, res, 201, "")
		want := []string{"alice@example.com: by bearer", "alice@example.com: by cookie"}
		if got := hs.written(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("written %q, want %q", got, want)
		}
	})
	t.Run("a stale cookie is cleared", func(t *testing.T) {
		res := hs.serve(req{method: "GET", path: "/me", cookie: revoked})
		if !clearsCookie(res) {
			t.Fatalf("the answer to a revoked cookie does not clear it: %v", res.Header["Set-Cookie"])
		}
	})
	t.Run("a deactivated user answers 400 Inactive user", func(t *testing.T) {
		u, tok := hs.userToken("carol@example.com", false)
		u.IsActive = false // straight in the store, so that the session survives
		if err := hs.store.UpdateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		expect(t, hs.serve(req{method: "GET", path: "/me", bearer: tok}), 400, "Inactive user")
	})
	t.Run("a failing store answers 503, never anonymous", func(t *testing.T) {
		hs := newHost(t)
		_, tok := hs.userToken("dave@example.com", false)
		hs.store.Close()
		for _, path := range []string{"/me", "/feed"} {
			expect(t, hs.serve(req{method: "GET", path: path, bearer: tok}), 503, "Service Unavailable")
		}
	})
}

func TestRequireSuperuser(t *testing.T) {
	hs := newHost(t)
	_, user := hs.userToken("alice@example.com", false)
	_, admin := hs.userToken("root@example.com", true)
	for _, tc := range []struct {
		name   string
		q      req
		status int
	}{
		{"a superuser reaches the handler", req{bearer: admin}, 200},
		{"another user answers 403", req{bearer: user}, 403},
		{"no credentials answer 401", req{}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.method, q.path = "GET", "/admin"
			res := hs.serve(q)
			expect(t, res, tc.status, "")
			if tc.status == 403 && res.detail(t) != "The user doesn't have enough privileges" {
				t.Fatalf("detail %s", res.body)
			}
			if tc.status == 200 && string(res.body) != "admin root@example.com" {
				t.Fatalf("body %q", res.body)
			}
		})
	}
}

func TestOptionalUser(t *testing.T) {
	hs := newHost(t)
	u, tok := hs.userToken("alice@example.com", false)
	_, revoked := hs.userToken("bob@example.com", false)
	expect(t, hs.do(req{method: "POST", path: "/logout", bearer: revoked}), 200, "")
	for _, tc := range []struct {
		name string
		q    req
		want string
	}{
		{"a valid bearer token is the user", req{method: "GET", bearer: tok}, "hello alice@example.com"},
		{"a valid cookie is the user", req{method: "GET", cookie: tok}, "hello alice@example.com"},
		{"no credentials are anonymous", req{method: "GET"}, "hello stranger"},
		{"a revoked token is anonymous", req{method: "GET", bearer: revoked}, "hello stranger"},
		{"a cookie POST from another site is anonymous", req{method: "POST", cookie: tok,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}, "hello stranger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.path = "/feed"
			res := hs.serve(q)
			if res.StatusCode != 200 || string(res.body) != tc.want {
				t.Fatalf("%d %q, want 200 %q", res.StatusCode, res.body, tc.want)
			}
		})
	}
	t.Run("a deactivated user is anonymous", func(t *testing.T) {
		u.IsActive = false
		if err := hs.store.UpdateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		if res := hs.serve(req{method: "GET", path: "/feed", bearer: tok}); string(res.body) != "hello stranger" {
			t.Fatalf("%d %q", res.StatusCode, res.body)
		}
	})
}

func TestAuthHandlersOfTheHost(t *testing.T) {
	var reasons []error
	var mu sync.Mutex
	record := func(status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			reasons = append(reasons, httpapi.AuthErrorFrom(r.Context()))
			mu.Unlock()
			if status == http.StatusSeeOther {
				http.Redirect(w, r, "/login", status)
				return
			}
			w.WriteHeader(status)
		})
	}
	hs := newHost(t, httpapi.WithUnauthenticated(record(http.StatusSeeOther)), httpapi.WithForbidden(record(http.StatusTeapot)))
	_, user := hs.userToken("alice@example.com", false)
	for _, tc := range []struct {
		name   string
		q      req
		status int
		reason error
	}{
		{"no credentials go to the host's unauthenticated handler", req{method: "GET", path: "/me"}, http.StatusSeeOther, keel.ErrNotAuthenticated},
		{"a made-up token goes there too", req{method: "GET", path: "/me", cookie: "made-up"}, http.StatusSeeOther, keel.ErrInvalidCredentials},
		{"a user who is not a superuser goes to the forbidden handler", req{method: "GET", path: "/admin", bearer: user}, http.StatusTeapot, keel.ErrNotSuperuser},
		{"a cookie POST from another site goes there too", req{method: "POST", path: "/notes", cookie: user,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}, http.StatusTeapot, httpapi.ErrCrossOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := hs.serve(tc.q)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			mu.Lock()
			got := reasons[len(reasons)-1]
			mu.Unlock()
			if !errors.Is(got, tc.reason) {
				t.Fatalf("AuthErrorFrom = %v, want %v", got, tc.reason)
			}
		})
	}
	t.Run("a failing store still answers keel's 503", func(t *testing.T) {
		hs.store.Close()
		expect(t, hs.serve(req{method: "GET", path: "/me", bearer: user}), 503, "Service Unavailable")
	})
}

func TestAuthPutsTheClientInTheContext(t *testing.T) {
	hs := newHost(t)
	res := hs.serve(req{method: "GET", path: "/client", header: map[string]string{"User-Agent": "notes-app/1.0"}})
	if want := "192.0.2.10 notes-app/1.0"; string(res.body) != want {
		t.Fatalf("the handler saw the client %q, want %q", res.body, want)
	}
}

// TestKeelRoutesUseAuth checks that keel's routes and a host's answer a
// request alike: one implementation.
func TestKeelRoutesUseAuth(t *testing.T) {
	hs := newHost(t)
	_, tok := hs.userToken("alice@example.com", false)
	for _, q := range []req{{}, {bearer: "made-up"}, {bearer: tok}, {cookie: tok}} {
		q.method = "GET"
		keelQ, hostQ := q, q
		keelQ.path, hostQ.path = "/users/me", "/me"
		k, h := hs.do(keelQ), hs.serve(hostQ)
		if k.StatusCode != h.StatusCode || k.Header.Get("Cache-Control") != h.Header.Get("Cache-Control") {
			t.Errorf("credentials %+v: keel's route %d %q, the host's %d %q", q, k.StatusCode, k.Header.Get("Cache-Control"), h.StatusCode, h.Header.Get("Cache-Control"))
		}
		if k.StatusCode != 200 && !bytes.Equal(k.body, h.body) {
			t.Errorf("credentials %+v: keel's route %s, the host's %s", q, k.body, h.body)
		}
	}
}

func clearsCookie(res *resp) bool {
	for _, c := range res.Cookies() {
		if c.Name == cookieName && c.MaxAge < 0 {
			return true
		}
	}
	return false
}
