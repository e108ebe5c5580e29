package httpapi

import (
	"net/http"

	"github.com/keel-dev/keel"
)

// healthCheck serves GET /utils/health-check/: the process is up.
func healthCheck(_ *api, w http.ResponseWriter, _ *http.Request, _ *keel.Session) error {
	writeJSON(w, http.StatusOK, true)
	return nil
}

// ready serves GET /utils/ready: 200 true when the store answers, 503
// otherwise.
func ready(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	if err := a.svc.Ready(r.Context()); err != nil {
		return keel.Wrap(err, keel.Unavailable, "")
	}
	writeJSON(w, http.StatusOK, true)
	return nil
}

// testEmail serves POST /utils/test-email/?email_to=.
func testEmail(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	q := r.URL.Query()
	if !q.Has("email_to") {
		return invalid(validationError{Type: "missing", Loc: []any{"query", "email_to"}, Msg: "Field required", Input: nil})
	}
	if err := a.svc.SendTestEmail(r.Context(), sess.User, q.Get("email_to")); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, message{"Test email sent"})
	return nil
}
