package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
)

func TestAccessLogNeverHoldsSecrets(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	e.do(req{method: "GET", path: "/users/me?token=" + tok, bearer: tok, cookie: tok})
	e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {"wrong-secret-pw"}}})
	e.do(req{method: "PATCH", path: "/users/me/password", bearer: tok, json: map[string]string{"current_password": password, "new_password": "another secret pw"}})
	e.do(req{method: "POST", path: "/password-recovery/private.person@example.com"})
	e.noValidate = true
	e.do(req{method: "GET", path: "/no/such/route"})
	e.noValidate = false
	l := e.logs.String()
	for _, secret := range []string{tok, password, "wrong-secret-pw", "another secret pw", "Bearer", "private.person"} {
		if strings.Contains(l, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, l)
		}
	}
	if !strings.Contains(l, `route="GET /users/me"`) || !strings.Contains(l, `route="POST /password-recovery/{email}"`) ||
		!strings.Contains(l, "path=/no/such/route") || !strings.Contains(l, "status=200") || !strings.Contains(l, "request_id=") {
		t.Fatalf("access log lacks fields:\n%s", l)
	}
}

// accessLines are the "http request" lines of JSON logs.
func accessLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a log line is not JSON: %v: %s", err, l)
		}
		if m["msg"] == "http request" {
			lines = append(lines, m)
		}
	}
	return lines
}

func TestAccessLogLine(t *testing.T) {
	logs := &keeltest.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, withHTTP(func(c *httpapi.Config) {
		c.Logger = log
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	}))
	alice, tok := e.userToken("alice@example.com", false)
	for _, tc := range []struct {
		name  string
		req   req
		check func(t *testing.T, line map[string]any)
	}{
		{"an authenticated request names the user, the client, the route and a duration in milliseconds",
			req{method: "GET", path: "/users/me", bearer: tok},
			func(t *testing.T, l map[string]any) {
				if l["level"] != "INFO" || l["route"] != "GET /users/me" || l["status"] != 200.0 || l["user_id"] != alice.ID.String() || l["client"] != "192.0.2.10" {
					t.Fatalf("line %v", l)
				}
				if ms, ok := l["duration_ms"].(float64); !ok || ms < 0 {
					t.Fatalf("duration_ms %#v is not a number of milliseconds", l["duration_ms"])
				}
				if id, _ := l["request_id"].(string); id == "" {
					t.Fatalf("no request_id: %v", l)
				}
			}},
		{"a request that fails to authenticate names no user",
			req{method: "GET", path: "/users/me", bearer: "not-a-token"},
			func(t *testing.T, l map[string]any) {
				if _, ok := l["user_id"]; ok || l["status"] != 401.0 {
					t.Fatalf("line %v", l)
				}
			}},
		{"behind a trusted proxy the client is the forwarded address",
			req{method: "GET", path: "/items/", bearer: tok, header: map[string]string{"X-Forwarded-For": "203.0.113.7"}},
			func(t *testing.T, l map[string]any) {
				if l["client"] != "203.0.113.7" {
					t.Fatalf("client %v", l["client"])
				}
			}},
		{"a client cannot forge its address past the proxy",
			req{method: "GET", path: "/items/", bearer: tok, header: map[string]string{"X-Forwarded-For": "10.9.9.9, 203.0.113.8"}},
			func(t *testing.T, l map[string]any) {
				if l["client"] != "203.0.113.8" {
					t.Fatalf("client %v", l["client"])
				}
			}},
		{"the liveness probe is logged at debug level",
			req{method: "GET", path: "/utils/health-check/"},
			func(t *testing.T, l map[string]any) {
				if l["level"] != "DEBUG" || l["route"] != "GET /utils/health-check/" {
					t.Fatalf("line %v", l)
				}
			}},
		{"the readiness probe is logged at debug level",
			req{method: "GET", path: "/utils/ready"},
			func(t *testing.T, l map[string]any) {
				if l["level"] != "DEBUG" {
					t.Fatalf("line %v", l)
				}
			}},
		{"an unknown path is logged as its path",
			req{method: "GET", path: "/no/such/route"},
			func(t *testing.T, l map[string]any) {
				if l["level"] != "INFO" || l["path"] != "/no/such/route" || l["status"] != 404.0 {
					t.Fatalf("line %v", l)
				}
				if _, ok := l["route"]; ok {
					t.Fatalf("line %v", l)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(accessLines(t, logs.String()))
			e.noValidate = true
			e.do(tc.req)
			e.noValidate = false
			lines := accessLines(t, logs.String())
			if len(lines) != before+1 {
				t.Fatalf("%d access lines, want %d", len(lines), before+1)
			}
			tc.check(t, lines[len(lines)-1])
		})
	}
}

func TestAccessLogInText(t *testing.T) {
	t.Run("durations are a number of milliseconds in text too", func(t *testing.T) {
		e := newEnv(t)
		e.do(req{method: "GET", path: "/utils/health-check/"})
		m := regexp.MustCompile(`level=DEBUG msg="http request" .*duration_ms=([0-9.]+) `).FindStringSubmatch(e.logs.String())
		if m == nil {
			t.Fatalf("no debug access line with duration_ms:\n%s", e.logs)
		}
		if _, err := strconv.ParseFloat(m[1], 64); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("probes are not logged at info level", func(t *testing.T) {
		var logs keeltest.SyncBuffer
		e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) }))
		e.do(req{method: "GET", path: "/utils/health-check/"})
		e.do(req{method: "GET", path: "/utils/ready"})
		e.do(req{method: "GET", path: "/items/"})
		if l := logs.String(); strings.Contains(l, "/utils/") || !strings.Contains(l, `route="GET /items/"`) {
			t.Fatalf("logs:\n%s", l)
		}
	})
}

// A host's route behind Auth gets the user on the access line too.
func TestAccessLogNamesTheUserOfAHostRoute(t *testing.T) {
	var logs keeltest.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	e := newEnv(t)
	alice, tok := e.userToken("alice@example.com", false)
	auth := httpapi.NewAuth(e.svc, httpapi.Config{})
	mux := http.NewServeMux()
	mux.Handle("GET /notes", auth.RequireUser(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	h := httpapi.RequestID(httpapi.AccessLog(log, nil)(mux))
	r := httptest.NewRequest("GET", "/notes", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(httptest.NewRecorder(), r)
	lines := accessLines(t, logs.String())
	if len(lines) != 1 || lines[0]["user_id"] != alice.ID.String() || lines[0]["path"] != "/notes" {
		t.Fatalf("access lines %v", lines)
	}
}
