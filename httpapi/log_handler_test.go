package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
)

func TestLogHandler(t *testing.T) {
	var logs keeltest.SyncBuffer
	log := slog.New(httpapi.LogHandler(slog.NewTextHandler(&logs, nil)))
	serve := func(h http.HandlerFunc) string {
		logs = keeltest.SyncBuffer{}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-ID", "req-42")
		httpapi.RequestID(h).ServeHTTP(httptest.NewRecorder(), r)
		return logs.String()
	}
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want int // lines with request_id=req-42
	}{
		{"a line logged with the request's context carries its id",
			func(_ http.ResponseWriter, r *http.Request) { log.InfoContext(r.Context(), "hello") }, 1},
		{"a line of a derived logger carries it too",
			func(_ http.ResponseWriter, r *http.Request) { log.With("k", "v").InfoContext(r.Context(), "hello") }, 1},
		{"wrapping twice adds it once",
			func(_ http.ResponseWriter, r *http.Request) {
				slog.New(httpapi.LogHandler(log.Handler())).InfoContext(r.Context(), "hello")
			}, 1},
		{"a line with a request id of its own keeps it alone",
			func(_ http.ResponseWriter, r *http.Request) {
				log.InfoContext(r.Context(), "keel: logged out", "request_id", "req-42")
			}, 1},
		{"a line logged without the request's context has none",
			func(http.ResponseWriter, *http.Request) { log.InfoContext(context.Background(), "hello") }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := serve(tc.h)
			if got := strings.Count(out, "request_id=req-42"); got != tc.want || strings.Count(out, "request_id") != tc.want {
				t.Fatalf("%d request ids, want %d:\n%s", got, tc.want, out)
			}
		})
	}
}

// keel's own lines carry the request id when its logger has LogHandler:
// here the background send of a reset email fails after the request.
func TestLogHandlerReachesKeelsOwnLines(t *testing.T) {
	var logs keeltest.SyncBuffer
	log := slog.New(httpapi.LogHandler(slog.NewJSONHandler(&logs, nil)))
	e := newEnv(t, withKeel(func(c *keel.Config) { c.Logger = log }), withHTTP(func(c *httpapi.Config) { c.Logger = log }))
	e.account("alice@example.com", false)
	e.mail.Fail(errors.New("the mail server is down"))
	res := e.do(req{method: "POST", path: "/password-recovery/alice@example.com", header: map[string]string{"X-Request-ID": "recovery-7"}})
	expect(t, res, 200, "")
	if err := e.svc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`"msg":"keel: sending a password-reset email failed"`, `"route":"POST /password-recovery/{email}"`} {
		found := false
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(l, line) {
				found = true
				if strings.Count(l, `"request_id":"recovery-7"`) != 1 {
					t.Errorf("the line with %s lacks the request id: %s", line, l)
				}
			}
		}
		if !found {
			t.Errorf("no line with %s:\n%s", line, logs.String())
		}
	}
}
