package httpapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keel-dev/keel/httpapi"
)

// pathLog records the path of every request that reaches the server's
// handler (New's, with StrictFraming inside it).
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *pathLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *pathLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.paths)
}

// framingServer serves New's handler over real TCP, on a FramingListener
// with FramingContext when tracked, the way the binary does, or plainly.
func framingServer(t *testing.T, tracked bool) (addr string, log *pathLog) {
	t.Helper()
	e := newEnv(t)
	log = &pathLog{}
	srv := httptest.NewUnstartedServer(log.wrap(e.h))
	if tracked {
		srv.Listener = httpapi.FramingListener(srv.Listener)
		srv.Config.ConnContext = httpapi.FramingContext
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), log
}

// exchange writes raw to a new connection and reads every answer until
// the server closes the connection. raw ends with a request that asks
// for the close, so the server answers every request it finds in raw
// and then closes.
func exchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	var out []*http.Response
	br := bufio.NewReader(conn)
	for {
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return out
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading answer %d: %v", len(out)+1, err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		out = append(out, res)
		if res.Close {
			// The server closes after this answer: nothing else may come.
			if n, _ := br.Read(make([]byte, 1)); n != 0 {
				t.Fatalf("bytes after an answer with Connection: close")
			}
			return out
		}
	}
}

// smuggling is a request a front proxy frames by its Content-Length (the
// whole body, second request included) and net/http by its
// Transfer-Encoding (an empty chunked body, then another request), and a
// last request that closes the connection.
func smuggling(proto string) string {
	body := "0\r\n\r\nGET /utils/health-check/ HTTP/1.1\r\nHost: keel\r\n\r\n"
	return fmt.Sprintf("POST /login/test-token %s\r\nHost: keel\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s", proto, len(body), body) +
		"GET /utils/ready HTTP/1.1\r\nHost: keel\r\nConnection: close\r\n\r\n"
}

func TestStrictFramingOverTCP(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tracked    bool
		raw        string
		wantStatus []int
		wantPaths  []string
		wantClose  bool
	}{
		{"Content-Length with Transfer-Encoding is refused with 400, the connection closes and the smuggled request never runs",
			true, smuggling("HTTP/1.1"), []int{400}, []string{"/login/test-token"}, true},
		{"Transfer-Encoding in HTTP/1.0 is refused the same way",
			true, smuggling("HTTP/1.0"), []int{400}, []string{"/login/test-token"}, true},
		{"on a listener that is not followed, the connection still closes after a chunked request and the smuggled request never runs",
			false, smuggling("HTTP/1.1"), []int{401}, []string{"/login/test-token"}, true},
		{"a chunked request alone keeps the connection open",
			true, "POST /login/test-token HTTP/1.1\r\nHost: keel\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" +
				"GET /utils/health-check/ HTTP/1.1\r\nHost: keel\r\nConnection: close\r\n\r\n",
			[]int{401, 200}, []string{"/login/test-token", "/utils/health-check/"}, true},
		{"requests framed by Content-Length keep the connection open",
			false, "POST /login/test-token HTTP/1.1\r\nHost: keel\r\nContent-Length: 2\r\n\r\n{}" +
				"GET /utils/health-check/ HTTP/1.1\r\nHost: keel\r\nConnection: close\r\n\r\n",
			[]int{401, 200}, []string{"/login/test-token", "/utils/health-check/"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, log := framingServer(t, tc.tracked)
			answers := exchange(t, addr, tc.raw)
			var statuses []int
			for _, a := range answers {
				statuses = append(statuses, a.StatusCode)
			}
			if !slices.Equal(statuses, tc.wantStatus) {
				t.Errorf("statuses %v, want %v", statuses, tc.wantStatus)
			}
			if got := log.get(); !slices.Equal(got, tc.wantPaths) {
				t.Errorf("requests that reached the handler: %q, want %q", got, tc.wantPaths)
			}
			if len(answers) > 0 && answers[len(answers)-1].Close != tc.wantClose {
				t.Errorf("the last answer closes the connection: %v, want %v", answers[len(answers)-1].Close, tc.wantClose)
			}
			if len(answers) > 1 && answers[0].Close {
				t.Errorf("the first of several answers closed the connection")
			}
		})
	}
}

func TestStrictFramingAnswer(t *testing.T) {
	addr, _ := framingServer(t, true)
	answers := exchange(t, addr, smuggling("HTTP/1.1"))
	if len(answers) != 1 {
		t.Fatalf("%d answers, want 1", len(answers))
	}
	res := answers[0]
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q: the answer skipped SecurityHeaders", got)
	}
}

func TestStrictFramingWithoutAListener(t *testing.T) {
	for _, tc := range []struct {
		name      string
		te        []string
		wantClose string
	}{
		{"a chunked request closes the connection", []string{"chunked"}, "close"},
		{"a request framed by Content-Length does not", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			h := httpapi.StrictFraming(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
			r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
			r.TransferEncoding = tc.te
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if !ran {
				t.Error("the handler did not run")
			}
			if got := rec.Header().Get("Connection"); got != tc.wantClose {
				t.Errorf("Connection %q, want %q", got, tc.wantClose)
			}
		})
	}
}
