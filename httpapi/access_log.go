package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

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
			r = r.WithContext(context.WithValue(r.Context(), routeHolderKey{}, route))
			defer func() {
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
					slog.String("method", r.Method),
					route.logAttr(r),
					slog.Int("status", status),
					slog.Int64("bytes", sw.size),
					slog.Duration("duration", time.Since(start)),
					slog.String("request_id", RequestIDFrom(r.Context())))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}
