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
		// The four values share one allocation, each a slice of it that
		// is full (len == cap), so that an Add to one of them copies
		// rather than writes over the next. The keys are canonical, as
		// Header.Set would make them.
		v := &[4]string{"nosniff", "no-referrer", "DENY", APIContentSecurityPolicy}
		h := w.Header()
		h["X-Content-Type-Options"] = v[0:1:1]
		h["Referrer-Policy"] = v[1:2:2]
		h["X-Frame-Options"] = v[2:3:3]
		h["Content-Security-Policy"] = v[3:4:4]
		next.ServeHTTP(w, r)
	})
}
