package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/keel-dev/keel"
)

// Config tunes the handler New returns. The zero value is a working,
// production-safe configuration (no CORS origins, no trusted proxies,
// Secure cookies, no /private routes).
type Config struct {
	// Development turns on the development-only route POST /private/users/
	// and drops the Secure attribute of the session cookie so that plain
	// http://localhost works. Never set it in production.
	Development bool
	// CookieName is the name of the session cookie. Default "keel_session".
	CookieName string
	// DeviceCookieName is the name of the cookie that keeps the device
	// token of the browser's last login, which exempts the browser from
	// the account's lockout (see keel.LoginInput). Default "keel_device".
	DeviceCookieName string
	// MaxBodyBytes bounds a request body; a larger one answers 413.
	// Default 1 MiB.
	MaxBodyBytes int64
	// CORSOrigins are the browser origins (scheme://host[:port], as the
	// template's FRONTEND_HOST and BACKEND_CORS_ORIGINS) that may call the
	// API from another origin, with credentials. They are also trusted by
	// the cross-origin protection of cookie-authenticated requests. "*"
	// allows any origin, without credentials, and is not trusted for
	// cookies.
	CORSOrigins []string
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For and Forwarded headers are believed. Empty (the
	// default) means the client address is always the connection's peer.
	TrustedProxies []netip.Prefix
	// Logger receives the access log and the causes of 500 and 503
	// answers (never a password, token, cookie or body), each line with
	// its request id (see LogHandler). Default slog.Default().
	Logger *slog.Logger
	// LoginRedirectURL is where the browser goes after a provider sign-in
	// (the frontend's page that finishes it), with "code=..." (a login code
	// for POST /login/oidc/token) or "error=...&error_description=..." in
	// the URL's fragment. Only this URL is ever redirected to. Empty: the
	// callback answers the code as JSON.
	LoginRedirectURL string
	// Observers watch every request, for metrics (package metrics) or
	// traces (package tracing). Default none, which costs nothing.
	Observers []Observer
	// Title and Version name the API in the OpenAPI document. Defaults
	// "keel" and "0.1.0".
	Title   string
	Version string
	// CompletionTimeout bounds the work of a request to one of keel's
	// routes with an unsafe method (POST, PUT, PATCH, DELETE), which runs
	// to completion even if the client goes away: a sign-up whose client
	// disconnects while the password hashes still creates the account
	// (see CompleteWrites). Default 30 seconds.
	CompletionTimeout time.Duration
}

// DefaultCompletionTimeout is the default of Config.CompletionTimeout.
const DefaultCompletionTimeout = 30 * time.Second

// DefaultMaxBodyBytes is the default request body limit: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// DefaultCookieName is the default name of the session cookie.
const DefaultCookieName = "keel_session"

// DefaultDeviceCookieName is the default name of the device cookie.
const DefaultDeviceCookieName = "keel_device"

func (c Config) withDefaults() Config {
	if c.CookieName == "" {
		c.CookieName = DefaultCookieName
	}
	if c.DeviceCookieName == "" {
		c.DeviceCookieName = DefaultDeviceCookieName
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.CompletionTimeout <= 0 {
		c.CompletionTimeout = DefaultCompletionTimeout
	}
	if c.Title == "" {
		c.Title = "keel"
	}
	if c.Version == "" {
		c.Version = "0.1.0"
	}
	return c
}

// api is the state the handlers share. It is immutable after New.
type api struct {
	svc     *keel.Service
	cfg     Config
	log     *slog.Logger
	auth    *Auth // keel's routes authenticate as a host's do
	routes  []route
	mux     *http.ServeMux
	openapi []byte // the OpenAPI document, built once
	// verifying is whether svc verifies email addresses.
	verifying bool
}

// New returns an http.Handler serving the keel HTTP API (see docs/API.md and
// the package documentation) over svc. It composes the middleware of this
// package around the routes, outermost first: RequestID, Observe (with
// cfg.Observers, if any), AccessLog, Recover, SecurityHeaders,
// StrictFraming, CORS. The handler may be mounted under any prefix with
// http.StripPrefix. Serve it on a FramingListener (see StrictFraming).
//
// New panics if http.CrossOriginProtection refuses one of
// cfg.CORSOrigins (other than "*") as an origin, if cfg.LoginRedirectURL
// is not an absolute http(s) URL without a fragment, or if the OpenAPI
// document cannot be built, which only a bug in this package can cause.
func New(svc *keel.Service, cfg Config) http.Handler {
	a := newAPI(svc, cfg)
	var h http.Handler = a
	h = CORS(a.cfg.CORSOrigins)(h)
	h = StrictFraming(h)
	h = SecurityHeaders(h)
	h = Recover(a.log)(h)
	h = AccessLog(a.log, a.cfg.TrustedProxies)(h)
	h = Observe(a.cfg.Observers...)(h)
	h = RequestID(h)
	return h
}

func newAPI(svc *keel.Service, cfg Config) *api {
	cfg = cfg.withDefaults()
	a := &api{svc: svc, cfg: cfg, log: withRequestIDs(cfg.Logger), auth: NewAuth(svc, cfg), mux: http.NewServeMux(),
		verifying: svc.Config().EmailVerification != keel.VerificationOff}
	if cfg.LoginRedirectURL != "" {
		if err := CheckLoginRedirectURL(cfg.LoginRedirectURL); err != nil {
			panic("httpapi: LoginRedirectURL: " + err.Error())
		}
	}
	a.routes = a.routeTable()
	for _, rt := range a.routes {
		h := a.handle(rt)
		for _, p := range rt.paths() {
			a.mux.Handle(rt.method+" "+p, h)
		}
	}
	doc, err := a.buildOpenAPI()
	if err != nil {
		panic("httpapi: building the OpenAPI document: " + err.Error())
	}
	a.openapi = doc
	return a
}

// ServeHTTP routes a request. ServeMux's own plain-text 404 and 405
// answers are replaced by the JSON ones of docs/API.md.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		rec := &statusWriter{ResponseWriter: w, discard: true}
		h.ServeHTTP(rec, r)
		// The fallback set a text/plain type (and nosniff, which
		// SecurityHeaders sets anyway) for the body it did not send.
		w.Header().Del("Content-Type")
		switch rec.status {
		case http.StatusMethodNotAllowed:
			writeJSON(w, http.StatusMethodNotAllowed, httpError{Detail: "Method Not Allowed"})
		case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusFound:
			// ServeMux cleaning an unclean path ("//users/me"): keep the redirect.
			w.WriteHeader(rec.status)
		default:
			writeJSON(w, http.StatusNotFound, httpError{Detail: "Not Found"})
		}
		return
	}
	a.mux.ServeHTTP(w, r)
}

// route is one operation of the API: how it is served and how the OpenAPI
// document describes it.
type route struct {
	method string
	// path is the canonical path, as in docs/API.md and the OpenAPI document. A
	// path ending in "/" is served without the slash too.
	path string
	tag  string
	// operation is the FastAPI function name: operationId is
	// tag-operation.
	operation string
	access    access
	// fieldLocation is where the fields of a validation error come from:
	// "body" (default), "query" or "path".
	fieldLocation string
	// answers words keel sentinel errors the way this route does where
	// it differs from sentinelAnswers.
	answers map[*keel.Error]answer
	summary string
	serve   func(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error
	doc     opDoc
	// probe marks the health and readiness probes: their access lines are
	// at Debug level.
	probe bool
	// prefetch, when set, tells keel what serve will read, so that it is
	// read with the session (see keel.WithItemPrefetch).
	prefetch func(context.Context, *http.Request) context.Context
	// pattern is "method path", how logs, metrics and traces name the
	// route; routeTable fills it in.
	pattern string
}

func (rt route) operationID() string { return rt.tag + "-" + rt.operation }

// paths gives the ServeMux patterns' paths of the route: both forms of a
// collection path, each matched exactly (no subtree, no redirect).
func (rt route) paths() []string {
	if strings.HasSuffix(rt.path, "/") {
		return []string{rt.path + "{$}", strings.TrimSuffix(rt.path, "/")}
	}
	return []string{rt.path}
}

// handle turns a route into an http.Handler: an unsafe method's run to
// completion, authentication by the Auth that hosts use too, the route's
// function, and the single error path.
func (a *api) handle(rt route) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rt.serve(a, w, r, SessionFrom(r.Context())); err != nil {
			a.writeError(w, r, rt, err)
		}
	})
	h = a.auth.guard(rt.access, rt.prefetch, func(w http.ResponseWriter, r *http.Request, err error) {
		a.writeError(w, r, rt, err)
	}, h)
	h = CompleteWrites(a.cfg.CompletionTimeout)(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := requestInfoOf(r); info != nil {
			info.route, info.probe = rt.pattern, rt.probe
		}
		h.ServeHTTP(w, r)
	})
}

// emailExistsFullStop is how the routes that create users for someone
// else word a taken email: as signing up does, with a full stop.
var emailExistsFullStop = map[*keel.Error]answer{keel.ErrEmailTaken: {http.StatusBadRequest, msgEmailExists + "."}}

// routeTable is every operation of the API. Routing and the OpenAPI
// document are both built from it.
func (a *api) routeTable() []route {
	rts := []route{
		{method: "POST", path: "/login/access-token", tag: "login", operation: "login_access_token", serve: login,
			summary: "Log in with an email and password (OAuth2 password flow)", doc: a.loginDoc()},
		{method: "POST", path: "/login/test-token", tag: "login", operation: "test_token", access: requireUser, serve: testToken,
			summary: "Test the access token", doc: opDoc{status: 200, response: userPublic{}}},
		{method: "POST", path: "/logout", tag: "login", operation: "logout", access: requireUser, serve: logout,
			summary: "End the session (both bearer token and cookie)", doc: opDoc{status: 200, response: message{}}},
		{method: "POST", path: "/password-recovery/{email}", tag: "login", operation: "recover_password", fieldLocation: "path", serve: recoverPassword,
			summary: "Send a password recovery email", doc: opDoc{params: recoveryPath{}, status: 200, response: message{}, errorStatuses: []int{429}}},
		{method: "POST", path: "/reset-password/", tag: "login", operation: "reset_password", serve: resetPassword,
			summary: "Set a new password with a reset token", doc: opDoc{body: keel.ResetPasswordInput{}, status: 200, response: message{}, errorStatuses: []int{400}}},

		{method: "GET", path: "/login/providers", tag: "login", operation: "list_providers", serve: listProviders,
			summary: "List the identity providers users may sign in with", doc: opDoc{status: 200, response: providerList{}}},
		{method: "GET", path: "/login/oidc/{provider}", tag: "login", operation: "provider_login", fieldLocation: "path", serve: beginProviderLogin,
			summary: "Sign in with an identity provider: redirects the browser to it",
			doc:     opDoc{params: providerPath{}, status: 302, response: redirect{}, errorStatuses: []int{404}}},
		{method: "GET", path: "/login/oidc/{provider}/callback", tag: "login", operation: "provider_callback", serve: providerCallback,
			summary: "The provider's redirect back: redirects to the frontend with a login code or an error in the fragment (without a frontend URL configured, answers the code)",
			doc: opDoc{params: providerCallbackQuery{}, status: 303, response: redirect{}, altStatus: 200, altResponse: loginCode{},
				errorStatuses: []int{400, 403, 404, 409}}},
		{method: "POST", path: "/login/oidc/token", tag: "login", operation: "redeem_login_code", serve: redeemLoginCode,
			summary: "Exchange a login code from a provider sign-in for an access token",
			doc:     a.signInDoc(opDoc{body: loginCode{}, status: 200, response: accessToken{}, errorStatuses: []int{400}})},
		{method: "POST", path: "/login/passkey/options", tag: "login", operation: "passkey_login_options", serve: passkeyLoginOptions,
			summary: "Begin a sign-in with a passkey: the options for navigator.credentials.get",
			doc:     opDoc{status: 200, response: passkeyCeremony{}, errorStatuses: []int{404}}},
		{method: "POST", path: "/login/passkey", tag: "login", operation: "passkey_login", serve: passkeyLogin,
			summary: "Sign in with a passkey: the browser's answer for an access token",
			doc:     a.signInDoc(opDoc{body: keel.PasskeyLoginInput{}, status: 200, response: accessToken{}, errorStatuses: []int{400, 404, 429}})},

		{method: "GET", path: "/users/", tag: "users", operation: "read_users", access: requireSuperuser, fieldLocation: "query", serve: readUsers,
			summary: "List users, newest first", doc: opDoc{params: pageQuery{}, status: 200, response: usersPublic{}}},
		{method: "POST", path: "/users/", tag: "users", operation: "create_user", access: requireSuperuser, serve: createUser, answers: emailExistsFullStop,
			summary: "Create a user", doc: opDoc{body: keel.CreateUserInput{}, status: 201, response: userPublic{}}},
		{method: "GET", path: "/users/me", tag: "users", operation: "read_user_me", access: requireUser, serve: readUserMe,
			summary: "Read the current user", doc: opDoc{status: 200, response: userPublic{}}},
		{method: "PATCH", path: "/users/me", tag: "users", operation: "update_user_me", access: requireUser, serve: updateUserMe,
			summary: "Update the current user", doc: opDoc{body: keel.UpdateMeInput{}, status: 200, response: userPublic{}, errorStatuses: []int{409}}},
		{method: "DELETE", path: "/users/me", tag: "users", operation: "delete_user_me", access: requireUser, serve: deleteUserMe,
			summary: "Delete the current user", doc: opDoc{status: 200, response: message{}}},
		{method: "PATCH", path: "/users/me/password", tag: "users", operation: "update_password_me", access: requireUser, serve: updatePasswordMe,
			summary: "Change the current user's password", doc: opDoc{body: keel.ChangePasswordInput{}, status: 200, response: message{}, errorStatuses: []int{429}}},
		{method: "GET", path: "/users/me/events", tag: "users", operation: "read_user_me_events", access: requireUser, fieldLocation: "query", serve: readMyEvents,
			summary: "List the security events about the current user, newest first", doc: opDoc{params: myEventsQuery{}, status: 200, response: auditEventsPublic{}}},
		{method: "POST", path: "/users/signup", tag: "users", operation: "register_user", serve: signUp,
			answers: map[*keel.Error]answer{keel.ErrEmailTaken: {http.StatusBadRequest, msgEmailExists}},
			summary: "Sign up", doc: opDoc{body: keel.SignUpInput{}, status: 201, response: userPublic{}, errorStatuses: []int{400}}},
		{method: "GET", path: "/users/{user_id}", tag: "users", operation: "read_user_by_id", access: requireUser, fieldLocation: "path", serve: readUserByID,
			summary: "Read a user by id", doc: opDoc{params: userIDPath{}, status: 200, response: userPublic{}, errorStatuses: []int{403, 404}}},
		{method: "PATCH", path: "/users/{user_id}", tag: "users", operation: "update_user", access: requireSuperuser, serve: updateUser,
			answers: map[*keel.Error]answer{keel.ErrUserNotFound: {http.StatusNotFound, "The user with this id does not exist in the system"}},
			summary: "Update a user", doc: opDoc{params: userIDPath{}, body: keel.UpdateUserInput{}, status: 200, response: userPublic{}, errorStatuses: []int{404, 409}}},
		{method: "DELETE", path: "/users/{user_id}", tag: "users", operation: "delete_user", access: requireSuperuser, fieldLocation: "path", serve: deleteUser,
			summary: "Delete a user", doc: opDoc{params: userIDPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},

		{method: "GET", path: "/users/me/identities", tag: "users", operation: "read_identities", access: requireUser, serve: readIdentities,
			summary: "List the current user's linked provider accounts", doc: opDoc{status: 200, response: identitiesPublic{}}},
		{method: "DELETE", path: "/users/me/identities/{id}", tag: "users", operation: "unlink_identity", access: requireUser, fieldLocation: "path", serve: unlinkIdentity,
			summary: "Unlink a provider account (never the account's last way to sign in)",
			doc:     opDoc{params: identityIDPath{}, status: 200, response: message{}, errorStatuses: []int{404, 409}}},
		{method: "GET", path: "/users/me/passkeys", tag: "users", operation: "read_passkeys", access: requireUser, serve: readPasskeys,
			summary: "List the current user's passkeys", doc: opDoc{status: 200, response: passkeysPublic{}}},
		{method: "POST", path: "/users/me/passkeys/options", tag: "users", operation: "passkey_registration_options", access: requireUser, serve: passkeyRegistrationOptions,
			summary: "Begin registering a passkey: the options for navigator.credentials.create",
			doc:     opDoc{status: 200, response: passkeyCeremony{}, errorStatuses: []int{404}}},
		{method: "POST", path: "/users/me/passkeys", tag: "users", operation: "register_passkey", access: requireUser, serve: registerPasskey,
			summary: "Register a passkey: the browser's answer and the passkey's name",
			doc:     opDoc{body: keel.PasskeyRegistrationInput{}, status: 201, response: passkeyPublic{}, errorStatuses: []int{404, 409}}},
		{method: "DELETE", path: "/users/me/passkeys/{id}", tag: "users", operation: "delete_passkey", access: requireUser, fieldLocation: "path", serve: deletePasskey,
			summary: "Delete a passkey (never the account's last way to sign in)",
			doc:     opDoc{params: passkeyIDPath{}, status: 200, response: message{}, errorStatuses: []int{404, 409}}},
		{method: "GET", path: "/users/me/sessions", tag: "sessions", operation: "read_my_sessions", access: requireUser, serve: readMySessions,
			summary: "List the current user's live sessions, newest first (keel)", doc: opDoc{status: 200, response: sessionsPublic{}}},
		{method: "DELETE", path: "/users/me/sessions", tag: "sessions", operation: "end_other_sessions", access: requireUser, serve: endOtherSessions,
			summary: "End every session of the current user but this one (keel)", doc: opDoc{status: 200, response: message{}}},
		{method: "DELETE", path: "/users/me/sessions/{session_id}", tag: "sessions", operation: "end_my_session", access: requireUser, fieldLocation: "path", serve: endMySession,
			summary: "End one of the current user's sessions (keel)", doc: opDoc{params: mySessionPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},
		{method: "GET", path: "/users/{user_id}/sessions", tag: "sessions", operation: "read_user_sessions", access: requireSuperuser, fieldLocation: "path", serve: readUserSessions,
			summary: "List a user's live sessions, newest first (keel)", doc: opDoc{params: userIDPath{}, status: 200, response: sessionsPublic{}, errorStatuses: []int{404}}},
		{method: "DELETE", path: "/users/{user_id}/sessions/{session_id}", tag: "sessions", operation: "end_user_session", access: requireSuperuser, fieldLocation: "path", serve: endUserSession,
			summary: "End one of a user's sessions (keel)", doc: opDoc{params: sessionPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},

		{method: "POST", path: "/users/me/tokens", tag: "tokens", operation: "create_my_api_token", access: requireUser, serve: createMyAPIToken,
			summary: "Make a personal API token; the answer shows it this once (keel)", doc: opDoc{body: keel.CreateAPITokenInput{}, status: 201, response: apiTokenCreated{}, errorStatuses: []int{409}}},
		{method: "GET", path: "/users/me/tokens", tag: "tokens", operation: "read_my_api_tokens", access: requireUser, serve: readMyAPITokens,
			summary: "List the current user's personal API tokens, newest first (keel)", doc: opDoc{status: 200, response: apiTokensPublic{}}},
		{method: "DELETE", path: "/users/me/tokens/{token_id}", tag: "tokens", operation: "revoke_my_api_token", access: requireUser, fieldLocation: "path", serve: revokeMyAPIToken,
			summary: "Revoke one of the current user's personal API tokens (keel)", doc: opDoc{params: myAPITokenPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},
		{method: "GET", path: "/users/{user_id}/tokens", tag: "tokens", operation: "read_user_api_tokens", access: requireSuperuser, fieldLocation: "path", serve: readUserAPITokens,
			summary: "List a user's personal API tokens, newest first (keel)", doc: opDoc{params: userIDPath{}, status: 200, response: apiTokensPublic{}, errorStatuses: []int{404}}},
		{method: "DELETE", path: "/users/{user_id}/tokens/{token_id}", tag: "tokens", operation: "revoke_user_api_token", access: requireSuperuser, fieldLocation: "path", serve: revokeUserAPIToken,
			summary: "Revoke one of a user's personal API tokens (keel)", doc: opDoc{params: apiTokenPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},
		{method: "POST", path: "/users/{user_id}/unlock", tag: "users", operation: "unlock_user", access: requireSuperuser, fieldLocation: "path", serve: unlockUser,
			summary: "Lift the lockout that failed logins put on a user's account (keel)", doc: opDoc{params: userIDPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},

		{method: "GET", path: "/items/", tag: "items", operation: "read_items", access: requireUser, fieldLocation: "query", serve: readItems,
			summary: "List items, newest first", doc: opDoc{params: itemsPageQuery{}, status: 200, response: itemsPublic{}}},
		{method: "POST", path: "/items/", tag: "items", operation: "create_item", access: requireUser, serve: createItem,
			summary: "Create an item", doc: opDoc{body: keel.CreateItemInput{}, status: 201, response: itemPublic{}}},
		{method: "GET", path: "/items/{id}", tag: "items", operation: "read_item", access: requireUser, fieldLocation: "path", serve: readItem, prefetch: prefetchItem,
			summary: "Read an item", doc: opDoc{params: itemIDPath{}, status: 200, response: itemPublic{}, errorStatuses: []int{404}}},
		{method: "PUT", path: "/items/{id}", tag: "items", operation: "update_item", access: requireUser, serve: updateItem,
			summary: "Update an item (absent fields stay)", doc: opDoc{params: itemIDPath{}, body: keel.UpdateItemInput{}, status: 200, response: itemPublic{}, errorStatuses: []int{404}}},
		{method: "DELETE", path: "/items/{id}", tag: "items", operation: "delete_item", access: requireUser, fieldLocation: "path", serve: deleteItem,
			summary: "Delete an item", doc: opDoc{params: itemIDPath{}, status: 200, response: message{}, errorStatuses: []int{404}}},

		{method: "GET", path: "/audit/events", tag: "audit", operation: "read_audit_events", access: requireSuperuser, fieldLocation: "query", serve: readAuditEvents,
			summary: "List the audit log, newest first", doc: opDoc{params: auditEventsQuery{}, status: 200, response: auditEventsPublic{}}},

		{method: "POST", path: "/utils/test-email/", tag: "utils", operation: "test_email", access: requireSuperuser, fieldLocation: "query", serve: testEmail,
			summary: "Send a test email", doc: opDoc{params: emailToQuery{}, status: 201, response: message{}}},
		{method: "GET", path: "/utils/health-check/", tag: "utils", operation: "health_check", serve: healthCheck, probe: true,
			summary: "Liveness", doc: opDoc{status: 200, response: true}},
		{method: "GET", path: "/utils/ready", tag: "utils", operation: "ready", serve: ready, probe: true,
			summary: "Readiness: 200 when the store answers, 503 otherwise", doc: opDoc{status: 200, response: true}},
	}
	if a.svc.TOTPAvailable() {
		rts = append(rts, totpRoutes()...)
	}
	if a.verifying {
		rts = append(rts,
			route{method: "POST", path: "/email-verification/{email}", tag: "login", operation: "request_verification", fieldLocation: "path", serve: requestVerification,
				summary: "Send a new email verification link", doc: opDoc{params: verificationPath{}, status: 200, response: message{}, errorStatuses: []int{429}}},
			route{method: "POST", path: "/verify-email/", tag: "login", operation: "verify_email", serve: verifyEmail,
				summary: "Verify an email address with the token of its link", doc: opDoc{body: tokenBody{}, status: 200, response: message{}, errorStatuses: []int{400}}},
			route{method: "POST", path: "/confirm-email/", tag: "login", operation: "confirm_email", serve: confirmEmail,
				summary: "Confirm an email change with the token of its link", doc: opDoc{body: tokenBody{}, status: 200, response: message{}, errorStatuses: []int{400, 409}}},
		)
	}
	if a.cfg.Development {
		rts = append(rts, route{method: "POST", path: "/private/users/", tag: "private", operation: "create_user", serve: createPrivateUser, answers: emailExistsFullStop,
			summary: "Create a user (development only)", doc: opDoc{body: privateUserCreate{}, status: 201, response: userPublic{}, errorStatuses: []int{400}}})
	}
	rts = append(rts,
		route{method: "GET", path: "/openapi.json", tag: "meta", operation: "openapi", serve: serveOpenAPI, doc: opDoc{hidden: true}},
		route{method: "GET", path: "/docs", tag: "meta", operation: "docs", serve: serveDocs, doc: opDoc{hidden: true}},
		route{method: "GET", path: "/docs/{$}", tag: "meta", operation: "docs_slash", serve: redirectDocs, doc: opDoc{hidden: true}},
		route{method: "GET", path: "/docs/{asset}", tag: "meta", operation: "docs_asset", serve: serveDocs, doc: opDoc{hidden: true}},
	)
	for i := range rts {
		rts[i].pattern = rts[i].method + " " + rts[i].path
	}
	return rts
}
