package httpapi_test

import (
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		header       map[string]string
		trusted      []netip.Prefix
		want         string
	}{
		{"the peer is the client without trusted proxies", "203.0.113.5:1234", map[string]string{"X-Forwarded-For": "198.51.100.1"}, nil, "203.0.113.5"},
		{"X-Forwarded-For from an untrusted peer is ignored", "203.0.113.5:1234", map[string]string{"X-Forwarded-For": "198.51.100.1"}, proxies, "203.0.113.5"},
		{"a trusted proxy's X-Forwarded-For gives the client", "10.0.0.2:1234", map[string]string{"X-Forwarded-For": "198.51.100.1"}, proxies, "198.51.100.1"},
		{"the right-most untrusted address wins over a spoofed left one", "10.0.0.2:1234", map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.1, 10.0.0.3"}, proxies, "198.51.100.1"},
		{"Forwarded is honoured from a trusted proxy", "[::1]:1234", map[string]string{"Forwarded": `for=6.6.6.6, for="[2001:db8::1]:4711";proto=https`}, proxies, "2001:db8::1"},
		{"an unreadable hop stops the walk", "10.0.0.2:1234", map[string]string{"X-Forwarded-For": "198.51.100.1, garbage"}, proxies, "10.0.0.2"},
		{"an IPv4 peer without a port is the client", "203.0.113.5", nil, nil, "203.0.113.5"},
		{"an IPv4 peer with a port that is no number is the client", "203.0.113.5:x", nil, nil, "203.0.113.5"},
		{"an IPv4-mapped IPv6 peer is written as IPv4", "[::ffff:203.0.113.5]:1234", nil, nil, "203.0.113.5"},
		{"an IPv6 peer is written as netip writes it", "[2001:DB8:0::1]:1234", nil, nil, "2001:db8::1"},
		{"a peer with spaces around it is trimmed", " 203.0.113.5:1234 ", nil, nil, "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if got := httpapi.ClientAddr(r, tc.trusted); got != tc.want {
				t.Fatalf("ClientAddr %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoginRateLimitPerAddressBehindProxy(t *testing.T) {
	e := newEnv(t,
		withHTTP(func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} }),
		withKeel(func(c *keel.Config) { c.RateLimits.LoginPerAddress = keel.Limit{Max: 2, Window: time.Hour} }))
	login := func(client, email string) *resp {
		return e.do(req{method: "POST", path: "/login/access-token", header: map[string]string{"X-Forwarded-For": client},
			form: url.Values{"username": {email}, "password": {"wrong password"}}})
	}
	expect(t, login("198.51.100.1", "a@example.com"), 400, "")
	expect(t, login("198.51.100.1", "b@example.com"), 400, "")
	t.Run("the forwarded client is limited", func(t *testing.T) {
		expect(t, login("198.51.100.1", "c@example.com"), 429, "Too many requests")
	})
	t.Run("another forwarded client is not", func(t *testing.T) {
		expect(t, login("198.51.100.2", "c@example.com"), 400, "Incorrect email or password")
	})
}
