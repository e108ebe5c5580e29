package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// clientAddr is the client's address for rate limits: the connection's
// peer, unless the peer is a trusted proxy; then the right-most address of
// Forwarded (or, without it, X-Forwarded-For) that is not a trusted proxy.
func (a *api) clientAddr(r *http.Request) string {
	return ClientAddr(r, a.cfg.TrustedProxies)
}

// ClientAddr returns the client's IP address of r: r.RemoteAddr's host,
// or, when that peer is in trusted, the right-most address of the
// Forwarded header (X-Forwarded-For when there is no Forwarded header)
// that is not in trusted. Addresses a client prepends itself are never
// believed, since only addresses right of the first untrusted hop count.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !isTrusted(peer, trusted) {
		if host, ok := dottedHost(r.RemoteAddr); ok && peer.Is4() {
			return host // the text peer.String() would build again
		}
		return peer.String()
	}
	var hops []string
	if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		for _, v := range fwd {
			for elem := range strings.SplitSeq(v, ",") {
				for pair := range strings.SplitSeq(elem, ";") {
					k, val, found := strings.Cut(strings.TrimSpace(pair), "=")
					if found && strings.EqualFold(k, "for") {
						hops = append(hops, strings.Trim(val, `"`))
					}
				}
			}
		}
	} else {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for hop := range strings.SplitSeq(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
	}
	client := peer
	for _, hop := range slices.Backward(hops) {
		addr, ok := parseAddr(hop)
		if !ok {
			break // garbage (or "unknown"): stop at the last address we could read
		}
		client = addr
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return client.String()
}

// dottedHost returns the host of "1.2.3.4:80" when it is made of digits
// and dots only. Once netip has read it as an IPv4 address (which refuses
// leading zeros), that text is the address as netip writes it.
func dottedHost(s string) (string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", false
	}
	for _, c := range []byte(s[:i]) {
		if c != '.' && (c < '0' || c > '9') {
			return "", false
		}
	}
	return s[:i], true
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseAddr reads "1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1" or "[::1]".
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i] // a zone says nothing about who the client is
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}
