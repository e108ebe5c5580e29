package httpapi

import "net/http"

// statusWriter is the one http.ResponseWriter wrapper of this package. It
// records the status and body size of an answer on its way to the wrapped
// writer (AccessLog logs them, Recover answers 500 only while nothing is
// written). With discard set it writes nothing: the status and body stay
// here and only header changes reach the wrapped writer's header map, for
// the caller to answer in its own way (ServeHTTP replacing ServeMux's
// plain-text 404 and 405).
type statusWriter struct {
	http.ResponseWriter
	status  int   // the first status written (200 for a bare Write); 0 until then
	size    int64 // body bytes written, or, discarding, swallowed
	discard bool
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	if !s.discard {
		s.ResponseWriter.WriteHeader(code)
	}
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n := len(b)
	var err error
	if !s.discard {
		n, err = s.ResponseWriter.Write(b)
	}
	s.size += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the wrapped writer (to flush,
// set deadlines, hijack).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// recordStatus returns a statusWriter recording the answer written to w:
// w itself when an outer middleware already records it, so that
// middleware that report on the same answer share one.
func recordStatus(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok && !sw.discard {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}
