package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRouting(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	t.Run("an unknown route answers 404 JSON", func(t *testing.T) {
		for _, p := range []string{"/nope", "/users/me/extra", "/items/a/b", "/api/v1/users/me"} {
			res := e.do(req{method: "GET", path: p, bearer: tok})
			expect(t, res, 404, "Not Found")
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s: Content-Type %q", p, res.Header.Get("Content-Type"))
			}
		}
	})
	t.Run("a wrong method answers 405 JSON with Allow", func(t *testing.T) {
		res := e.do(req{method: "PUT", path: "/users/me", bearer: tok})
		expect(t, res, 405, "Method Not Allowed")
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Header.Get("Allow") == "" {
			t.Fatalf("headers %v", res.Header)
		}
	})
	t.Run("an unclean path to no route redirects to the clean one without a body", func(t *testing.T) {
		e.noValidate = true
		defer func() { e.noValidate = false }()
		res := e.do(req{method: "GET", path: "/no//such/./route"})
		if res.StatusCode != 307 || res.Header.Get("Location") != "/no/such/route" || len(res.body) != 0 || res.Header.Get("Content-Type") != "" {
			t.Fatalf("%d %v %q", res.StatusCode, res.Header, res.body)
		}
	})
	t.Run("both forms of every collection path answer without a redirect", func(t *testing.T) {
		for _, p := range []string{"/items", "/items/", "/users", "/users/", "/utils/health-check", "/utils/health-check/"} {
			res := e.do(req{method: "GET", path: p, bearer: tok})
			if res.StatusCode >= 300 && res.StatusCode < 400 {
				t.Fatalf("%s redirected: %d", p, res.StatusCode)
			}
			if res.StatusCode == 404 || res.StatusCode == 405 {
				t.Fatalf("%s is not served: %d", p, res.StatusCode)
			}
		}
	})
	t.Run("the JSON answers carry the security headers", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/nope"})
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := res.Header.Get(k); got != want {
				t.Fatalf("%s %q, want %q", k, got, want)
			}
		}
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("CSP %q", res.Header.Get("Content-Security-Policy"))
		}
	})
	t.Run("public answers are not marked no-store", func(t *testing.T) {
		if cc := e.do(req{method: "GET", path: "/utils/health-check/"}).Header.Get("Cache-Control"); cc == "no-store" {
			t.Fatal("health check marked no-store")
		}
	})
}

func TestMountedUnderPrefix(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", e.h))
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"the document is served under the prefix", "/api/v1/openapi.json", 200},
		{"the docs page is served under the prefix", "/api/v1/docs", 200},
		{"the docs assets resolve under the prefix", "/api/v1/docs/swagger-ui-bundle.js", 200},
		{"a collection path is served under the prefix", "/api/v1/utils/health-check", 200},
		{"an unknown route under the prefix is 404", "/api/v1/nope", 404},
		{"the docs page with a trailing slash redirects under the prefix", "/api/v1/docs/", 301},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("%s: %d", tc.path, rec.Code)
			}
			if loc := rec.Header().Get("Location"); loc != "" {
				if u, err := url.Parse(tc.path); err != nil || u.ResolveReference(&url.URL{Path: loc}).Path != "/api/v1/docs" {
					t.Fatalf("%s redirects to %q", tc.path, loc)
				}
			}
		})
	}
}
