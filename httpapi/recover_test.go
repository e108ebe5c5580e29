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

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/late-panic", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "partial")
		panic("late boom")
	})
	srv := httptest.NewServer(httpapi.RequestID(httpapi.AccessLog(log, nil)(httpapi.Recover(log)(mux))))
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
	t.Run("a panic after the answer started leaves the answer as it was", func(t *testing.T) {
		res, err := http.Get(srv.URL + "/late-panic")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 202 || string(b) != "partial" {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
	})
	t.Run("the panic is logged with its stack, request id and a 500 access line", func(t *testing.T) {
		l := logs.String()
		if !strings.Contains(l, "boom") || !strings.Contains(l, "goroutine") || !strings.Contains(l, "request_id=") || !strings.Contains(l, "status=500") {
			t.Fatalf("logs: %s", l)
		}
	})
}
