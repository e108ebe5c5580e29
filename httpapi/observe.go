package httpapi

import (
	"context"
	"net/http"
	"time"
)

// An Observer watches the requests the API serves, for metrics or
// traces: package metrics counts them, package tracing gives each a span.
// httpapi depends on neither; Config.Observers plugs them in. Observers
// are called on every request, so they must be cheap and safe for
// concurrent use.
type Observer interface {
	// StartRequest is called as r arrives, before it is routed. It
	// returns the context to serve r with: r.Context() itself, or one
	// that carries more (a span).
	StartRequest(r *http.Request) context.Context
	// EndRequest is called once r is answered, with the context r was
	// served with.
	EndRequest(ctx context.Context, a Answered)
}

// Answered is what an Observer learns of an answered request. It holds
// no path, header or body: values in paths (an email in
// /password-recovery/{email}, ids) and secrets never reach metrics or
// traces.
type Answered struct {
	Method string
	// Route is the pattern of the route that served the request ("GET
	// /items/{id}"), "" when none matched.
	Route    string
	Status   int
	Bytes    int64 // of the body
	Duration time.Duration
}

// Observe tells the observers of every request: in order as it starts,
// in reverse order once it is answered. A request whose handler panicked
// (past Recover, as http.ErrAbortHandler does) is told as answered with
// what was written, or as a 500 when nothing was.
func Observe(observers ...Observer) func(http.Handler) http.Handler {
	observers = append([]Observer(nil), observers...)
	return func(next http.Handler) http.Handler {
		if len(observers) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, info := withRequestInfo(r)
			for _, o := range observers {
				if ctx := o.StartRequest(r); ctx != r.Context() {
					r = r.WithContext(ctx)
				}
			}
			sw := recordStatus(w)
			returned := false
			defer func() {
				status := sw.status
				switch {
				case status == 0 && returned:
					status = http.StatusOK // net/http's answer to a handler that wrote nothing
				case status == 0:
					status = http.StatusInternalServerError
				}
				a := Answered{Method: r.Method, Route: info.route, Status: status, Bytes: sw.size, Duration: time.Since(info.start)}
				ctx := r.Context()
				for i := len(observers) - 1; i >= 0; i-- {
					observers[i].EndRequest(ctx, a)
				}
			}()
			next.ServeHTTP(sw, r)
			returned = true
		})
	}
}
