package keel

import (
	"time"

	"github.com/google/uuid"
)

// EventKind names what happened to an account. The values are stable
// strings, fit for an audit table or a metric label.
type EventKind string

// The account events. Every operation of the Service that changes an
// account, or refuses to, reports one of these (see Event and Hooks).
const (
	// EventSignedUp: someone opened an account with SignUp.
	EventSignedUp EventKind = "signed_up"
	// EventUserCreated: a superuser (CreateUser) or the program itself
	// (Bootstrap: ActorID is uuid.Nil) created an account.
	EventUserCreated EventKind = "user_created"
	// EventLoginSucceeded: Login started a session.
	EventLoginSucceeded EventKind = "login_succeeded"
	// EventLoginFailed: Login refused an email and password, or
	// ChangePassword a current password (ReasonPasswordCheck, by the
	// session's user). Reason says why; UserID is uuid.Nil when no account
	// has the email.
	EventLoginFailed EventKind = "login_failed"
	// EventRateLimited: a rate limit refused a login, a password check or
	// a recovery request. Reason names the limit.
	EventRateLimited EventKind = "rate_limited"
	// EventLoggedOut: Logout ended a session.
	EventLoggedOut EventKind = "logged_out"
	// EventPasswordChanged: a user changed its own password with
	// ChangePassword.
	EventPasswordChanged EventKind = "password_changed"
	// EventPasswordResetRequested: RequestPasswordReset made a reset token
	// for an account and handed it to the Mailer, or, with a Reason
	// (ReasonUnknownEmail, ReasonInactiveUser), made none; the caller
	// hears the same either way.
	EventPasswordResetRequested EventKind = "password_reset_requested"
	// EventPasswordReset: ResetPassword set a new password with a token.
	EventPasswordReset EventKind = "password_reset"
	// EventUserUpdated: UpdateMe or UpdateUser changed an account; Changes
	// lists the fields.
	EventUserUpdated EventKind = "user_updated"
	// EventUserDeleted: DeleteUser deleted an account (User is the account
	// as it was).
	EventUserDeleted EventKind = "user_deleted"
	// EventSessionsEnded: sessions of a user ended at once (Sessions says
	// how many): LogoutAll, EndSession, EndOtherSessions, a login past
	// Config.MaxSessionsPerUser (the least recently used), or the other
	// sessions ended by a password change, a reset, a deactivation or a
	// deletion.
	EventSessionsEnded EventKind = "sessions_ended"

	// EventVerificationSent: a verification link for the account's address
	// was made and handed to the Mailer (at sign-up, at a superuser's
	// creation of an unverified user, or by RequestVerification).
	EventVerificationSent EventKind = "verification_sent"
	// EventEmailVerified: VerifyEmail verified the account's address.
	EventEmailVerified EventKind = "email_verified"
	// EventEmailChangeRequested: with verification on, UpdateMe asked to
	// change the account's email to NewEmail, which got a confirmation
	// link (and the current address a notice).
	EventEmailChangeRequested EventKind = "email_change_requested"
	// EventEmailChangeConfirmed: ConfirmEmailChange made NewEmail the
	// account's address (Email is the one it had). An EventUserUpdated
	// with Changes "email" follows, as for any change of email.
	EventEmailChangeConfirmed EventKind = "email_change_confirmed"

	// EventLoginChallenged: Login accepted the password of a user with a
	// second factor and gave a Challenge instead of a session.
	EventLoginChallenged EventKind = "login_challenged"
	// EventSecondFactorSucceeded: CompleteLogin accepted a code for a
	// challenge (Reason: ReasonTOTPCode or ReasonRecoveryCode); an
	// EventLoginSucceeded follows with the session.
	EventSecondFactorSucceeded EventKind = "second_factor_succeeded"
	// EventSecondFactorFailed: a TOTP code, a recovery code or a login
	// challenge was refused (Reason says which and why), by
	// CompleteLogin, ConfirmTOTP, RegenerateRecoveryCodes or DisableTOTP.
	EventSecondFactorFailed EventKind = "second_factor_failed"
	// EventRecoveryCodeUsed: a recovery code was spent, at a login or to
	// turn the second factor off.
	EventRecoveryCodeUsed EventKind = "recovery_code_used"
	// EventTOTPEnrolled: ConfirmTOTP turned the account's second factor on.
	EventTOTPEnrolled EventKind = "totp_enrolled"
	// EventTOTPDisabled: the account's second factor was turned off, by
	// its user (DisableTOTP) or by a superuser (RemoveTOTP: ActorID).
	EventTOTPDisabled EventKind = "totp_disabled"
	// EventRecoveryCodesRegenerated: RegenerateRecoveryCodes replaced the
	// account's recovery codes.
	EventRecoveryCodesRegenerated EventKind = "recovery_codes_regenerated"
	// EventAPITokenCreated: CreateAPIToken made a personal API token
	// (APIToken is it, never its secret).
	EventAPITokenCreated EventKind = "api_token_created"
	// EventAPITokenRevoked: RevokeAPIToken revoked one token (APIToken
	// holds its ID).
	EventAPITokenRevoked EventKind = "api_token_revoked"
	// EventAPITokensRevoked: API tokens of a user ended at once (APITokens
	// says how many): with a new password, a deactivation or a deletion.
	EventAPITokensRevoked EventKind = "api_tokens_revoked"
	// EventLockoutLifted: Unlock (by a superuser) or UnlockEmail (by the
	// program: ActorID is uuid.Nil) lifted an account's lockout.
	EventLockoutLifted EventKind = "lockout_lifted"
)

// EventKinds returns every kind of event keel emits, in the order above:
// the vocabulary of an audit query or a metric label.
func EventKinds() []EventKind {
	return []EventKind{
		EventSignedUp, EventUserCreated, EventLoginSucceeded, EventLoginFailed, EventRateLimited,
		EventLoggedOut, EventPasswordChanged, EventPasswordResetRequested, EventPasswordReset,
		EventUserUpdated, EventUserDeleted, EventSessionsEnded,
		EventAPITokenCreated, EventAPITokenRevoked, EventAPITokensRevoked, EventLockoutLifted,
		EventVerificationSent, EventEmailVerified, EventEmailChangeRequested, EventEmailChangeConfirmed,
		EventLoginChallenged, EventSecondFactorSucceeded, EventSecondFactorFailed, EventRecoveryCodeUsed,
		EventTOTPEnrolled, EventTOTPDisabled, EventRecoveryCodesRegenerated,
		EventIdentityLinked, EventIdentityUnlinked, EventPasskeyRegistered, EventPasskeyDeleted,
	}
}

// Event is one account event. Hooks receive it by value; it never holds
// a password, a password hash or a token.
type Event struct {
	Kind EventKind
	// At is when it happened, from Config.Now, in UTC.
	At time.Time
	// ActorID is the user who did it: the acting user of the operation,
	// the user itself for sign-up, login, logout and reset, or uuid.Nil
	// when nobody is known (a failed login, a rate limit, a recovery
	// request, the program calling Bootstrap).
	ActorID uuid.UUID
	// UserID is the account it happened to; uuid.Nil when no account
	// matched.
	UserID uuid.UUID
	// User is that account after the change (before it, for
	// EventUserDeleted), a copy without PasswordHash; nil when no account
	// matched.
	User *User
	// Email is the account's email, or the email a caller gave when no
	// account matched (a failed login, a refused recovery request).
	Email string
	// Changes lists, for EventUserUpdated, the fields that changed, by
	// their JSON names: "email", "full_name", "is_active",
	// "is_superuser", "is_verified", "password".
	Changes []string
	// Sessions is, for EventSessionsEnded and EventLoggedOut, how many
	// sessions ended.
	Sessions int64
	// Method is how the user signed in or up, for the events of sign-ins
	// that use no password: "oidc:" and the provider's name, or
	// "passkey". "" for the others.
	Method string
	// NewEmail is, for EventEmailChangeRequested and
	// EventEmailChangeConfirmed, the address the change is to.
	NewEmail string
	// APIToken is, for EventAPITokenCreated, the new token, and for
	// EventAPITokenRevoked the revoked one's ID (the rest went with it).
	// Never the secret.
	APIToken *APITokenInfo
	// APITokens is, for EventAPITokensRevoked, how many tokens ended.
	APITokens int64
	// Client is the client of the request, as the adapter put it in the
	// context with WithClient.
	Client Client
	// Reason says, for the refusals (EventLoginFailed, EventRateLimited,
	// EventSecondFactorFailed, and EventPasswordResetRequested when no
	// token was made), why, and for EventSecondFactorSucceeded which
	// factor: see the Reason* constants. It is for logs and audits, never
	// for the client, which gets the one deliberately vague answer.
	Reason string

	// unrecorded marks a repeated rate-limit refusal, which the audit log
	// leaves out (see auditor.record); every other consumer gets it.
	unrecorded bool
}

// Reasons of EventLoginFailed, EventRateLimited,
// EventPasswordResetRequested, EventSecondFactorFailed and
// EventSecondFactorSucceeded.
const (
	ReasonUnknownEmail       = "unknown_email"
	ReasonWrongPassword      = "wrong_password"
	ReasonInactiveUser       = "inactive_user"
	ReasonLoginAccount       = "login_per_account"     // RateLimits.LoginPerAccount
	ReasonLoginAddress       = "login_per_address"     // RateLimits.LoginPerAddress
	ReasonLoginDevice        = "login_per_device"      // RateLimits.LoginPerDevice
	ReasonPasswordSession    = "password_per_session"  // ChangePassword's checks with one session
	ReasonRecoveryAddress    = "recovery_per_address"  // RateLimits.RecoveryPerAddress
	ReasonRecoveryAccount    = "recovery_per_account"  // RateLimits.RecoveryPerAccount
	ReasonPasswordCheck      = "password_check"        // ChangePassword's check of the current password
	ReasonPasswordOutOfRange = "password_out_of_range" // a password too long or empty, never hashed

	ReasonEmailNotVerified    = "email_not_verified"        // verification is required and the address is not verified
	ReasonVerificationAddress = "verification_per_address"  // RateLimits.VerificationPerAddress
	ReasonVerificationAccount = "verification_per_account"  // RateLimits.VerificationPerAccount
	ReasonSecondFactorAccount = "second_factor_per_account" // RateLimits.SecondFactorPerAccount
	ReasonTOTPCode            = "totp_code"                 // a TOTP code (succeeded)
	ReasonRecoveryCode        = "recovery_code"             // a recovery code (succeeded)
	ReasonWrongCode           = "wrong_code"                // a TOTP code of no step around now
	ReasonUsedCode            = "used_code"                 // a TOTP code of a step already used: a replay
	ReasonWrongRecoveryCode   = "wrong_recovery_code"       // a recovery code the user does not have (or used)
	ReasonInvalidChallenge    = "invalid_challenge"         // a login challenge unknown, expired, used or void
	ReasonSecondFactorRemoved = "second_factor_removed"     // the factor went away while a challenge waited
)

// publicCopy is u as an Event carries it: a copy, without the hash.
func publicCopy(u *User) *User {
	if u == nil {
		return nil
	}
	c := *u
	c.PasswordHash = ""
	if u.FullName != nil {
		name := *u.FullName
		c.FullName = &name
	}
	return &c
}
