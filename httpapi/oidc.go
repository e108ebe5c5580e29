package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// providerList is the answer of GET /login/providers.
type providerList struct {
	Providers []string `json:"providers" required:"true" nullable:"false"`
}

// providerPath is the path parameter of the provider sign-in routes.
type providerPath struct {
	Provider string `path:"provider" description:"The provider's name, as GET /login/providers lists it."`
}

// providerCallbackQuery is what the provider sends the browser back with.
type providerCallbackQuery struct {
	Provider         string `path:"provider"`
	State            string `query:"state"`
	Code             string `query:"code"`
	Error            string `query:"error"`
	ErrorDescription string `query:"error_description"`
}

// loginCode is the answer of a provider's callback when no
// LoginRedirectURL is configured, and the body of POST /login/oidc/token.
type loginCode struct {
	Code string `json:"code" required:"true" description:"A single-use login code, valid for a minute."`
}

// redirect is the answer of a route that sends the browser elsewhere.
type redirect struct {
	Location string `header:"Location" format:"uri"`
}

// identityPublic is a linked provider account as the API shows it.
type identityPublic struct {
	ID        uuid.UUID `json:"id" required:"true" format:"uuid"`
	Provider  string    `json:"provider" required:"true"`
	Email     string    `json:"email" required:"true" description:"The address the provider gave when the account was linked."`
	CreatedAt time.Time `json:"created_at" required:"true"`
}

// identitiesPublic lists a user's linked provider accounts.
type identitiesPublic struct {
	Data  []identityPublic `json:"data" required:"true" nullable:"false"`
	Count int              `json:"count" required:"true" minimum:"0"`
}

// identityIDPath is the path parameter of DELETE /users/me/identities/{id}.
type identityIDPath struct {
	ID uuid.UUID `path:"id" format:"uuid"`
}

// providerStateMaxAge is how long the browser keeps the state cookie: as
// long as keel keeps the sign-in.
const providerStateMaxAge = 10 * time.Minute

// stateCookieName is the cookie that ties a provider sign-in to the
// browser that began it.
func (a *api) stateCookieName() string { return a.cfg.CookieName + "_oidc" }

// listProviders serves GET /login/providers.
func listProviders(a *api, w http.ResponseWriter, _ *http.Request, _ *keel.Session) error {
	writeJSON(w, http.StatusOK, providerList{Providers: a.svc.Providers()})
	return nil
}

// beginProviderLogin serves GET /login/oidc/{provider}: it sends the
// browser to the provider, and keeps the sign-in's state in a cookie so
// that only this browser can finish it.
func beginProviderLogin(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	w.Header().Set("Cache-Control", "no-store")
	authURL, state, err := a.svc.BeginProviderLogin(r.Context(), r.PathValue("provider"))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     a.stateCookieName(),
		Value:    state,
		Path:     "/",
		MaxAge:   int(providerStateMaxAge.Seconds()),
		HttpOnly: true,
		Secure:   !a.cfg.Development,
		// Lax: the provider's redirect back is a top-level navigation from
		// another site, which must carry it.
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// providerCallback serves GET /login/oidc/{provider}/callback. The state
// must be the one in the browser's cookie: a callback URL an attacker got
// for their own account and slipped to a victim (login CSRF) is refused.
// With a LoginRedirectURL the browser goes there, with a login code or an
// error in the URL's fragment (never sent to a server, never in a Referer);
// without one the answer is the code as JSON, or the error.
func providerCallback(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	in := keel.ProviderCallback{Provider: r.PathValue("provider"), State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}
	var (
		code string
		err  error
	)
	c, cerr := r.Cookie(a.stateCookieName())
	http.SetCookie(w, &http.Cookie{Name: a.stateCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: !a.cfg.Development, SameSite: http.SameSiteLaxMode})
	if cerr != nil || in.State == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(in.State)) != 1 {
		err = keel.ErrInvalidProviderState
	} else {
		code, err = a.svc.FinishProviderLogin(r.Context(), in)
	}
	if a.cfg.LoginRedirectURL == "" {
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, loginCode{Code: code})
		return nil
	}
	frag := url.Values{}
	if err != nil {
		rt := route{method: r.Method, path: "/login/oidc/{provider}/callback", tag: "login", operation: "provider_callback"}
		status, body, _ := errorResponse(rt, err)
		if status >= 500 {
			a.log.Log(r.Context(), levelOf(status), "httpapi: provider sign-in failed", "status", status, "err", err)
		}
		frag.Set("error", callbackErrorKind(err, status))
		if he, ok := body.(httpError); ok {
			frag.Set("error_description", he.Detail)
		}
	} else {
		frag.Set("code", code)
	}
	// The configured URL (checked by New: no fragment of its own), and
	// nothing from the request but the fragment keel writes.
	http.Redirect(w, r, a.cfg.LoginRedirectURL+"#"+frag.Encode(), http.StatusSeeOther)
	return nil
}

// callbackErrorKinds are the machine-readable error words a frontend gets
// in the fragment after a failed provider sign-in.
var callbackErrorKinds = []struct {
	err  *keel.Error
	kind string
}{
	{keel.ErrInvalidProviderState, "invalid_state"},
	{keel.ErrProviderDenied, "access_denied"},
	{keel.ErrProviderRefused, "provider_refused"},
	{keel.ErrProviderEmailUnverified, "email_not_verified"},
	{keel.ErrAccountNotLinked, "account_exists"},
	{keel.ErrUnknownProvider, "unknown_provider"},
	{keel.ErrInactiveUser, "inactive_user"},
}

func callbackErrorKind(err error, status int) string {
	for _, k := range callbackErrorKinds {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	if status == http.StatusServiceUnavailable {
		return "temporarily_unavailable"
	}
	return "server_error"
}

// redeemLoginCode serves POST /login/oidc/token: a login code for a
// session, answered as POST /login/access-token answers a password (a 403
// with a challenge for a user with a second factor).
func redeemLoginCode(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in loginCode
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	sess, err := a.svc.RedeemLoginCode(r.Context(), in.Code)
	if answerChallenge(w, err) {
		return nil
	}
	if err != nil {
		return err
	}
	a.writeSession(w, sess)
	return nil
}

// readIdentities serves GET /users/me/identities.
func readIdentities(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	ids, err := a.svc.Identities(r.Context(), sess.User)
	if err != nil {
		return err
	}
	out := identitiesPublic{Data: make([]identityPublic, len(ids)), Count: len(ids)}
	for i, id := range ids {
		out.Data[i] = identityPublic{ID: id.ID, Provider: id.Provider, Email: id.Email, CreatedAt: id.CreatedAt.UTC()}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unlinkIdentity serves DELETE /users/me/identities/{id}.
func unlinkIdentity(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	if err := a.svc.UnlinkIdentity(r.Context(), sess.User, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Identity unlinked"})
	return nil
}

// CheckLoginRedirectURL reports whether raw may be Config.LoginRedirectURL:
// an absolute http(s) URL without a fragment, which keel fills in.
func CheckLoginRedirectURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return errors.New("not an absolute http(s) URL")
	case u.Fragment != "":
		return errors.New("has a fragment; keel writes the fragment")
	}
	return nil
}
