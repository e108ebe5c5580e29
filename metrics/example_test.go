package metrics_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/metrics"
	"github.com/keel-dev/keel/store/memstore"
)

// keel's metrics on a registry of the program's own, served apart from
// the API.
func Example() {
	m := metrics.New()
	svc, err := keel.New(memstore.New(), keel.Config{MaxConcurrentHashes: 2, Hooks: keel.Hooks{After: []keel.AfterHook{m.Count}}})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, metrics.Hashing(svc))
	api := httpapi.New(svc, httpapi.Config{Observers: []httpapi.Observer{m}, Logger: slog.New(slog.DiscardHandler)})
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) // on an address of its own

	api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/utils/health-check/", nil))

	rec := httptest.NewRecorder()
	metricsHandler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "keel_http_request_duration_seconds_count") || strings.HasPrefix(line, "keel_password_hash_slots") {
			fmt.Println(line)
		}
	}
	// Output:
	// keel_http_request_duration_seconds_count{route="GET /utils/health-check/",status="200"} 1
	// keel_password_hash_slots 2
}
