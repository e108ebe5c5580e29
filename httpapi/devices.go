package httpapi

import (
	"net/http"
	"time"
)

// The device cookie keeps the device token of the browser's last login
// (see keel.LoginInput): presented at its next login to that account, it
// lets the browser in while strangers' guesses have locked the account out.
// It is HttpOnly, SameSite=Strict (a login another site submits from the
// browser comes untrusted), and lasts the 400 days browsers keep a cookie
// at most; every login replaces it.
const deviceCookieLifetime = 400 * 24 * time.Hour

// deviceToken is the device token the request presents; "" when none.
func (a *api) deviceToken(r *http.Request) string {
	c, err := r.Cookie(a.cfg.DeviceCookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

func (a *api) setDeviceCookie(w http.ResponseWriter, token string) {
	if token == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     a.cfg.DeviceCookieName,
		Value:    token,
		Path:     "/",
		Expires:  time.Now().Add(deviceCookieLifetime).UTC(),
		MaxAge:   int(deviceCookieLifetime.Seconds()),
		HttpOnly: true,
		Secure:   !a.cfg.Development,
		SameSite: http.SameSiteStrictMode,
	})
}
