package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keel-dev/keel"
)

// Hashing returns a collector of svc's password hasher statistics
// (keel.HashStats), read when scraped: slots, hashes in flight, callers
// waiting for a slot, and the waits in all, as prometheus's DBStats
// collector reports a connection pool's. A rising
// keel_password_hash_wait_seconds_total means logins queue for the CPU.
func Hashing(svc *keel.Service) prometheus.Collector {
	return hashing{
		svc:          svc,
		slots:        prometheus.NewDesc("keel_password_hash_slots", "Password hashes that may run at once (KEEL_MAX_CONCURRENT_HASHES).", nil, nil),
		inFlight:     prometheus.NewDesc("keel_password_hashes_in_flight", "Password hashes being computed.", nil, nil),
		waiting:      prometheus.NewDesc("keel_password_hash_waiting", "Callers waiting for a password hashing slot.", nil, nil),
		waitCount:    prometheus.NewDesc("keel_password_hash_waits_total", "Callers that waited for a password hashing slot.", nil, nil),
		waitDuration: prometheus.NewDesc("keel_password_hash_wait_seconds_total", "Time callers waited for a password hashing slot.", nil, nil),
	}
}

type hashing struct {
	svc                                               *keel.Service
	slots, inFlight, waiting, waitCount, waitDuration *prometheus.Desc
}

func (h hashing) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{h.slots, h.inFlight, h.waiting, h.waitCount, h.waitDuration} {
		ch <- d
	}
}

func (h hashing) Collect(ch chan<- prometheus.Metric) {
	s := h.svc.HashStats()
	ch <- prometheus.MustNewConstMetric(h.slots, prometheus.GaugeValue, float64(s.MaxConcurrent))
	ch <- prometheus.MustNewConstMetric(h.inFlight, prometheus.GaugeValue, float64(s.InFlight))
	ch <- prometheus.MustNewConstMetric(h.waiting, prometheus.GaugeValue, float64(s.Waiting))
	ch <- prometheus.MustNewConstMetric(h.waitCount, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(h.waitDuration, prometheus.CounterValue, s.WaitDuration.Seconds())
}
