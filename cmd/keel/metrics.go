package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/metrics"
	"github.com/keel-dev/keel/store/bunstore"
)

// metricsRegistry is what KEEL_METRICS_ADDR serves: keel's metrics (m),
// the password hasher's, the store's connection pools' and Go's runtime and
// process.
func metricsRegistry(m *metrics.Metrics, svc *keel.Service, s keel.Store) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	cs := []prometheus.Collector{
		m,
		metrics.Hashing(svc),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if bs, ok := s.(*bunstore.Store); ok {
		for name, db := range bs.Pools() {
			cs = append(cs, collectors.NewDBStatsCollector(db, name))
		}
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// startMetrics serves reg at /metrics on addr (KEEL_METRICS_ADDR), apart
// from the API, and returns the address bound. stop closes it.
func startMetrics(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) (bound net.Addr, stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 4, // scrapes are few; more is a misconfiguration or abuse
		Timeout:             10 * time.Second,
	}))
	return serveAside(ctx, "KEEL_METRICS_ADDR", "metrics", addr, mux, 30*time.Second, log)
}
