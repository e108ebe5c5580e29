package metrics

import (
	"context"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keel-dev/keel/httpapi"
)

type requestKey struct {
	route  string
	status int
}

// StartRequest is part of httpapi.Observer; it changes nothing.
func (m *Metrics) StartRequest(r *http.Request) context.Context { return r.Context() }

// EndRequest counts an answered request and its duration.
func (m *Metrics) EndRequest(_ context.Context, a httpapi.Answered) {
	m.requestObserver(a.Route, a.Status).Observe(a.Duration.Seconds())
}

// unmatched is the route label of requests no route matched: never their
// path, which a client could vary without end.
const unmatched = "unmatched"

func (m *Metrics) requestObserver(route string, status int) prometheus.Observer {
	k := requestKey{route, status}
	m.mu.RLock()
	o, ok := m.observers[k]
	m.mu.RUnlock()
	if ok {
		return o
	}
	label := route
	if label == "" {
		label = unmatched
	}
	o = m.requests.WithLabelValues(label, strconv.Itoa(status))
	m.mu.Lock()
	m.observers[k] = o
	m.mu.Unlock()
	return o
}
