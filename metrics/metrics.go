package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keel-dev/keel/httpapi"
)

// Metrics counts what keel does: it is an httpapi.Observer for requests
// and an after hook (Count) for account events. Make one with New; its
// methods are safe for concurrent use.
type Metrics struct {
	requests *prometheus.HistogramVec

	// observers caches requests' children by route and status, so that
	// observing a request allocates nothing.
	mu        sync.RWMutex
	observers map[requestKey]prometheus.Observer
}

type requestKey struct {
	route  string
	status int
}

var (
	_ prometheus.Collector = (*Metrics)(nil)
	_ httpapi.Observer     = (*Metrics)(nil)
)

// New returns keel's metrics, at zero.
func New() *Metrics {
	return &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "keel",
			Name:      "http_request_duration_seconds",
			Help:      "Time to answer an HTTP request, by route pattern (\"unmatched\" when no route matched) and status. Its _count is the number of requests.",
			// Finer than Prometheus's defaults below 5 ms, where most of
			// keel's answers are.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		observers: map[requestKey]prometheus.Observer{},
	}
}

// Describe sends the descriptions of the metrics.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
}

// Collect sends the metrics' values.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
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
