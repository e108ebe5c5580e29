package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover turns a panicking handler into a 500 {"detail": "Internal
// Server Error"} answer (when nothing was written yet) and logs the panic
// with its stack and the request id (see LogHandler); the server keeps
// serving. http.ErrAbortHandler is passed on, as net/http expects.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	log = withRequestIDs(log)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := recordStatus(w) // AccessLog's, when inside it
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.ErrorContext(r.Context(), "httpapi: handler panicked",
					"panic", v,
					"stack", string(debug.Stack()))
				if sw.status == 0 {
					// Drop headers a handler set for the answer it never gave.
					for _, k := range []string{"Set-Cookie", "Content-Length", "Retry-After", "WWW-Authenticate"} {
						w.Header().Del(k)
					}
					writeJSON(w, http.StatusInternalServerError, httpError{Detail: msgInternal})
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}
