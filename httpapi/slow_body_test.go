package httpapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestASlowBodyAnswers408 sends a request whose body never finishes to a
// server with a read timeout: the timeout cuts it off, and the answer is
// 408, not a complaint about the JSON or the form.
func TestASlowBodyAnswers408(t *testing.T) {
	for _, tc := range []struct{ name, path, contentType, start string }{
		{"a JSON body", "/users/signup", "application/json", `{"email":"ada@exa`},
		{"the login form", "/login/access-token", "application/x-www-form-urlencoded", "username=ada%40exa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := httptest.NewUnstartedServer(e.h)
			// The client below never sends the rest of its body: the
			// timeout is certain to cut it off, whatever its length.
			srv.Config.ReadTimeout = 100 * time.Millisecond
			srv.Start()
			t.Cleanup(srv.Close)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "POST "+tc.path+" HTTP/1.1\r\nHost: keel\r\nContent-Type: "+tc.contentType+
				"\r\nContent-Length: 1000\r\n\r\n"+tc.start); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Detail any }
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusRequestTimeout || body.Detail != "Request Timeout" || !res.Close {
				t.Errorf("%d %s, closing %v; want 408 {\"detail\":\"Request Timeout\"} and the connection closed", res.StatusCode, b, res.Close)
			}
		})
	}
}
