package httpapi

import "net/http"

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
