// Package keel gives a Go program user accounts, sessions and a
// user-owned resource ("items"), as a plain Go API.
//
// A Service does the work over a Store: store/memstore keeps everything
// in memory, store/bunstore in PostgreSQL or SQLite. The httpapi package
// serves a Service over HTTP; cmd/keel is a ready-made server.
//
//	svc, err := keel.New(memstore.New(), keel.Config{})
//	_, err = svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"})
//	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
//	sess, err = svc.Authenticate(ctx, sess.Token) // later, from the token alone
//	item, err := svc.CreateItem(ctx, sess.User, keel.CreateItemInput{Title: "Notes"})
//	items, count, err := svc.Items(ctx, sess.User, keel.ListOptions{Limit: 20})
//	err = svc.Logout(ctx, sess.Token)
//
// # Users and items
//
// Operations take the acting user and enforce the rules themselves: only
// superusers list, create or change other users; a superuser cannot
// delete itself; anyone else's item is ErrItemNotFound, exactly like a
// missing one. Bootstrap, which makes a superuser with no acting user, is
// for a program's start-up or command line. Input structs hold only the
// fields their caller may set, and state their rules in struct tags that
// adapters read rather than restate. Text must be valid UTF-8 without NUL;
// stored single-line text (emails, names, titles) takes no control
// character, a description only tabs and line breaks. Lists are newest first with the total
// count; items also page by Cursor, at the same cost however deep. A
// request that authenticates and then reads one item can have both read in
// one store round trip (WithItemPrefetch).
//
// # Sessions and passwords
//
// Sessions are server-side and revocable (github.com/alexedwards/scs/v2):
// 256-bit tokens stored hashed, a fresh token at every login, an absolute
// lifetime and an optional idle timeout. A password reset, a deactivation
// or a deletion ends the user's sessions at once; a password change ends
// all but the one that made it. Each session keeps when it began and was
// last used and the client it logged in from: a user lists its sessions
// (Sessions) and ends any of them (EndSession, EndOtherSessions), a
// superuser anyone's; a user has at most Config.MaxSessionsPerUser, a login
// past it ending the least recently used.
//
// Personal API tokens (CreateAPIToken) stand in for a session in programs:
// Authenticate takes them, and the Session it returns carries the token's
// Scope into every operation, so a read-only token changes nothing and no
// token manages credentials, whoever calls. A new password or a
// deactivation revokes a user's tokens.
//
// Passwords are hashed with argon2id (bcrypt hashes are upgraded on
// login); an unknown email costs what a wrong password costs; new
// passwords that are common or otherwise easy to guess are refused (by
// zxcvbn's estimate); failed logins and recovery requests are rate
// limited per account and per client address. The account's limit holds
// only clients it has not seen: every login hands the client a signed
// device token, and a client that presents one counts its failures
// against itself, so strangers who lock an account out never lock out its
// owner (Unlock and UnlockEmail lift a lockout). Reset tokens are
// single-use, expire, and die with any password change.
//
// # Providers and passkeys
//
// Users may also sign in through OpenID Connect providers
// (Config.IdentityProviders, see package oidc) and with passkeys
// (Config.Passkeys, see package passkey). A provider's account is linked to
// one user; at its first sign-in it makes a user without a password, or is
// linked to an existing user only when both the provider and keel vouch
// for the address (User.IsVerified). A user with a second factor gets a
// *Challenge from these sign-ins too, which a code or a passkey
// (CompleteLoginWithPasskey) completes. Each flow that spans two requests (a provider's state,
// nonce and PKCE verifier; a WebAuthn challenge) is kept by keel,
// single-use and short-lived. No one removes an account's last way to
// sign in.
//
// # Email verification and two-factor authentication
//
// Both are off or optional by default. Config.EmailVerification makes
// sign-up mail a verification link (VerifyEmail), can require a verified
// address to log in (ErrEmailNotVerified), and turns a change of email
// into a request the new address confirms (ConfirmEmailChange). With a
// key in Config.TOTP, users enrol in TOTP (EnrolTOTP, ConfirmTOTP, with
// single-use recovery codes); Login then answers an enrolled user with a
// *Challenge instead of a session, and CompleteLogin turns it and a code
// into one. Codes work once, secrets are stored encrypted, and no reset
// removes the factor.
// # Events, hooks and transactions
//
// Every operation reports what it did as an Event (EventSignedUp,
// EventLoginFailed, EventUserUpdated, ...): the actor, the user, the
// client (see WithClient), and for refusals an internal Reason. A program
// reacts in Config.Hooks: before hooks run inside the operation's
// transaction and may veto it (Reject, Refuse); after hooks run once it
// has committed, off the caller's path. Service.InTx runs a program's own
// writes and keel calls in one transaction; on bunstore, bunstore.TxDB
// gives a before hook or InTx the transaction as a bun.IDB.
//
// # Audit log
//
// Every event is also an AuditEvent in the Store, written in the
// operation's transaction (a change that rolls back leaves no row) and
// logged once committed; never a password, token or hash, and nothing for
// reads. A superuser reads the log with AuditEvents, a user the events
// about itself with MyAuditEvents; PurgeExpired deletes events older than
// Config.AuditRetention.
//
// # Errors
//
// Every error is an *Error with a Code; compare with the sentinels
// (ErrIncorrectLogin, ErrItemNotFound, ...) using errors.Is. Messages are
// plain domain text; adapters word errors their own way. Invalid input
// lists every failing field, with its Violation and the rule's Bound.
package keel
