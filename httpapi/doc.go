// Package httpapi serves keel over HTTP in the wire protocol of the FastAPI
// full-stack template's backend (login, users, items, utils), with keel's
// security fixes. docs/API.md in the repository lists every route, status and
// message; GET /openapi.json is the OpenAPI 3.1 document of every
// route, built from the handlers' own Go types; GET /docs is Swagger UI for
// it, embedded in the binary (no CDN).
//
// # Mounting
//
// New returns an http.Handler whose routes, the document and the docs page
// included, are relative to where it is mounted:
//
//	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", httpapi.New(svc, httpapi.Config{})))
//
// Collection paths answer with and without their trailing slash ("/items"
// and "/items/"), without a redirect. An unknown route answers 404
// {"detail": "Not Found"}, a wrong method 405 {"detail": "Method Not
// Allowed"}. Lists take skip and limit and answer {"data": [...], "count":
// N}; GET /items/ also pages by an opaque cursor: a full page carries
// "next_cursor", and ?cursor=<next_cursor> continues after its last item.
//
// # Errors
//
// keel's errors speak the domain; this package words them as docs/API.md
// does, from tables: each keel sentinel error has its status and detail
// (a route may word one its own way, as POST /users/signup does a taken
// email), each field Violation pydantic's type and msg, and any other
// error its code's generic answer. No message of keel's reaches a client.
//
// # Sessions
//
// POST /login/access-token returns an opaque session token and also sets it
// as an HttpOnly, SameSite=Lax cookie (Secure unless Config.Development). A
// request presents the token as "Authorization: Bearer <token>" or in the
// cookie; when both are there the bearer token decides. A token in the URL
// is never accepted. An unsafe request (POST, PUT, PATCH, DELETE)
// authenticated by the cookie must pass Go's http.CrossOriginProtection,
// which trusts the API's own origin and Config.CORSOrigins, or it answers
// 403. Answers to requests with credentials carry Cache-Control: no-store.
// POST /logout ends the session at once, for both transports, and clears
// the cookie. A user lists and ends its sessions under /users/me/sessions,
// a superuser anyone's under /users/{user_id}/sessions.
//
// A personal API token (made at POST /users/me/tokens, "keel_pat_...") is
// accepted as a bearer token only, never as the cookie, on every route its
// scope allows; keel, not this package, enforces the scope, so a host's
// own handlers that call the Service get the same rules.
//
// Every login also sets the device cookie (Config.DeviceCookieName,
// default "keel_device"; HttpOnly, SameSite=Strict, 400 days): presented
// at the next login, it exempts the browser from the lockout strangers'
// failed guesses put on the account (see keel.LoginInput).
//
// # A host's own routes
//
// NewAuth gives a host program the same authentication for its own
// handlers, on any mux: RequireUser, RequireSuperuser and OptionalUser are
// middleware, and SessionFrom and UserFrom read the session in the
// handler. keel's routes use the same code, so both follow the rules
// above. Refusals answer keel's JSON errors unless the host gives its own
// handlers (WithUnauthenticated, WithForbidden: a redirect to a login page).
//
//	auth := httpapi.NewAuth(svc, cfg) // the Config given to New
//	mux.Handle("GET /notes", auth.RequireUser(listNotes))
//	// in listNotes: user := httpapi.UserFrom(r.Context())
//
// keel drives its own scs.SessionManager, with its own store and context
// keys, straight from the request's token, not through scs's LoadAndSave.
// A host using scs for its own sessions is therefore unaffected, as long as
// the cookie names differ (Config.CookieName, default "keel_session";
// scs's default is "session").
//
// # Middleware
//
// Each middleware is a func(http.Handler) http.Handler usable on its own.
// New composes them, outermost first:
//
//	RequestID -> Observe -> AccessLog -> Recover -> SecurityHeaders -> StrictFraming -> CORS -> routes
//
// so that every log line has the request id, a recovered panic is logged
// and observed with its 500, and every answer, the JSON 404 and 405
// included, carries the security headers and, for a listed origin, the
// CORS headers. CORS answers preflight requests itself. StrictFraming
// refuses a request whose body could be framed two ways (request
// smuggling); serve the handler on a FramingListener, with FramingContext
// as the server's ConnContext, so that it can see them. Each route then
// runs, when its method is unsafe, under CompleteWrites: a write whose
// client goes away still completes (within Config.CompletionTimeout)
// instead of being rolled back; reads stop early. Every request's context
// carries its keel.Client (address, User-Agent, request id) for the
// account events.
//
// # Operating
//
// The access log has a line per request with its route pattern (never
// the path of a matched route), status, duration in milliseconds, client
// address and authenticated user; LogHandler puts the request id on every
// line logged with a request's context, keel's own included. Observers
// (Config.Observers) see each request's route, status and duration:
// package metrics counts them for Prometheus, package tracing gives each
// a span, named by the route pattern, that continues the client's
// traceparent.
//
// Login and password recovery are rate limited per client address: the
// connection's peer or, when the peer is in Config.TrustedProxies, the
// right-most address of Forwarded (or X-Forwarded-For) that is not a
// trusted proxy (see ClientAddr).
package httpapi
