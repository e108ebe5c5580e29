package httpapi

import (
	"context"
	"log/slog"
)

// LogHandler wraps h so that every record logged with the context of a
// request that RequestID saw carries its id as request_id: the access
// line, keel's own lines (keel.Config.Logger) and a host's, as long as
// they log with the request's context (slog's *Context methods). Give it
// the handler of the logger you hand httpapi and keel. A record logged
// through a WithGroup logger gets request_id inside the group. Wrapping a
// handler it returned (or one derived from it) again changes nothing, and
// a record with a request_id of its own keeps it alone, so no line carries
// the id twice.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

// withRequestIDs is log with LogHandler's request ids.
func withRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(requestIDHandler); ok {
		return log
	}
	return slog.New(requestIDHandler{log.Handler()})
}

// withoutRequestIDs is log without LogHandler's request ids, for a line
// that has its own.
func withoutRequestIDs(log *slog.Logger) *slog.Logger {
	if h, ok := log.Handler().(requestIDHandler); ok {
		return slog.New(h.Handler)
	}
	return log
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" && !hasRequestID(r) {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// hasRequestID reports whether r states a request id of its own (keel's
// audit lines do, the event's), which then is not repeated.
func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "request_id"
		return !found
	})
	return found
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
