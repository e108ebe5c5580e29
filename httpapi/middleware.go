package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

type ctxKey int

const ctxRequestID ctxKey = iota

// RequestIDFrom returns the request id RequestID put in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}

// RequestID gives every request an id: the client's X-Request-ID when it
// is a sane token (at most 128 letters, digits and -_.:), a new random one
// otherwise. The id goes into the request's context (RequestIDFrom) and
// back to the client in the X-Request-ID header.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxRequestID, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.size += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog logs one line per request at Info level: method, the route
// pattern of httpapi's routes ("POST /password-recovery/{email}") or else
// the path (never the query, which could carry secrets), status, size,
// duration and request id. It never logs headers, cookies, bodies or tokens.
func AccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			route := &routeHolder{}
			r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
			defer func() {
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
					slog.String("method", r.Method),
					route.path(r),
					slog.Int("status", status),
					slog.Int64("bytes", sw.size),
					slog.Duration("duration", time.Since(start)),
					slog.String("request_id", RequestIDFrom(r.Context())))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// Recover turns a panicking handler into a 500 {"detail": "Internal
// Server Error"} answer (when nothing was written yet) and logs the panic
// with its stack and the request id; the server keeps serving.
// http.ErrAbortHandler is passed on, as net/http expects.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.ErrorContext(r.Context(), "httpapi: handler panicked",
					"request_id", RequestIDFrom(r.Context()),
					"panic", v,
					"stack", string(debug.Stack()))
				if sw.status == 0 {
					// Drop headers a handler set for the answer it never gave.
					for _, k := range []string{"Set-Cookie", "Content-Length", "Retry-After", "WWW-Authenticate"} {
						w.Header().Del(k)
					}
					writeJSON(w, http.StatusInternalServerError, HTTPError{Detail: msgInternal})
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// CORS lets the browser origins listed call the API from another origin,
// with credentials (cookies): it answers preflight requests (OPTIONS with
// Access-Control-Request-Method) itself, and adds the Access-Control-*
// headers to the answers of listed origins. "*" in origins allows every
// origin without credentials. Requests from other origins pass through
// with no CORS header, so browsers keep them from reading the answer.
func CORS(origins []string) func(http.Handler) http.Handler {
	allowed := map[string]bool{}
	anyOrigin := false
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			anyOrigin = true
		} else if o != "" {
			allowed[strings.ToLower(o)] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			h := w.Header()
			h.Add("Vary", "Origin")
			listed := origin != "" && allowed[strings.ToLower(origin)]
			ok := listed || (origin != "" && anyOrigin)
			if ok {
				if listed {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Credentials", "true")
				} else {
					h.Set("Access-Control-Allow-Origin", "*")
				}
				h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, WWW-Authenticate")
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if ok {
					h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
					h.Set("Access-Control-Max-Age", "600")
				}
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// APIContentSecurityPolicy is the Content-Security-Policy of the JSON
// answers: nothing may load, nothing may frame them.
const APIContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// SecurityHeaders sets X-Content-Type-Options: nosniff, Referrer-Policy:
// no-referrer, X-Frame-Options: DENY and, unless the handler sets its own
// (the docs page does), APIContentSecurityPolicy.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", APIContentSecurityPolicy)
		next.ServeHTTP(w, r)
	})
}

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

// routeHolder carries the matched route out to AccessLog, which logs the
// route's pattern instead of the raw path for httpapi's own routes, so the
// values in paths (an email in /password-recovery/{email}, ids) stay out of
// access logs.
type routeHolder struct{ pattern string }

type routeKey struct{}

func setRoute(r *http.Request, pattern string) {
	if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
		h.pattern = pattern
	}
}

func (h *routeHolder) path(r *http.Request) slog.Attr {
	if h.pattern != "" {
		return slog.String("route", h.pattern)
	}
	return slog.String("path", r.URL.Path)
}
