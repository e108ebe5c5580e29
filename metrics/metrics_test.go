package metrics_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/metrics"
	"github.com/keel-dev/keel/store/memstore"
)

// scrape fetches reg's metrics as Prometheus does, in the text format, and
// parses them.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.Header.Set("Accept", "text/plain; version=0.0.4")
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	return fams
}

// sample finds the metric of the family with exactly these labels; nil
// when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		for i, l := range m.GetLabel() {
			if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is the counter or gauge value of a sample, 0 when absent.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := sample(fams, name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -1
}

// env is an API over a memstore with metrics, and the registry that
// holds them.
type env struct {
	t   *testing.T
	svc *keel.Service
	h   http.Handler
	reg *prometheus.Registry
}

func newEnv(t *testing.T, cfg keel.Config) *env {
	m := metrics.New()
	cfg.Argon2 = keeltest.CheapArgon2
	cfg.Hooks.After = append(cfg.Hooks.After, m.Count)
	svc, err := keel.New(memstore.New(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, metrics.Hashing(svc))
	h := httpapi.New(svc, httpapi.Config{Observers: []httpapi.Observer{m}, Logger: slog.New(slog.DiscardHandler)})
	return &env{t: t, svc: svc, h: h, reg: reg}
}

func (e *env) do(method, path, body, bearer string) int {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.1:1234"
	if strings.HasPrefix(body, "{") {
		r.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return rec.Code
}

func TestRequests(t *testing.T) {
	e := newEnv(t, keel.Config{})
	for range 3 {
		e.do("GET", "/utils/health-check/", "", "")
	}
	e.do("GET", "/users/me", "", "")
	e.do("GET", "/no/such/thing", "", "")
	e.do("GET", "/another/unknown/path", "", "")
	e.do("POST", "/password-recovery/private.person@example.com", "", "")
	fams := scrape(t, e.reg)
	const name = "keel_http_request_duration_seconds"
	for _, tc := range []struct {
		name          string
		route, status string
		count         uint64
	}{
		{"requests are counted by route pattern and status", "GET /utils/health-check/", "200", 3},
		{"a refused request is counted with its status", "GET /users/me", "401", 1},
		{"requests no route matched are counted together, without their paths", "unmatched", "404", 2},
		{"an email in a path is never a label", "POST /password-recovery/{email}", "200", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sample(fams, name, "route", tc.route, "status", tc.status)
			if m == nil || m.Histogram == nil {
				t.Fatalf("no %s{route=%q,status=%q} in %v", name, tc.route, tc.status, fams[name])
			}
			if got := m.Histogram.GetSampleCount(); got != tc.count {
				t.Fatalf("count %d, want %d", got, tc.count)
			}
			if m.Histogram.GetSampleSum() <= 0 {
				t.Fatal("no time observed")
			}
		})
	}
	t.Run("no label holds a path", func(t *testing.T) {
		for _, m := range fams[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "example.com") || strings.Contains(l.GetValue(), "/no/such") {
					t.Fatalf("label %s=%q", l.GetName(), l.GetValue())
				}
			}
		}
	})
}

func TestHashing(t *testing.T) {
	e := newEnv(t, keel.Config{MaxConcurrentHashes: 3})
	fams := scrape(t, e.reg)
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"keel_password_hash_slots", 3},
		{"keel_password_hashes_in_flight", 0},
		{"keel_password_hash_waiting", 0},
		{"keel_password_hash_waits_total", 0},
		{"keel_password_hash_wait_seconds_total", 0},
	} {
		t.Run(tc.name+" is what HashStats says", func(t *testing.T) {
			if fams[tc.name] == nil {
				t.Fatalf("no %s", tc.name)
			}
			if got := value(fams, tc.name); got != tc.want {
				t.Fatalf("%s = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// Observing a request allocates nothing once its route and status have
// been seen: metrics must not cost the hot path.
func TestObservingAllocatesNothing(t *testing.T) {
	m := metrics.New()
	r := httptest.NewRequest("GET", "/items/", nil)
	a := httpapi.Answered{Method: "GET", Route: "GET /items/{id}", Status: 200, Duration: time.Millisecond}
	m.EndRequest(m.StartRequest(r), a)
	if n := testing.AllocsPerRun(100, func() { m.EndRequest(m.StartRequest(r), a) }); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

// BenchmarkObserveRequest is what counting costs a request: StartRequest
// and EndRequest of a route and status seen before, from every core.
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New()
	r := httptest.NewRequest("GET", "/items/", nil)
	a := httpapi.Answered{Method: "GET", Route: "GET /items/{id}", Status: 200, Duration: time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.EndRequest(m.StartRequest(r), a)
		}
	})
}
