package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// Metrics counts what keel does: it is an httpapi.Observer for requests
// (requests.go) and an after hook, Count, for account events (events.go).
// Make one with New and register it on a prometheus.Registerer; its
// methods are safe for concurrent use.
type Metrics struct {
	requests *prometheus.HistogramVec

	// observers caches requests' children by route and status, so that
	// observing a request allocates nothing.
	mu        sync.RWMutex
	observers map[requestKey]prometheus.Observer

	logins          *prometheus.CounterVec
	secondFactors   *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
	sessionsStarted prometheus.Counter
	sessionsEnded   *prometheus.CounterVec
}

var (
	_ prometheus.Collector = (*Metrics)(nil)
	_ httpapi.Observer     = (*Metrics)(nil)
	_ keel.AfterHook       = (*Metrics)(nil).Count
)

// New returns keel's metrics, at zero. Every label value the event
// metrics can take is there from the start, at zero, so that a rate over
// them works before the first event.
func New() *Metrics {
	m := &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "keel",
			Name:      "http_request_duration_seconds",
			Help:      "Time to answer an HTTP request, by route pattern (\"unmatched\" when no route matched) and status. Its _count is the number of requests.",
			// Finer than Prometheus's defaults below 5 ms, where most of
			// keel's answers are.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		observers: map[requestKey]prometheus.Observer{},
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "keel",
			Name:      "logins_total",
			Help:      "Password checks by outcome: succeeded (a login that started a session), challenged (a right password of a user with a second factor: see keel_second_factors_total), or failed, with keel's reason (unknown_email, wrong_password, inactive_user, email_not_verified, password_out_of_range; password_check for the current password given to change it). Attempts a rate limit refused are keel_rate_limited_total.",
		}, []string{"outcome", "reason"}),
		secondFactors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "keel",
			Name:      "second_factors_total",
			Help:      "Second factors given, by outcome: succeeded, with the factor (totp_code, recovery_code), or failed, with keel's reason (wrong_code, used_code, wrong_recovery_code, invalid_challenge, second_factor_removed).",
		}, []string{"outcome", "reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "keel",
			Name:      "rate_limited_total",
			Help:      "Attempts a rate limit refused, by limit: login_per_account, login_per_address, login_per_device, password_per_session (a session's guesses of its current password), recovery_per_address, recovery_per_account, verification_per_address, verification_per_account, second_factor_per_account.",
		}, []string{"limit"}),
		sessionsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "keel",
			Name:      "sessions_started_total",
			Help:      "Sessions started by a login.",
		}),
		sessionsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "keel",
			Name:      "sessions_ended_total",
			Help:      "Sessions ended before they expired: by a logout (logout), or (revoked) by the user ending sessions from its list, a login past the most sessions per user, a password change or reset, a deactivation or a deletion.",
		}, []string{"how"}),
	}
	m.logins.WithLabelValues(outcomeSucceeded, "")
	m.logins.WithLabelValues(outcomeChallenged, "")
	for _, r := range []string{keel.ReasonUnknownEmail, keel.ReasonWrongPassword, keel.ReasonInactiveUser, keel.ReasonEmailNotVerified, keel.ReasonPasswordOutOfRange, keel.ReasonPasswordCheck} {
		m.logins.WithLabelValues(outcomeFailed, r)
	}
	for _, r := range []string{keel.ReasonTOTPCode, keel.ReasonRecoveryCode} {
		m.secondFactors.WithLabelValues(outcomeSucceeded, r)
	}
	for _, r := range []string{keel.ReasonWrongCode, keel.ReasonUsedCode, keel.ReasonWrongRecoveryCode, keel.ReasonInvalidChallenge, keel.ReasonSecondFactorRemoved} {
		m.secondFactors.WithLabelValues(outcomeFailed, r)
	}
	for _, l := range []string{keel.ReasonLoginAccount, keel.ReasonLoginAddress, keel.ReasonLoginDevice, keel.ReasonPasswordSession, keel.ReasonRecoveryAddress, keel.ReasonRecoveryAccount,
		keel.ReasonVerificationAddress, keel.ReasonVerificationAccount, keel.ReasonSecondFactorAccount} {
		m.rateLimited.WithLabelValues(l)
	}
	m.sessionsEnded.WithLabelValues(endedByLogout)
	m.sessionsEnded.WithLabelValues(endedByRevocation)
	return m
}

// Describe sends the descriptions of the metrics.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.logins.Describe(ch)
	m.secondFactors.Describe(ch)
	m.rateLimited.Describe(ch)
	m.sessionsStarted.Describe(ch)
	m.sessionsEnded.Describe(ch)
}

// Collect sends the metrics' values.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.logins.Collect(ch)
	m.secondFactors.Collect(ch)
	m.rateLimited.Collect(ch)
	m.sessionsStarted.Collect(ch)
	m.sessionsEnded.Collect(ch)
}
