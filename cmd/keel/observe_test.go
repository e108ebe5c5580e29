package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// bannerURL is the URL the banner gives after prefix ("Metrics
// (Prometheus): "), once serve has written it: a request the API answered
// proves it has.
func (s *server) bannerURL(t *testing.T, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `(\S+)`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("the banner has no %q line:\n%s", prefix, s.out.String())
	}
	return m[1]
}

func TestServeMetrics(t *testing.T) {
	s := startServe(t, map[string]string{
		"DATABASE_URL":             sqliteURL(t),
		"KEEL_METRICS_ADDR":        "127.0.0.1:0",
		"FIRST_SUPERUSER":          "admin@example.com",
		"FIRST_SUPERUSER_PASSWORD": "a long enough pass",
	})
	if resp, _ := s.do(t, "GET", "/api/v1/utils/health-check/", "", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("health check: %d", resp.StatusCode)
	}
	tok := s.login(t, "admin@example.com", "a long enough pass")
	s.do(t, "GET", "/api/v1/users/", tok, nil, "")
	s.do(t, "GET", "/api/v1/users/", "", nil, "")
	metricsURL := s.bannerURL(t, "Metrics (Prometheus): ")
	// The login is counted by an after hook, on its own goroutine, soon
	// after the answer: scrape until it shows.
	fams := scrapeURL(t, metricsURL)
	for counter(fams["keel_sessions_started_total"], nil) == 0 {
		fams = scrapeURL(t, metricsURL)
	}
	for _, tc := range []struct {
		name   string
		family string
		labels map[string]string
	}{
		{"requests are counted by route and status", "keel_http_request_duration_seconds", map[string]string{"route": "GET /users/", "status": "200"}},
		{"refused requests too", "keel_http_request_duration_seconds", map[string]string{"route": "GET /users/", "status": "401"}},
		{"the password hasher's slots are reported", "keel_password_hash_slots", nil},
		{"the time waited for a slot is reported", "keel_password_hash_wait_seconds_total", nil},
		{"the SQLite writer's pool is reported", "go_sql_open_connections", map[string]string{"db_name": "write"}},
		{"the SQLite readers' pool is reported", "go_sql_wait_duration_seconds_total", map[string]string{"db_name": "read"}},
		{"Go's runtime is reported", "go_goroutines", nil},
		{"logins are counted by outcome", "keel_logins_total", map[string]string{"outcome": "succeeded"}},
		{"rate-limit refusals are reported", "keel_rate_limited_total", map[string]string{"limit": "login_per_address"}},
		{"sessions ended are reported", "keel_sessions_ended_total", map[string]string{"how": "logout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !hasSample(fams[tc.family], tc.labels) {
				t.Fatalf("no %s%v in the scrape", tc.family, tc.labels)
			}
		})
	}
	t.Run("the login is counted once", func(t *testing.T) {
		if got := counter(fams["keel_logins_total"], map[string]string{"outcome": "succeeded"}); got != 1 {
			t.Fatalf("keel_logins_total{outcome=succeeded} = %v", got)
		}
	})
	t.Run("metrics are not served on the API's address", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/api/v1/metrics"} {
			if resp, _ := s.do(t, "GET", path, "", nil, ""); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s on the API: %d, want 404", path, resp.StatusCode)
			}
		}
	})
}

// scrapeURL fetches and parses the metrics at u.
func scrapeURL(t *testing.T, u string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return fams
}

// counter is the value of the family's first counter with these labels
// (among others); 0 when there is none.
func counter(f *dto.MetricFamily, labels map[string]string) float64 {
	for _, m := range f.GetMetric() {
		if hasSample(&dto.MetricFamily{Metric: []*dto.Metric{m}}, labels) {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// hasSample reports whether the family has a sample with these labels
// (among others).
func hasSample(f *dto.MetricFamily, labels map[string]string) bool {
	for _, m := range f.GetMetric() {
		found := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				found++
			}
		}
		if found == len(labels) {
			return true
		}
	}
	return false
}

func TestServeWithoutMetricsOrTracing(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:"})
	s.do(t, "GET", "/api/v1/utils/health-check/", "", nil, "")
	if out := s.out.String(); strings.Contains(out, "Metrics") || strings.Contains(out, "Traces") {
		t.Fatalf("the banner names metrics or traces that are off:\n%s", out)
	}
}

// collector is an OTLP/HTTP endpoint that keeps the spans it is sent.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func TestServeTracing(t *testing.T) {
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	s := startServe(t, map[string]string{
		"DATABASE_URL":                sqliteURL(t),
		"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL,
		"FIRST_SUPERUSER":             "admin@example.com",
		"FIRST_SUPERUSER_PASSWORD":    "a long enough pass",
	})
	tok := s.login(t, "admin@example.com", "a long enough pass")
	req, _ := http.NewRequest("GET", s.base+"/api/v1/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := s.stop(); err != nil { // sends the last spans
		t.Fatal(err)
	}
	if want := "Traces (OpenTelemetry): sent over OTLP/HTTP to " + srv.URL + "/v1/traces\n"; !strings.Contains(s.out.String(), want) {
		t.Errorf("the banner lacks %q:\n%s", want, s.out.String())
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	var request *tracepb.Span
	for _, sp := range col.spans {
		if sp.GetName() == "GET /users/me" {
			request = sp
		}
	}
	if request == nil {
		t.Fatalf("no span of GET /users/me among %d", len(col.spans))
	}
	if caller, _ := hex.DecodeString("00f067aa0ba902b7"); !bytes.Equal(request.GetParentSpanId(), caller) {
		t.Errorf("the request span's parent is %x, not the caller's span", request.GetParentSpanId())
	}
	var queries []string
	for _, sp := range col.spans {
		if slices.Equal(sp.GetParentSpanId(), request.GetSpanId()) {
			queries = append(queries, sp.GetName())
		}
	}
	if len(queries) == 0 {
		t.Errorf("the request span has no query spans under it")
	}
}

// logLine is one line of keel's log, in either format, as key=value
// strings; numbers stay numbers only in nums.
type logLine struct {
	fields map[string]string
	nums   map[string]float64
}

// parseLogs reads JSON lines, or text lines (key=value, with quoted values).
func parseLogs(t *testing.T, format, out string) []logLine {
	t.Helper()
	var lines []logLine
	textField := regexp.MustCompile(`([a-z_.]+)=("(?:[^"\\]|\\.)*"|\S*)`)
	for raw := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		l := logLine{fields: map[string]string{}, nums: map[string]float64{}}
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				t.Fatalf("not a JSON line: %s", raw)
			}
			for k, v := range m {
				switch v := v.(type) {
				case float64:
					l.nums[k] = v
					l.fields[k] = strconv.FormatFloat(v, 'f', -1, 64)
				case string:
					l.fields[k] = v
				}
			}
		} else {
			for _, m := range textField.FindAllStringSubmatch(raw, -1) {
				v := m[2]
				if uq, err := strconv.Unquote(v); err == nil {
					v = uq
				} else if n, err := strconv.ParseFloat(v, 64); err == nil {
					l.nums[m[1]] = n
				}
				l.fields[m[1]] = v
			}
		}
		lines = append(lines, l)
	}
	return lines
}

func TestServeLogs(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run("in "+format, func(t *testing.T) {
			s := startServe(t, map[string]string{
				"DATABASE_URL":             "memory:",
				"KEEL_LOG_FORMAT":          format,
				"ENVIRONMENT":              "local",
				"FIRST_SUPERUSER":          "admin@example.com",
				"FIRST_SUPERUSER_PASSWORD": "a long enough pass",
			})
			s.do(t, "GET", "/api/v1/utils/health-check/", "", nil, "")
			tok := s.login(t, "admin@example.com", "a long enough pass")
			s.do(t, "GET", "/api/v1/users/me", tok, nil, "")
			req, _ := http.NewRequest("POST", s.base+"/api/v1/password-recovery/admin@example.com", nil)
			req.Header.Set("X-Request-ID", "recovery-"+format)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			lines := parseLogs(t, format, s.log.String())
			find := func(t *testing.T, match func(l logLine) bool) logLine {
				t.Helper()
				for _, l := range lines {
					if match(l) {
						return l
					}
				}
				t.Fatalf("no such line in:\n%s", s.log.String())
				return logLine{}
			}
			t.Run("the access line names the client and the user, with a duration in milliseconds", func(t *testing.T) {
				l := find(t, func(l logLine) bool { return l.fields["route"] == "GET /users/me" })
				if l.fields["client"] != "127.0.0.1" || l.fields["user_id"] == "" || l.fields["request_id"] == "" || l.fields["status"] != "200" {
					t.Fatalf("access line %v", l.fields)
				}
				if _, ok := l.nums["duration_ms"]; !ok {
					t.Fatalf("duration_ms is not a number: %v", l.fields)
				}
			})
			t.Run("a line logged while serving a request carries its id", func(t *testing.T) {
				l := find(t, func(l logLine) bool { return strings.HasPrefix(l.fields["msg"], "smtpmail: ") })
				if l.fields["request_id"] != "recovery-"+format {
					t.Fatalf("line %v", l.fields)
				}
			})
			t.Run("the liveness probe is not logged at info level", func(t *testing.T) {
				for _, l := range lines {
					if strings.Contains(l.fields["route"], "health-check") {
						t.Fatalf("logged: %v", l.fields)
					}
				}
			})
			t.Run("other durations are milliseconds too", func(t *testing.T) {
				l := find(t, func(l logLine) bool { return l.fields["msg"] == "shutting down" })
				if l.nums["timeout_ms"] != 25000 {
					t.Fatalf("line %v", l.fields)
				}
			})
		})
	}
}
