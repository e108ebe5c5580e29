package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// requestInfo is what the middleware that report on a request (AccessLog,
// Observe) learn of it from the handler inside: the route that served it
// and who was authenticated; and the request id (RequestID). The
// outermost of them makes it; the others share it, so a request costs one
// of it however many report.
type requestInfo struct {
	start time.Time
	id    string // the request id; "" without RequestID
	// route is the pattern of the route that served the request ("GET
	// /items/{id}"), "" when none matched. Reports name the pattern, never
	// the path, so that the values in paths (an email in
	// /password-recovery/{email}, ids) stay out of logs, metrics and traces.
	route  string
	userID uuid.UUID // the authenticated user; uuid.Nil when none
	client string    // the client's address, once Auth has worked it out
	probe  bool      // a health or readiness probe, logged at Debug level
}

type requestInfoKey struct{}

// withRequestInfo returns r with a requestInfo in its context: the one an
// outer middleware put there, or a new one started now.
func withRequestInfo(r *http.Request) (*http.Request, *requestInfo) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return r, info
	}
	info := &requestInfo{start: time.Now()}
	return r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)), info
}

// requestInfoOf returns the requestInfo of r; nil when no middleware
// reports on r.
func requestInfoOf(r *http.Request) *requestInfo {
	info, _ := r.Context().Value(requestInfoKey{}).(*requestInfo)
	return info
}

// where is what the access log says of where r went: the route
// pattern, or the path when no route of httpapi matched.
func (info *requestInfo) where(r *http.Request) slog.Attr {
	if info.route != "" {
		return slog.String("route", info.route)
	}
	return slog.String("path", r.URL.Path)
}
