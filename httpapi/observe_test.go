package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/keel-dev/keel/httpapi"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	name  string
	mu    sync.Mutex
	calls *[]string // shared by observers, to check the order
	seen  []httpapi.Answered
	ctxOK []bool // whether EndRequest got the context StartRequest made
}

type markKey struct{ name string }

func (o *recorder) StartRequest(r *http.Request) context.Context {
	o.mu.Lock()
	*o.calls = append(*o.calls, "start "+o.name)
	o.mu.Unlock()
	return context.WithValue(r.Context(), markKey{o.name}, true)
}

func (o *recorder) EndRequest(ctx context.Context, a httpapi.Answered) {
	o.mu.Lock()
	defer o.mu.Unlock()
	*o.calls = append(*o.calls, "end "+o.name)
	o.seen = append(o.seen, a)
	o.ctxOK = append(o.ctxOK, ctx.Value(markKey{o.name}) != nil)
}

func (o *recorder) last(t *testing.T) httpapi.Answered {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		t.Fatal("the observer was told of no request")
	}
	if !o.ctxOK[len(o.ctxOK)-1] {
		t.Fatal("EndRequest did not get the context StartRequest returned")
	}
	return o.seen[len(o.seen)-1]
}

func TestObserversSeeEveryAnswer(t *testing.T) {
	var calls []string
	obs := &recorder{name: "a", calls: &calls}
	e := newEnv(t, withHTTP(func(c *httpapi.Config) {
		c.Observers = []httpapi.Observer{obs, &recorder{name: "b", calls: &calls}}
	}))
	_, tok := e.userToken("alice@example.com", false)
	for _, tc := range []struct {
		name   string
		req    req
		route  string
		status int
	}{
		{"a matched request is named by its route pattern, not its path", req{method: "GET", path: "/items/0190a5b2-7c4e-7d1a-9f3e-0123456789ab", bearer: tok}, "GET /items/{id}", 404},
		{"an email in a path never reaches an observer", req{method: "POST", path: "/password-recovery/private.person@example.com"}, "POST /password-recovery/{email}", 200},
		{"an unknown path has no route", req{method: "GET", path: "/no/such/route"}, "", 404},
		{"a wrong method has no route", req{method: "DELETE", path: "/login/access-token"}, "", 405},
		{"a refused request is seen with its status", req{method: "GET", path: "/users/me"}, "GET /users/me", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.noValidate = true
			res := e.do(tc.req)
			e.noValidate = false
			a := obs.last(t)
			if a.Route != tc.route || a.Status != tc.status || a.Status != res.StatusCode || a.Method != tc.req.method ||
				a.Bytes != int64(len(res.body)) || a.Duration <= 0 {
				t.Fatalf("observed %+v, answered %d with %d bytes", a, res.StatusCode, len(res.body))
			}
		})
	}
	t.Run("observers start in order and end in reverse", func(t *testing.T) {
		calls = nil
		e.do(req{method: "GET", path: "/utils/health-check/"})
		if want := []string{"start a", "start b", "end b", "end a"}; !slices.Equal(calls, want) {
			t.Fatalf("calls %v, want %v", calls, want)
		}
	})
}

func TestObservePanics(t *testing.T) {
	var calls []string
	for _, tc := range []struct {
		name   string
		h      http.HandlerFunc
		status int
	}{
		{"an aborted handler that wrote nothing is a 500", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }, 500},
		{"an aborted handler keeps the status it wrote", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			panic(http.ErrAbortHandler)
		}, 202},
		{"a handler that writes nothing is a 200", func(http.ResponseWriter, *http.Request) {}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &recorder{name: "a", calls: &calls}
			h := httpapi.Observe(obs)(tc.h)
			func() {
				defer func() { recover() }()
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			}()
			if a := obs.last(t); a.Status != tc.status {
				t.Fatalf("observed %+v, want status %d", a, tc.status)
			}
		})
	}
	t.Run("without observers Observe adds nothing", func(t *testing.T) {
		if got, ok := httpapi.Observe()(plainHandler{}).(plainHandler); !ok {
			t.Fatalf("got %T, want the handler itself", got)
		}
	})
}

type plainHandler struct{}

func (plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}
