package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheckCommand(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:"})
	addr := strings.TrimPrefix(s.base, "http://")
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	closed := closedAddr(t)
	answering := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v1/utils/health-check/" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	hanging := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hanging:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hanging); hung.Close() })

	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"a server that is up passes (KEEL_ADDR)", map[string]string{"KEEL_ADDR": addr}, nil, 0,
			"http://" + addr + "/api/v1/utils/health-check/: 200 true", ""},
		{"every interface is asked on the loopback address", map[string]string{"KEEL_ADDR": ":" + port}, nil, 0,
			"http://127.0.0.1:" + port + "/api/v1/utils/health-check/: 200 true", ""},
		{"-addr wins over KEEL_ADDR", map[string]string{"KEEL_ADDR": closed}, []string{"-addr", addr}, 0, "200 true", ""},
		{"a server that is down fails", map[string]string{"KEEL_ADDR": closed}, nil, 1, "",
			"http://" + closed + "/api/v1/utils/health-check/"},
		{"a 503 fails", nil, []string{"-addr", answering(503, "true")}, 1, "", "answered 503 Service Unavailable"},
		{"an answer other than true fails", nil, []string{"-addr", answering(200, "false")}, 1, "", `answered 200 OK: "false"`},
		{"a server that does not answer fails at the timeout", nil, []string{"-addr", strings.TrimPrefix(hung.URL, "http://"), "-timeout", "50ms"}, 1, "", "deadline exceeded"},
		{"an address without port is a usage error", nil, []string{"-addr", "localhost"}, 2, "", "for flag -addr"},
		{"a timeout of zero is a usage error", nil, []string{"-addr", addr, "-timeout", "0s"}, 2, "", "-timeout must be positive"},
		{"arguments are a usage error", nil, []string{addr}, 2, "", "healthcheck takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runKeel(t, tt.vars, "", append([]string{"healthcheck"}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.out, tt.wantOut) || !strings.Contains(r.err, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.out, r.err)
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDialAddr(t *testing.T) {
	tests := []struct{ name, addr, want string }{
		{"no host is the loopback address", ":8000", "127.0.0.1:8000"},
		{"0.0.0.0 is the loopback address", "0.0.0.0:8000", "127.0.0.1:8000"},
		{"[::] is the loopback address", "[::]:8000", "127.0.0.1:8000"},
		{"a host is kept", "localhost:8000", "localhost:8000"},
		{"an address is kept", "10.1.2.3:80", "10.1.2.3:80"},
		{"an IPv6 address is kept", "[::1]:80", "[::1]:80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialAddr(tt.addr); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
