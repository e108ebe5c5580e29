package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keel-dev/keel/httpapi"
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
