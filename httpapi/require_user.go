package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/keel-dev/keel"
)

// Auth authenticates requests with keel's sessions, for keel's own routes
// and for a host program's: RequireUser, RequireSuperuser and OptionalUser
// are middleware for any http.Handler on any mux, and SessionFrom and
// UserFrom read the result in the handler. They follow the rules of
// keel's routes, with one implementation:
//
//   - The token comes from "Authorization: Bearer <token>" or the session
//     cookie (Config.CookieName); the bearer token decides when both are
//     there. A token in the URL is never looked at. A personal API token
//     (keel_pat_...) is taken as a bearer token only, and keel enforces
//     its scope on every call the handler makes with the session's user.
//   - An unsafe request (POST, PUT, PATCH, DELETE) authenticated by the
//     cookie must pass Go's http.CrossOriginProtection, which trusts the
//     request's own origin and Config.CORSOrigins; otherwise 403.
//   - An answer to a request with credentials carries Cache-Control:
//     no-store.
//   - A store that fails answers 503, never "anonymous".
//   - A deactivated user is refused (400 "Inactive user", as keel's routes).
//   - A cookie keel no longer accepts is cleared; with Config's idle
//     timeout in force, a cookie that was used is renewed.
//
// Refusals answer keel's JSON errors (401 with WWW-Authenticate: Bearer,
// 403), unless WithUnauthenticated or WithForbidden give handlers of the
// host's own (a redirect to a login page, for an HTML application);
// AuthErrorFrom tells such a handler why. Store failures always answer 503.
type Auth struct {
	svc             *keel.Service
	cfg             Config
	crossOrigin     *http.CrossOriginProtection // of cookie-authenticated requests
	unauthenticated http.Handler                // nil: keel's JSON error
	forbidden       http.Handler                // nil: keel's JSON error
}

// AuthOption tunes NewAuth.
type AuthOption func(*Auth)

// WithUnauthenticated makes h answer the requests RequireUser and
// RequireSuperuser refuse for want of a valid session: no credentials,
// credentials that are unknown, expired or revoked, or a deactivated user.
func WithUnauthenticated(h http.Handler) AuthOption {
	return func(a *Auth) { a.unauthenticated = h }
}

// WithForbidden makes h answer the requests refused with a valid session:
// a user who is not a superuser (RequireSuperuser), and cookie-authenticated
// unsafe requests from another origin.
func WithForbidden(h http.Handler) AuthOption {
	return func(a *Auth) { a.forbidden = h }
}

// NewAuth returns the authenticator of svc's sessions for a host's own
// routes. Give it the Config given to New: it reads CookieName,
// CORSOrigins, TrustedProxies, Development (the Secure attribute of the
// cookies it clears) and Logger.
//
//	auth := httpapi.NewAuth(svc, cfg)
//	mux.Handle("GET /notes", auth.RequireUser(http.HandlerFunc(listNotes)))
//
//	func listNotes(w http.ResponseWriter, r *http.Request) {
//		user := httpapi.UserFrom(r.Context())
//		...
//	}
//
// NewAuth panics, as New does, when http.CrossOriginProtection refuses one
// of cfg.CORSOrigins (other than "*") as an origin.
func NewAuth(svc *keel.Service, cfg Config, opts ...AuthOption) *Auth {
	cfg = cfg.withDefaults()
	cfg.Logger = withRequestIDs(cfg.Logger)
	a := &Auth{svc: svc, cfg: cfg, crossOrigin: http.NewCrossOriginProtection()}
	for _, o := range cfg.CORSOrigins {
		if o == "*" {
			continue
		}
		if err := a.crossOrigin.AddTrustedOrigin(o); err != nil {
			panic("httpapi: CORS origin " + o + ": " + err.Error())
		}
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// RequireUser lets through requests of an authenticated, active user, with
// the session in the context (SessionFrom, UserFrom), and refuses the others.
func (a *Auth) RequireUser(next http.Handler) http.Handler {
	return a.guard(requireUser, nil, a.deny, next)
}

// RequireSuperuser lets through requests of an authenticated, active
// superuser, and refuses the others (403 for other users).
func (a *Auth) RequireSuperuser(next http.Handler) http.Handler {
	return a.guard(requireSuperuser, nil, a.deny, next)
}

// OptionalUser lets every request through, with the session in the
// context when the request has a valid one. Credentials keel does not
// accept (unknown, expired or revoked, or a deactivated user's) count as
// none, and so does a session cookie on an unsafe request from another
// origin; a store that fails still answers 503.
func (a *Auth) OptionalUser(next http.Handler) http.Handler {
	return a.guard(optionalUser, nil, a.deny, next)
}

// access says who may call a handler.
type access int

const (
	public           access = iota // anyone; credentials are not looked at
	optionalUser                   // anyone; a valid session is looked up
	requireUser                    // an authenticated, active user
	requireSuperuser               // an authenticated, active superuser
)

type sessionKey struct{}

type authErrorKey struct{}

// SessionFrom returns the session Auth found for the request of ctx, or
// nil when the request is anonymous (OptionalUser) or did not pass through
// Auth.
func SessionFrom(ctx context.Context) *keel.Session {
	s, _ := ctx.Value(sessionKey{}).(*keel.Session)
	return s
}

// UserFrom returns the user of SessionFrom(ctx), or nil.
func UserFrom(ctx context.Context) *keel.User {
	if s := SessionFrom(ctx); s != nil {
		return s.User
	}
	return nil
}

// ErrCrossOrigin is why Auth refuses an unsafe request authenticated by
// the session cookie that comes from another origin (403).
var ErrCrossOrigin error = &requestError{status: http.StatusForbidden, detail: msgCrossOrigin}

// AuthErrorFrom returns, in a handler given to WithUnauthenticated or
// WithForbidden, why Auth refused the request: keel.ErrNotAuthenticated,
// keel.ErrInvalidCredentials, keel.ErrInactiveUser, keel.ErrNotSuperuser
// or ErrCrossOrigin.
func AuthErrorFrom(ctx context.Context) error {
	err, _ := ctx.Value(authErrorKey{}).(error)
	return err
}

// guard is the one implementation of access control, for keel's routes
// (deny writes the route's error) and a host's (deny is Auth.deny). It
// also puts the keel.Client of the request in its context, and what
// prefetch (nil for none) adds to it before authenticating: what the
// route will read, for keel to read with the session.
func (a *Auth) guard(level access, prefetch func(context.Context, *http.Request) context.Context, deny func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request is copied once, with the client and the session in
		// its context: each copy costs an allocation of the whole request.
		ctx := a.withClient(r)
		if prefetch != nil && level != public {
			ctx = prefetch(ctx, r)
		}
		if level == public {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		sess, err := a.authenticate(ctx, w, r, level == optionalUser)
		switch {
		case err != nil:
			deny(w, r.WithContext(ctx), err)
			return
		case sess == nil && level != optionalUser:
			deny(w, r.WithContext(ctx), keel.ErrNotAuthenticated)
			return
		case level == requireSuperuser && !sess.User.IsSuperuser:
			deny(w, r.WithContext(ctx), keel.ErrNotSuperuser)
			return
		}
		if sess != nil {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
			if info := requestInfoOf(r); info != nil {
				info.userID = sess.User.ID // for the access log
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withClient returns r's context carrying its keel.Client, for the events
// of the keel calls made with it.
func (a *Auth) withClient(r *http.Request) context.Context {
	addr := ClientAddr(r, a.cfg.TrustedProxies)
	if info := requestInfoOf(r); info != nil {
		info.client = addr // the access log's too
	}
	return keel.WithClient(r.Context(), keel.Client{
		Addr:      addr,
		UserAgent: r.UserAgent(),
		RequestID: RequestIDFrom(r.Context()),
	})
}

// credentials finds the session token of a request and how it came: the
// Authorization: Bearer header wins over the cookie when both are there.
// A token in the URL is never looked at.
func (a *Auth) credentials(r *http.Request) (token string, byCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
	}
	if c, err := r.Cookie(a.cfg.CookieName); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// authenticate resolves the request's credentials to a session: nil and
// ErrNotAuthenticated without credentials. A cookie-authenticated unsafe
// request from another origin is refused (403) before the session is
// looked up. With optional set, credentials keel refuses (and a cookie
// the cross-origin check refuses) count as none, but a failing store is
// still an error. ctx is r's context with its client (withClient).
func (a *Auth) authenticate(ctx context.Context, w http.ResponseWriter, r *http.Request, optional bool) (*keel.Session, error) {
	token, byCookie := a.credentials(r)
	if token == "" {
		if optional {
			return nil, nil
		}
		return nil, keel.ErrNotAuthenticated
	}
	// Answers that depend on credentials are never cached.
	w.Header().Set("Cache-Control", "no-store")
	if byCookie {
		if err := a.crossOrigin.Check(r); err != nil {
			if optional {
				return nil, nil
			}
			return nil, ErrCrossOrigin
		}
		if strings.HasPrefix(token, keel.APITokenPrefix) {
			// A personal API token is a bearer token only: keel never sets
			// one as the cookie, so one that comes as the cookie was planted.
			a.clearCookie(w)
			if optional {
				return nil, nil
			}
			return nil, keel.ErrInvalidCredentials
		}
	}
	sess, err := a.svc.Authenticate(ctx, token)
	if err != nil {
		refused := keel.ErrorCode(err) == keel.Unauthenticated
		if byCookie && refused {
			a.clearCookie(w) // a stale cookie: let the browser drop it
		}
		if optional && (refused || errors.Is(err, keel.ErrInactiveUser)) {
			return nil, nil
		}
		return nil, err
	}
	if byCookie && a.svc.Config().IdleTimeout > 0 {
		a.setCookie(w, sess) // the idle timeout moved the expiry on
	}
	return sess, nil
}

// deny answers a host route's refusal: the host's handler for it, or
// keel's JSON error.
func (a *Auth) deny(w http.ResponseWriter, r *http.Request, err error) {
	var h http.Handler
	switch {
	case keel.ErrorCode(err) == keel.Unauthenticated, errors.Is(err, keel.ErrInactiveUser):
		h = a.unauthenticated
	case keel.ErrorCode(err) == keel.PermissionDenied, errors.Is(err, ErrCrossOrigin):
		h = a.forbidden
	}
	if h != nil {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authErrorKey{}, err)))
		return
	}
	writeError(a.cfg.Logger, w, r, route{}, err)
}

func (a *Auth) setCookie(w http.ResponseWriter, sess *keel.Session) {
	maxAge := int(time.Until(sess.Expiry).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     a.cfg.CookieName,
		Value:    sess.Token,
		Path:     "/",
		Expires:  sess.Expiry.UTC(),
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   !a.cfg.Development,
		SameSite: http.SameSiteLaxMode,
	})
}

func (a *Auth) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     a.cfg.CookieName,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0).UTC(),
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   !a.cfg.Development,
		SameSite: http.SameSiteLaxMode,
	})
}
