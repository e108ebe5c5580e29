package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/keel-dev/keel"
)

// accessToken is the answer of a successful login.
type accessToken struct {
	AccessToken string `json:"access_token" required:"true"`
	TokenType   string `json:"token_type" required:"true" enum:"bearer"`
}

// message is a plain confirmation.
type message struct {
	Message string `json:"message" required:"true"`
}

// loginForm is the OAuth2 password-flow form of POST /login/access-token.
type loginForm struct {
	GrantType    string `formData:"grant_type" pattern:"^password$"`
	Username     string `formData:"username" required:"true"`
	Password     string `formData:"password" required:"true" format:"password"`
	Scope        string `formData:"scope" default:""`
	ClientID     string `formData:"client_id"`
	ClientSecret string `formData:"client_secret" format:"password"`
}

// recoveryPath is the path parameter of POST /password-recovery/{email}.
type recoveryPath struct {
	Email string `path:"email"`
}

const msgRecovery = "If that email is registered, we sent a password recovery link"

// login serves POST /login/access-token.
func login(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	form, err := a.decodeLoginForm(w, r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	sess, err := a.svc.Login(r.Context(), keel.LoginInput{Email: form.Username, Password: form.Password,
		ClientAddr: a.clientAddr(r), DeviceToken: a.deviceToken(r)})
	if answerChallenge(w, err) {
		return nil
	}
	if err != nil {
		return err
	}
	a.writeSession(w, sess)
	return nil
}

// writeSession answers a sign-in (a password, a login code, a passkey):
// the session cookie, and the token as the template's login answers it.
func (a *api) writeSession(w http.ResponseWriter, sess *keel.Session) {
	a.auth.setCookie(w, sess)
	a.setDeviceCookie(w, sess.DeviceToken)
	writeJSON(w, http.StatusOK, accessToken{AccessToken: sess.Token, TokenType: "bearer"})
}

// decodeLoginForm reads the urlencoded login form: 415 for another content
// type, 413 past the body limit, 408 for a body too slow to arrive, 422 for
// missing fields or a grant_type other than "password".
func (a *api) decodeLoginForm(w http.ResponseWriter, r *http.Request) (loginForm, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return loginForm{}, &requestError{status: http.StatusUnsupportedMediaType, detail: msgUnsupportedMedia}
	}
	body, err := readBody(w, r, a.cfg.MaxBodyBytes)
	if err != nil {
		return loginForm{}, err
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return loginForm{}, invalid(validationError{Type: "value_error", Loc: []any{"body"}, Msg: "The form could not be parsed", Input: nil})
	}
	f := loginForm{
		GrantType:    vals.Get("grant_type"),
		Username:     vals.Get("username"),
		Password:     vals.Get("password"),
		Scope:        vals.Get("scope"),
		ClientID:     vals.Get("client_id"),
		ClientSecret: vals.Get("client_secret"),
	}
	var bad []validationError
	if f.Username == "" {
		bad = append(bad, validationError{Type: "missing", Loc: []any{"body", "username"}, Msg: "Field required", Input: nil})
	}
	if f.Password == "" {
		bad = append(bad, validationError{Type: "missing", Loc: []any{"body", "password"}, Msg: "Field required", Input: nil})
	}
	if vals.Has("grant_type") && f.GrantType != "password" {
		bad = append(bad, validationError{Type: "string_pattern_mismatch", Loc: []any{"body", "grant_type"},
			Msg: "String should match pattern '^password$'", Input: f.GrantType})
	}
	if len(bad) > 0 {
		return loginForm{}, invalid(bad...)
	}
	return f, nil
}

// testToken serves POST /login/test-token.
func testToken(a *api, w http.ResponseWriter, _ *http.Request, sess *keel.Session) error {
	writeJSON(w, http.StatusOK, a.userPublic(sess.User))
	return nil
}

// logout serves POST /logout: the session ends at once, for both
// transports, and the cookie is cleared.
func logout(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	if err := a.svc.Logout(r.Context(), sess.Token); err != nil {
		return err
	}
	a.auth.clearCookie(w)
	writeJSON(w, http.StatusOK, message{msgLoggedOut})
	return nil
}

// recoverPassword serves POST /password-recovery/{email}: the same 200
// whether or not the account exists or mail could be sent; 429 when the
// client is over the rate limit, 503 when the store is down.
func recoverPassword(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	err := a.svc.RequestPasswordReset(r.Context(), keel.RecoveryInput{Email: r.PathValue("email"), ClientAddr: a.clientAddr(r)})
	if errors.Is(err, keel.ErrNoMailer) {
		// Mail that cannot go out is the program's to fix, as a mail that
		// fails later is: the client gets the answer a sent one gets.
		a.log.ErrorContext(r.Context(), "httpapi: password recovery failed", "err", err)
		err = nil
	}
	if err != nil {
		// 429 over the limit, 503 when the store is down, a program's
		// refusal: none depends on whether the account exists.
		return err
	}
	writeJSON(w, http.StatusOK, message{msgRecovery})
	return nil
}

// resetPassword serves POST /reset-password/.
func resetPassword(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in keel.ResetPasswordInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.ResetPassword(r.Context(), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Password updated successfully"})
	return nil
}
