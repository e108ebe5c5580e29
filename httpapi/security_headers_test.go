package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keel-dev/keel/httpapi"
)

func TestSecurityHeaders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		csp     string
	}{
		{"an answer gets the API's policy", func(http.ResponseWriter, *http.Request) {}, httpapi.APIContentSecurityPolicy},
		{"a handler's own policy wins", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
		}, "default-src 'self'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpapi.SecurityHeaders(tc.handler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			for k, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
				"Content-Security-Policy": tc.csp,
			} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
		})
	}
}
