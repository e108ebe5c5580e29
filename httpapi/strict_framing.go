package httpapi

import "net/http"

const msgAmbiguousFraming = "Request body framing is ambiguous"

// StrictFraming refuses an HTTP/1 request whose body could be framed two
// ways — Content-Length and Transfer-Encoding together, or
// Transfer-Encoding in HTTP/1.0 — with 400 {"detail": "Request body framing
// is ambiguous"} and closes the connection after answering (RFC 9112
// §6.1). A front proxy that framed the body by Content-Length while
// net/http reads it as chunked would otherwise have the rest of the body
// run as a request of its own.
//
// net/http drops Content-Length before a handler runs, so StrictFraming
// learns of the combination from FramingListener, through the server's
// ConnContext (see FramingListener). On a connection that FramingListener
// does not follow, it cannot tell, and closes the connection after every
// request with a chunked body instead: a smuggled request then never
// runs either.
func StrictFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 {
			switch framingOf(r) {
			case framingAmbiguous:
				w.Header().Set("Connection", "close")
				writeJSON(w, http.StatusBadRequest, httpError{Detail: msgAmbiguousFraming})
				return
			case framingUnknown:
				if len(r.TransferEncoding) > 0 {
					w.Header().Set("Connection", "close")
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
