// Package metrics exports keel's metrics to Prometheus
// (github.com/prometheus/client_golang): requests by route and status,
// logins and second factors by outcome, rate-limit refusals, sessions
// started and ended, and the password hasher's slots. A Metrics is a prometheus.Collector, an
// httpapi.Observer and, with its Count method, a keel.AfterHook; register
// it, with Hashing and, for a bunstore, prometheus's DBStats collector for
// each of its Pools, on a registry of your own:
//
//	m := metrics.New()
//	svc, err := keel.New(store, keel.Config{Hooks: keel.Hooks{After: []keel.AfterHook{m.Count}}})
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m, metrics.Hashing(svc))
//	for name, db := range store.Pools() {
//		reg.MustRegister(collectors.NewDBStatsCollector(db, name))
//	}
//	api := httpapi.New(svc, httpapi.Config{Observers: []httpapi.Observer{m}})
//
// Serve reg (promhttp.HandlerFor) on an address of its own, never beside
// the API, as keel serve does with KEEL_METRICS_ADDR.
package metrics
