// Package keel gives a Go program user accounts, authentication and a
// user-owned resource ("items"), as a plain Go API.
//
// A Service does the work over a Store. Stores live in subpackages:
// store/memstore (in memory), store/bunstore (PostgreSQL and embedded
// SQLite through Bun). The optional httpapi package serves the Service
// over HTTP; cmd/keel is a ready-made server.
//
// # Quick start
//
//	svc, err := keel.New(memstore.New(), keel.Config{})
//	if err != nil { ... }
//	_, err = svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"})
//	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
//	// sess.Token is the bearer token; later:
//	sess, err = svc.Authenticate(ctx, token)
//	item, err := svc.CreateItem(ctx, sess.User, keel.CreateItemInput{Title: "Notes"})
//	items, count, err := svc.Items(ctx, sess.User, keel.ListOptions{Limit: 20})
//	err = svc.Logout(ctx, sess.Token)
//
// # Actors and rules
//
// Operations take the acting user (the User of a Session from Login or
// Authenticate) and enforce the rules themselves, so every adapter gets
// them: only superusers list, create or change other users; a superuser
// cannot delete itself; anyone else's item is ErrItemNotFound, exactly like
// a missing one. Bootstrap, which makes a superuser with no acting user,
// is for a program's start-up or command line and never changes an
// existing account. Input structs hold only the fields their caller may set,
// so mass assignment is impossible by type, and state their rules in
// struct tags (validate, and required:"true" for the fields a decoder
// must find) that adapters read rather than restate.
//
// # Paging
//
// Lists are newest first and come with the total count. ListOptions pages
// by Skip and Limit; for items, ListOptions.Cursor (the Next of an
// ItemPage from ItemsPage) continues after the last item of the previous
// page straight from the index, so deep pages cost what the first does.
//
// # Sessions
//
// Sessions are server-side and revocable, managed with
// github.com/alexedwards/scs/v2: 256-bit tokens, stored hashed, a fresh
// token at every login, an absolute lifetime (Config.SessionLifetime) and
// an optional idle timeout. Logout ends one session, LogoutAll every
// session of a user; changing or resetting a password, deactivating or
// deleting a user end that user's sessions at once, in every process that
// shares the store. Authenticate reads the session and its user in one
// store round trip.
//
// # Passwords and limits
//
// Passwords are hashed with argon2id (PHC strings; OWASP parameters by
// default), bcrypt hashes are verified and upgraded on login, an unknown
// email costs the same as a wrong password, hashing runs at most
// Config.MaxConcurrentHashes at a time, and common passwords are refused.
// Failed logins and recovery requests are rate limited per account and per
// client address, with the counters in the Store. Reset tokens are
// single-use, expire, and die with any password change.
//
// # Errors
//
// Every error is an *Error with a Code (ErrorCode gives it); compare with
// the sentinel errors (ErrIncorrectLogin, ErrItemNotFound, ...) using
// errors.Is. Messages are plain domain text; adapters word errors their
// own way. Invalid input lists every failing field in Error.Fields, each
// with the Violation it commits and the rule's Bound.
package keel
