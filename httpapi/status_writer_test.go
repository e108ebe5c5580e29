package httpapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keel-dev/keel/httpapi"
)

// chain is the middleware that wraps the writer, as New stacks it.
func chain(log *slog.Logger, h http.Handler) http.Handler {
	return httpapi.RequestID(httpapi.AccessLog(log, nil)(httpapi.Recover(log)(h)))
}

func TestStatusRecording(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		status  int
		log     string
	}{
		{"the first status is logged, not a superfluous later one", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "hello")
		}, 201, "status=201 bytes=5"},
		{"a bare Write is logged as 200 with its size", func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "hello, world")
		}, 200, "status=200 bytes=12"},
		{"an answer with no body is logged as 200 and 0 bytes", func(http.ResponseWriter, *http.Request) {}, 200, "status=200 bytes=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := httptest.NewRecorder()
			chain(slog.New(slog.NewTextHandler(&logs, nil)), tc.handler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("the access log lacks %q:\n%s", tc.log, logs.String())
			}
		})
	}
	t.Run("http.ResponseController reaches the connection through the middleware", func(t *testing.T) {
		var flushErr error
		h := chain(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "partial")
			flushErr = http.NewResponseController(w).Flush()
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if flushErr != nil || !rec.Flushed {
			t.Fatalf("flush error %v, flushed %v", flushErr, rec.Flushed)
		}
	})
}
