package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/google/uuid"
)

// AccessLog logs one line per request: method, the route pattern of
// httpapi's routes ("POST /password-recovery/{email}") or else the path
// (never the query, which could carry secrets), status, size, duration_ms
// (milliseconds, a number in text and JSON alike), the client's address
// (see ClientAddr; trustedProxies are Config.TrustedProxies), the id of the
// user a route authenticated, and the request id (see LogHandler). It
// never logs headers, cookies, bodies or tokens. The line is at Info
// level, but at Debug for the health and readiness probes, which would
// otherwise drown the rest.
func AccessLog(log *slog.Logger, trustedProxies []netip.Prefix) func(http.Handler) http.Handler {
	// The line has its request id already: logged through LogHandler, it
	// would be copied to add it again.
	log = withoutRequestIDs(log)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, info := withRequestInfo(r)
			sw := recordStatus(w)
			defer func() {
				level := slog.LevelInfo
				if info.probe {
					level = slog.LevelDebug
				}
				ctx := r.Context()
				if !log.Enabled(ctx, level) {
					return
				}
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				client := info.client
				if client == "" {
					client = ClientAddr(r, trustedProxies)
				}
				var buf [8]slog.Attr // on the stack
				attrs := append(buf[:0],
					slog.String("method", r.Method),
					info.where(r),
					slog.Int("status", status),
					slog.Int64("bytes", sw.size),
					slog.Float64("duration_ms", milliseconds(time.Since(info.start))),
					slog.String("client", client))
				if info.userID != uuid.Nil {
					attrs = append(attrs, slog.String("user_id", info.userID.String()))
				}
				if id := RequestIDFrom(ctx); id != "" {
					attrs = append(attrs, slog.String("request_id", id))
				}
				log.LogAttrs(ctx, level, "http request", attrs...)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// milliseconds is d in milliseconds, to the microsecond: what a log line
// says of a duration, in text and JSON alike (slog writes a time.Duration
// as "1.5ms" in text but as nanoseconds in JSON).
func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
