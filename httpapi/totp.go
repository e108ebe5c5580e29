package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/keel-dev/keel"
)

// loginChallenge is the 403 answer of POST /login/access-token for a user
// with a second factor: a challenge, never an access token.
type loginChallenge struct {
	Detail    string    `json:"detail" required:"true"`
	Challenge string    `json:"challenge,omitempty" description:"Present when a second factor is required: give it to POST /login/two-factor with a code."`
	ExpiresAt time.Time `json:"expires_at,omitzero" description:"When the challenge stops working."`
}

// codeBody is a TOTP code.
type codeBody struct {
	Code string `json:"code" required:"true" description:"A six-digit code from the authenticator app."`
}

// totpStatus is the answer of GET /users/me/totp.
type totpStatus struct {
	Enabled           bool `json:"enabled" required:"true"`
	Pending           bool `json:"pending" required:"true"`
	RecoveryCodesLeft int  `json:"recovery_codes_left" required:"true" minimum:"0"`
}

// totpEnrolment is the answer of POST /users/me/totp: what an
// authenticator app needs.
type totpEnrolment struct {
	Secret string `json:"secret" required:"true" description:"The shared secret in base32, for typing in."`
	URI    string `json:"uri" required:"true" description:"The otpauth:// URI authenticator apps read."`
	QRCode string `json:"qr_code" required:"true" description:"The URI as a QR code: a data:image/png;base64 URL."`
}

// recoveryCodes is the answer of the routes that make recovery codes.
type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes" required:"true" nullable:"false" description:"Shown once; each works once."`
}

// totpRoutes returns the routes of two-factor authentication, served when
// users can enrol (a TOTP key is configured).
func totpRoutes() []route {
	return []route{
		{method: "POST", path: "/login/two-factor/passkey/options", tag: "login", operation: "login_two_factor_passkey_options", serve: passkeySecondFactorOptions,
			summary: "Begin completing a login challenge with a passkey: the options for navigator.credentials.get",
			doc:     opDoc{body: challengeBody{}, status: 200, response: passkeyCeremony{}, errorStatuses: []int{400, 404}}},
		{method: "POST", path: "/login/two-factor/passkey", tag: "login", operation: "login_two_factor_passkey", serve: passkeySecondFactor,
			summary: "Complete a login challenge with a passkey: the browser's answer for an access token",
			doc:     opDoc{body: keel.PasskeySecondFactorInput{}, status: 200, response: accessToken{}, errorStatuses: []int{400, 404, 429}}},
		{method: "POST", path: "/login/two-factor", tag: "login", operation: "login_two_factor", serve: loginTwoFactor,
			summary: "Complete a login with a second factor: the challenge and a TOTP or recovery code",
			doc:     opDoc{body: keel.SecondFactorInput{}, status: 200, response: accessToken{}, errorStatuses: []int{400, 429}}},
		{method: "GET", path: "/users/me/totp", tag: "users", operation: "read_totp", access: requireUser, serve: readTOTP,
			summary: "Whether the current user's second factor is on", doc: opDoc{status: 200, response: totpStatus{}}},
		{method: "POST", path: "/users/me/totp", tag: "users", operation: "enrol_totp", access: requireUser, serve: enrolTOTP,
			summary: "Start TOTP enrolment: a secret, its otpauth URI and QR code", doc: opDoc{status: 200, response: totpEnrolment{}, errorStatuses: []int{409}}},
		{method: "POST", path: "/users/me/totp/confirm", tag: "users", operation: "confirm_totp", access: requireUser, serve: confirmTOTP,
			summary: "Turn TOTP on with a current code; answers the recovery codes, once", doc: opDoc{body: codeBody{}, status: 200, response: recoveryCodes{}, errorStatuses: []int{409, 429}}},
		{method: "POST", path: "/users/me/totp/recovery-codes", tag: "users", operation: "regenerate_recovery_codes", access: requireUser, serve: regenerateRecoveryCodes,
			summary: "Replace the recovery codes, given a current code", doc: opDoc{body: codeBody{}, status: 200, response: recoveryCodes{}, errorStatuses: []int{404, 429}}},
		{method: "POST", path: "/users/me/totp/disable", tag: "users", operation: "disable_totp", access: requireUser, serve: disableTOTP,
			summary: "Turn TOTP off, given the password and a code", doc: opDoc{body: keel.DisableTOTPInput{}, status: 200, response: message{}, errorStatuses: []int{404, 429}}},
		{method: "DELETE", path: "/users/{user_id}/totp", tag: "users", operation: "remove_totp", access: requireSuperuser, fieldLocation: "path", serve: removeTOTP,
			summary: "Remove a user's second factor", doc: opDoc{params: userIDPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},
	}
}

const (
	msgSecondFactorRequired = "Two-factor authentication required"
	msgTOTPDisabled         = "Two-factor authentication disabled"
	msgTOTPRemoved          = "Two-factor authentication removed"
)

// loginDoc describes POST /login/access-token: a 403 carries a login
// challenge when users can have a second factor, or refuses an
// unverified address when verification is required.
func (a *api) loginDoc() opDoc {
	return a.signInDoc(opDoc{form: loginForm{}, status: 200, response: accessToken{}, errorStatuses: []int{400, 429}})
}

// signInDoc adds to d, of a route that signs a user in (a password, a
// login code, a passkey), the 403 a user with a second factor or an
// unverified address gets.
func (a *api) signInDoc(d opDoc) opDoc {
	if a.svc.TOTPAvailable() || a.svc.Config().EmailVerification == keel.VerificationRequired {
		d.errorStatuses = append(d.errorStatuses, http.StatusForbidden)
		d.errorBodies = map[int]any{http.StatusForbidden: loginChallenge{}}
	}
	return d
}

// answerChallenge writes the 403 that carries a login challenge, and
// reports whether err was one.
func answerChallenge(w http.ResponseWriter, err error) bool {
	var ch *keel.Challenge
	if !errors.As(err, &ch) {
		return false
	}
	writeJSON(w, http.StatusForbidden, loginChallenge{Detail: msgSecondFactorRequired, Challenge: ch.Token, ExpiresAt: ch.ExpiresAt.UTC()})
	return true
}

// loginTwoFactor serves POST /login/two-factor: a challenge and a code
// give the Token (and the session cookie) that a password login gives a
// user without a second factor.
func loginTwoFactor(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in keel.SecondFactorInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	in.ClientAddr = a.clientAddr(r)
	sess, err := a.svc.CompleteLogin(r.Context(), in)
	if err != nil {
		return err
	}
	a.writeSession(w, sess)
	return nil
}

// readTOTP serves GET /users/me/totp.
func readTOTP(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	st, err := a.svc.TOTPStatus(r.Context(), sess.User)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpStatus{Enabled: st.Enabled, Pending: st.Pending, RecoveryCodesLeft: st.RecoveryCodesLeft})
	return nil
}

// enrolTOTP serves POST /users/me/totp.
func enrolTOTP(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	en, err := a.svc.EnrolTOTP(r.Context(), sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpEnrolment{
		Secret: en.Secret,
		URI:    en.URI,
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCode),
	})
	return nil
}

// confirmTOTP serves POST /users/me/totp/confirm.
func confirmTOTP(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in codeBody
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	codes, err := a.svc.ConfirmTOTP(r.Context(), sess, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryCodes{codes})
	return nil
}

// regenerateRecoveryCodes serves POST /users/me/totp/recovery-codes.
func regenerateRecoveryCodes(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in codeBody
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	codes, err := a.svc.RegenerateRecoveryCodes(r.Context(), sess, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryCodes{codes})
	return nil
}

// disableTOTP serves POST /users/me/totp/disable.
func disableTOTP(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.DisableTOTPInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.DisableTOTP(r.Context(), sess, in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{msgTOTPDisabled})
	return nil
}

// removeTOTP serves DELETE /users/{user_id}/totp.
func removeTOTP(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	if err := a.svc.RemoveTOTP(r.Context(), sess.User, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{msgTOTPRemoved})
	return nil
}
