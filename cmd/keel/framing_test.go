package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeRefusesSmuggling sends, over a raw connection, requests whose
// body a front proxy would frame by Content-Length and net/http by
// Transfer-Encoding: the rest of the body is a sign-up that must never run.
func TestServeRefusesSmuggling(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:"})
	addr := strings.TrimPrefix(s.base, "http://")
	for _, tc := range []struct {
		name, path, proto, email string
	}{
		{"an API route", "/api/v1/login/test-token", "HTTP/1.1", "smuggled1@example.com"},
		{"a route outside the API", "/docs", "HTTP/1.1", "smuggled2@example.com"},
		{"HTTP/1.0 with Transfer-Encoding", "/api/v1/login/test-token", "HTTP/1.0", "smuggled3@example.com"},
	} {
		t.Run(tc.name+" answers 400 and closes the connection; the smuggled request never runs", func(t *testing.T) {
			signup := fmt.Sprintf(`{"email":%q,"password":"analytical engine"}`, tc.email)
			body := fmt.Sprintf("0\r\n\r\nPOST /api/v1/users/signup HTTP/1.1\r\nHost: keel\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(signup), signup)
			raw := fmt.Sprintf("POST %s %s\r\nHost: keel\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s", tc.path, tc.proto, len(body), body) +
				"GET /api/v1/utils/ready HTTP/1.1\r\nHost: keel\r\nConnection: close\r\n\r\n"
			statuses := rawExchange(t, addr, raw)
			if len(statuses) != 1 || statuses[0] != http.StatusBadRequest {
				t.Errorf("statuses %v, want [400] and the connection closed", statuses)
			}
			form := url.Values{"username": {tc.email}, "password": {"analytical engine"}}
			resp, b := s.do(t, "POST", "/api/v1/login/access-token", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("logging in as the smuggled sign-up: %d %s; the sign-up ran", resp.StatusCode, b)
			}
		})
	}
}

// rawExchange writes raw, which ends with a request that asks for the
// close, to a new connection and returns the status of every answer until
// the server closes it.
func rawExchange(t *testing.T, addr, raw string) []int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	br := bufio.NewReader(conn)
	for {
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return statuses
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading answer %d: %v", len(statuses)+1, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
}
