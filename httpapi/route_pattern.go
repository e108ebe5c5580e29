package httpapi

import (
	"log/slog"
	"net/http"
)

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
