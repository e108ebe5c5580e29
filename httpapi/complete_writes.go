package httpapi

import (
	"context"
	"net/http"
	"time"
)

// CompleteWrites makes requests with an unsafe method (POST, PUT, PATCH,
// DELETE) run to completion when their client goes away: their context
// is no longer cancelled by the client's disconnection, only by timeout.
// A write the server has accepted then either happens or fails on its own
// terms (a validation error, a conflict, the timeout), instead of being
// rolled back half way because the client stopped waiting: a sign-up whose client gives up
// while the password hashes still creates the account. Requests with a
// safe method (GET, HEAD, OPTIONS) keep the client's context, so a read
// nobody waits for stops early. New applies it to keel's routes with
// Config.CompletionTimeout; a host may wrap its own write routes in it.
func CompleteWrites(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
