// Package httpapi serves keel over HTTP: the wire protocol of the FastAPI
// full-stack template's backend (users, items, login), with keel's
// security fixes. See API.md for every route, status and message.
//
// # Mounting
//
// New returns an http.Handler whose routes are relative to where it is
// mounted. To serve it under /api/v1, strip the prefix:
//
//	mux := http.NewServeMux()
//	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", httpapi.New(svc, httpapi.Config{})))
//
// Every collection path is served with and without its trailing slash
// ("/items" and "/items/"), with no redirect. Unknown routes answer 404
// {"detail": "Not Found"} and a wrong method 405 {"detail": "Method Not
// Allowed"}. GET /openapi.json is the OpenAPI 3.1 document, built from the
// handlers' own Go types; GET /docs is Swagger UI for it, embedded in the
// binary (no CDN), with URLs relative to the mount prefix.
//
// Lists take skip and limit and answer {"data": [...], "count": N}. GET
// /items/ also takes an opaque cursor (keel's addition): a full page adds
// "next_cursor", and ?cursor=<next_cursor> continues after its last item
// straight from the index, however deep.
//
// # Errors
//
// keel's errors speak the domain; this package words them as API.md
// does, from tables: each keel sentinel error has its status and detail
// (a route may word one its own way, as POST /users/signup does a taken
// email), each field Violation pydantic's type and msg, and any other
// error its code's generic answer. No message of keel's reaches a client.
//
// # Sessions: bearer token and cookie
//
// POST /login/access-token returns an opaque session token and also sets
// it as a session cookie (HttpOnly, SameSite=Lax, Path=/, Secure unless
// Config.Development; named by Config.CookieName). A request may present
// the token either as "Authorization: Bearer <token>" or in the cookie.
// When both are present the bearer token decides and the cookie is not
// looked at. A token in the URL query is never accepted.
//
// Unsafe requests (POST, PUT, PATCH, DELETE) authenticated by the cookie
// go through Go's http.CrossOriginProtection: from an origin other than
// the API's own and Config.CORSOrigins they answer 403. Bearer requests
// are not affected (a browser never adds a bearer token by itself).
// Answers to requests that carry credentials have Cache-Control: no-store.
// POST /logout ends the session at once, whichever transport presents it,
// and clears the cookie.
//
// # Coexisting with a host's scs sessions
//
// keel's Service drives its own scs.SessionManager, with its own store
// adapter and its own context keys, directly from the request's token; the
// handler does not use scs's LoadAndSave middleware. A host program that
// uses scs for its own sessions (with LoadAndSave around its own routes, or
// around this handler) is therefore unaffected: the two session managers
// share nothing, and only the cookie names must differ (Config.CookieName,
// default "keel_session", against scs's default "session").
//
// # Middleware
//
// Each middleware is a func(http.Handler) http.Handler usable on its own.
// New composes them, outermost first:
//
//	RequestID -> AccessLog -> Recover -> SecurityHeaders -> CORS -> routes
//
// RequestID comes first so that every log line has the id; AccessLog sits
// outside Recover so that a recovered panic is logged with its 500 status;
// SecurityHeaders and CORS headers are set before any route (and the JSON
// 404/405) answers, and CORS answers preflight requests itself.
//
// # Client address
//
// Login and password recovery are rate limited per client address. The
// address is the connection's peer (r.RemoteAddr); X-Forwarded-For and
// Forwarded are believed only when the peer is in Config.TrustedProxies,
// and then the right-most address that is not a trusted proxy is taken
// (see ClientAddr).
package httpapi
