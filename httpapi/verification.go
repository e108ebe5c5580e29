package httpapi

import (
	"net/http"

	"github.com/keel-dev/keel"
)

// tokenBody is the body of POST /verify-email/ and POST /confirm-email/:
// the token a link carried.
type tokenBody struct {
	Token string `json:"token" required:"true"`
}

// verificationPath is the path parameter of POST /email-verification/{email}.
type verificationPath struct {
	Email string `path:"email"`
}

const (
	msgVerificationSent = "If that email is registered and not yet verified, we sent a verification link"
	msgEmailVerified    = "Email verified"
	msgEmailChanged     = "Email changed"
)

// requestVerification serves POST /email-verification/{email}: always the
// same 200, whether or not the account exists, is verified already, or
// mail could be sent, except 429 when the client is over the rate limit.
func requestVerification(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	err := a.svc.RequestVerification(r.Context(), keel.VerificationRequest{Email: r.PathValue("email"), ClientAddr: a.clientAddr(r)})
	if err != nil {
		if keel.ErrorCode(err) == keel.RateLimited {
			return err
		}
		a.log.ErrorContext(r.Context(), "httpapi: a verification request failed",
			"request_id", RequestIDFrom(r.Context()), "err", err)
	}
	writeJSON(w, http.StatusOK, message{msgVerificationSent})
	return nil
}

// verifyEmail serves POST /verify-email/.
func verifyEmail(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in tokenBody
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := a.svc.VerifyEmail(r.Context(), in.Token); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{msgEmailVerified})
	return nil
}

// confirmEmail serves POST /confirm-email/: the link of an email change.
func confirmEmail(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in tokenBody
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := a.svc.ConfirmEmailChange(r.Context(), in.Token); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{msgEmailChanged})
	return nil
}
