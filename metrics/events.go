package metrics

import (
	"context"

	"github.com/keel-dev/keel"
)

// Count counts an account event: logins by outcome, second factors by
// outcome, rate-limit refusals, sessions started and ended. It is a
// keel.AfterHook; give it to keel.Config.Hooks.After. keel calls it on a
// goroutine of its own once the operation has committed (a refusal, such
// as a failed login, too), so counting never delays a request.
func (m *Metrics) Count(_ context.Context, e keel.Event) {
	switch e.Kind {
	case keel.EventLoginSucceeded:
		m.logins.WithLabelValues(outcomeSucceeded, "").Inc()
		m.sessionsStarted.Inc()
	case keel.EventLoginFailed:
		m.logins.WithLabelValues(outcomeFailed, e.Reason).Inc()
	case keel.EventLoginChallenged:
		m.logins.WithLabelValues(outcomeChallenged, "").Inc()
	case keel.EventSecondFactorSucceeded:
		m.secondFactors.WithLabelValues(outcomeSucceeded, e.Reason).Inc()
	case keel.EventSecondFactorFailed:
		m.secondFactors.WithLabelValues(outcomeFailed, e.Reason).Inc()
	case keel.EventRateLimited:
		m.rateLimited.WithLabelValues(e.Reason).Inc()
	case keel.EventLoggedOut:
		m.sessionsEnded.WithLabelValues(endedByLogout).Add(float64(e.Sessions))
	case keel.EventSessionsEnded:
		m.sessionsEnded.WithLabelValues(endedByRevocation).Add(float64(e.Sessions))
	}
}

// The label values of the event metrics. Reasons and limits are keel's
// own (keel.Reason*), never a client's input.
const (
	outcomeSucceeded  = "succeeded"
	outcomeChallenged = "challenged"
	outcomeFailed     = "failed"
	endedByLogout     = "logout"
	endedByRevocation = "revoked"
)
