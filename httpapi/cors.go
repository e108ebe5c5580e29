package httpapi

import (
	"net/http"
	"strings"
)

// CORS lets the browser origins listed call the API from another origin,
// with credentials (cookies): it answers preflight requests (OPTIONS with
// Access-Control-Request-Method) itself, and adds the Access-Control-*
// headers to the answers of listed origins. "*" in origins allows every
// origin without credentials. Requests from other origins pass through
// with no CORS header, so browsers keep them from reading the answer.
func CORS(origins []string) func(http.Handler) http.Handler {
	allowed := map[string]bool{}
	anyOrigin := false
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			anyOrigin = true
		} else if o != "" {
			allowed[strings.ToLower(o)] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			h := w.Header()
			h.Add("Vary", "Origin")
			listed := origin != "" && allowed[strings.ToLower(origin)]
			ok := listed || (origin != "" && anyOrigin)
			if ok {
				if listed {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Credentials", "true")
				} else {
					h.Set("Access-Control-Allow-Origin", "*")
				}
				h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, WWW-Authenticate")
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if ok {
					h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
					// traceparent and tracestate carry a browser's trace
					// (W3C Trace Context) into the API's spans.
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID, traceparent, tracestate")
					h.Set("Access-Control-Max-Age", "600")
				}
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
