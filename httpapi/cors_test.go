package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keel-dev/keel/httpapi"
)

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
	t.Run("a preflight lets a browser's trace context through", func(t *testing.T) {
		e.noValidate = true
		defer func() { e.noValidate = false }()
		res := e.do(req{method: "OPTIONS", path: "/items/", header: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "traceparent,tracestate"}})
		allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
		if !strings.Contains(allowed, "traceparent") || !strings.Contains(allowed, "tracestate") {
			t.Fatalf("Access-Control-Allow-Headers: %q", allowed)
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
