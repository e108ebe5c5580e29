package keel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code classifies an error so that adapters (httpapi, a CLI, a gRPC layer)
// can answer it without knowing where it came from. Only adapters map codes
// to statuses; the root package and the stores only pick a code.
type Code int

// The codes. The zero value is Internal, so an error nobody classified is
// never mistaken for a client error.
const (
	Internal         Code = iota // a bug or an unexpected failure
	NotFound                     // the thing does not exist, or the caller may not know it does
	Conflict                     // a unique value (an email) is taken
	Invalid                      // input fails validation; see FieldErrors
	Unauthenticated              // no credentials, or credentials that are wrong, unknown, expired or revoked
	PermissionDenied             // authenticated, but not allowed
	RateLimited                  // too many attempts; see RetryAfter
	Unavailable                  // the store (or another dependency) is down or timed out
)

var codeNames = [...]string{
	Internal:         "internal",
	NotFound:         "not found",
	Conflict:         "conflict",
	Invalid:          "invalid",
	Unauthenticated:  "unauthenticated",
	PermissionDenied: "permission denied",
	RateLimited:      "rate limited",
	Unavailable:      "unavailable",
}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is the error type of keel. Message is safe to show to the caller;
// Err, the cause, is for logs only and never reaches a client.
type Error struct {
	Code    Code
	Message string
	// Fields lists every failing field when Code is Invalid.
	Fields []FieldError
	// RetryAfter tells a rate-limited caller when to try again.
	RetryAfter time.Duration
	// Public marks Message as written for the client, to be shown as it
	// is: a program's own refusal (see Refuse). keel's own messages are
	// domain text that adapters word in their protocol's terms.
	Public bool
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		b.WriteString("; ")
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInactiveUser) and the other sentinels below
// match any *Error with the same code and message, so a wrapped or
// re-created error still matches.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && t.Message == e.Message && t.Err == nil && len(t.Fields) == 0
}

// FieldError is one failing field of an Invalid error.
type FieldError struct {
	// Field is the input's field name as a client spells it (the JSON name).
	Field string
	// Violation is the rule the field breaks.
	Violation Violation
	// Bound is the rule's parameter for TooShort and TooLong (a length in
	// characters) and for TooSmall and TooLarge (the least or greatest
	// value allowed); 0 for the other violations.
	Bound int
	// Message says what is wrong in a few words that follow the field's
	// name: "must be at least 8 characters".
	Message string
	// Value is the rejected input; never set for a password.
	Value any
}

// Violation is why a field is refused: a small set of reasons that
// adapters word in their own vocabulary.
type Violation int

// The violations. The zero value is none.
const (
	Required         Violation = iota + 1 // the field is absent or empty
	TooShort                              // a string shorter than Bound characters
	TooLong                               // a string longer than Bound characters
	TooSmall                              // a number less than Bound
	TooLarge                              // a number greater than Bound
	NotEmail                              // not an email address
	TooCommon                             // a password that is common, or otherwise easy to guess (see Service.CheckPassword)
	Malformed                             // not in the form the field takes (a cursor keel did not make)
	Unsupported                           // a field this operation does not take
	Rejected                              // a rule of the program's refused it (see Reject); Message says which
	ControlCharacter                      // a string with a control character the field does not take (see validate.go)
	NotUTF8                               // a string that is not valid UTF-8
)

var violationNames = [...]string{
	Required:         "required",
	TooShort:         "too short",
	TooLong:          "too long",
	TooSmall:         "too small",
	TooLarge:         "too large",
	NotEmail:         "not an email address",
	TooCommon:        "too common",
	Malformed:        "malformed",
	Unsupported:      "unsupported",
	Rejected:         "rejected",
	ControlCharacter: "control character",
	NotUTF8:          "not UTF-8",
}

func (v Violation) String() string {
	if v > 0 && int(v) < len(violationNames) {
		return violationNames[v]
	}
	return fmt.Sprintf("violation(%d)", int(v))
}

// Errorf returns an *Error with the code and a client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Refuse returns an error with a message a program writes for its
// clients, which adapters show as it is (httpapi: the status of the code,
// {"detail": message}). It is how a before hook vetoes an operation with
// its own words:
//
//	return keel.Refuse(keel.PermissionDenied, "sign-ups are closed")
func Refuse(code Code, message string) *Error {
	return &Error{Code: code, Message: message, Public: true}
}

// Reject returns an Invalid error for one field of the input with a
// message a program writes for its clients (a Rejected violation); value
// is the rejected input, as the client gave it. It is how a before hook
// refuses an input keel's own rules accept:
//
//	return keel.Reject("email", e.Email, "only @example.com addresses may sign up")
//
// httpapi answers it as a 422 on that field: "Value error, only
// @example.com addresses may sign up".
func Reject(field string, value any, message string) *Error {
	return &Error{Code: Invalid, Fields: []FieldError{{Field: field, Violation: Rejected, Message: message, Value: value}}}
}

// Wrap returns an *Error with the code and a client-safe message that keeps
// err as its cause. It returns nil when err is nil.
func Wrap(err error, code Code, message string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of err: the code of the first *Error in its
// chain, Unavailable for a cancelled or timed-out context, Internal for any
// other non-nil error. ErrorCode(nil) is Internal too; check for nil first.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Unavailable
	}
	return Internal
}

// ErrorMessage returns the client-safe message of err, or "" when err
// carries none.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// Sentinel errors. Compare with errors.Is; adapters key their own wording
// on them.
var (
	// ErrNotAuthenticated: no session token, or no acting user.
	ErrNotAuthenticated = &Error{Code: Unauthenticated, Message: "not authenticated"}
	// ErrInvalidCredentials: a session token that is unknown, expired or revoked.
	ErrInvalidCredentials = &Error{Code: Unauthenticated, Message: "session is unknown, expired or revoked"}
	// ErrIncorrectLogin: unknown email or wrong password, deliberately the same.
	ErrIncorrectLogin = &Error{Code: Unauthenticated, Message: "wrong email or password"}
	// ErrInactiveUser: the account is deactivated.
	ErrInactiveUser = &Error{Code: PermissionDenied, Message: "user is inactive"}
	// ErrNotSuperuser: the operation needs a superuser.
	ErrNotSuperuser = &Error{Code: PermissionDenied, Message: "only a superuser may do this"}
	// ErrDeleteSelf: a superuser tried to delete itself.
	ErrDeleteSelf = &Error{Code: PermissionDenied, Message: "a superuser cannot delete itself"}
	// ErrIncorrectPassword: the current password given to ChangePassword is wrong.
	ErrIncorrectPassword = &Error{Code: Invalid, Message: "current password is wrong"}
	// ErrSamePassword: the new password equals the current one.
	ErrSamePassword = &Error{Code: Invalid, Message: "new password is the current one"}
	// ErrInvalidResetToken: unknown, expired, used or superseded reset token.
	ErrInvalidResetToken = &Error{Code: Invalid, Message: "reset token is unknown, expired, used or superseded"}
	// ErrEmailTaken: another user has the email.
	ErrEmailTaken = &Error{Code: Conflict, Message: "email is already taken"}
	// ErrUserNotFound and ErrItemNotFound: missing, or not the caller's to see.
	ErrUserNotFound = &Error{Code: NotFound, Message: "user not found"}
	ErrItemNotFound = &Error{Code: NotFound, Message: "item not found"}
	// ErrTooManyRequests: a rate limit was hit; the returned error carries RetryAfter.
	ErrTooManyRequests = &Error{Code: RateLimited, Message: "too many attempts"}
	// ErrSessionRequired: an API token tried what only a session may do
	// (see Scope).
	ErrSessionRequired = &Error{Code: PermissionDenied, Message: "an API token cannot do this; it takes a session"}
	// ErrReadOnlyToken: a read-only API token tried to change something.
	ErrReadOnlyToken = &Error{Code: PermissionDenied, Message: "API token is read-only"}
	// ErrSessionNotFound and ErrAPITokenNotFound: missing, or not the
	// caller's to end.
	ErrSessionNotFound  = &Error{Code: NotFound, Message: "session not found"}
	ErrAPITokenNotFound = &Error{Code: NotFound, Message: "API token not found"}
	// ErrTooManyAPITokens: the user has MaxAPITokensPerUser live tokens.
	ErrTooManyAPITokens = &Error{Code: Conflict, Message: "user has the most API tokens allowed"}
	// ErrNoMailer: the operation sends mail and Config.Mailer is nil.
	ErrNoMailer = &Error{Code: Unavailable, Message: "no mailer is configured"}

	// ErrEmailNotVerified: verification is required and the password was
	// right, but the address is not verified yet.
	ErrEmailNotVerified = &Error{Code: PermissionDenied, Message: "email address is not verified"}
	// ErrInvalidEmailToken: an unknown, expired, used or superseded
	// verification or email-change token.
	ErrInvalidEmailToken = &Error{Code: Invalid, Message: "email token is unknown, expired, used or superseded"}
	// ErrVerificationOff: a verification operation while
	// Config.EmailVerification is VerificationOff.
	ErrVerificationOff = &Error{Code: NotFound, Message: "email verification is off"}

	// ErrSecondFactorRequired: the password was right and the user has a
	// second factor; Login's error is a *Challenge that matches it.
	ErrSecondFactorRequired = &Error{Code: Unauthenticated, Message: "second factor required"}
	// ErrInvalidChallenge: a login challenge that is unknown, expired,
	// used, superseded or void.
	ErrInvalidChallenge = &Error{Code: Unauthenticated, Message: "login challenge is unknown, expired, used or void"}
	// ErrInvalidCode: a TOTP code or recovery code that is wrong or used.
	ErrInvalidCode = &Error{Code: Invalid, Message: "code is wrong or used"}
	// ErrTOTPEnabled: enrolment while a second factor is already on.
	ErrTOTPEnabled = &Error{Code: Conflict, Message: "two-factor authentication is already enabled"}
	// ErrTOTPNotEnabled: the user has no (confirmed) second factor.
	ErrTOTPNotEnabled = &Error{Code: NotFound, Message: "two-factor authentication is not enabled"}
	// ErrNoTOTPEnrolment: confirmation with no enrolment pending.
	ErrNoTOTPEnrolment = &Error{Code: NotFound, Message: "no TOTP enrolment is pending"}
	// ErrTOTPUnavailable: no TOTP key is configured (see TOTPConfig.Keys).
	ErrTOTPUnavailable = &Error{Code: Unavailable, Message: "two-factor authentication is not configured"}
)

// withCause returns a copy of a sentinel with a cause attached, so
// errors.Is still matches the sentinel (by code and message) while the
// cause is kept.
func (e *Error) withCause(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}
