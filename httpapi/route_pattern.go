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

type routeHolderKey struct{}

// setRoute records the pattern of the route serving r, when AccessLog
// is there to log it.
func setRoute(r *http.Request, pattern string) {
	if h, ok := r.Context().Value(routeHolderKey{}).(*routeHolder); ok {
		h.pattern = pattern
	}
}

// logAttr is what the access log says of where r went: the route
// pattern, or the path when no route of httpapi matched.
func (h *routeHolder) logAttr(r *http.Request) slog.Attr {
	if h.pattern != "" {
		return slog.String("route", h.pattern)
	}
	return slog.String("path", r.URL.Path)
}
