package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/plural"
)

// httpError is the body of every error answer but validation errors.
type httpError struct {
	Detail string `json:"detail" required:"true"`
}

// httpValidationError is the body of a 422 answer: one entry per failing
// field.
type httpValidationError struct {
	Detail []validationError `json:"detail" required:"true" nullable:"false"`
}

// validationError is one failing field, in the shape of pydantic (and so of
// the FastAPI clients keel is compatible with).
type validationError struct {
	// Type is a machine-readable reason: "missing", "json_invalid",
	// "string_type", "string_too_short", "value_error", ...
	Type string `json:"type" required:"true"`
	// Loc is where the field is: "body", "query" or "path", then the
	// field's name (or, for malformed JSON, the byte offset).
	Loc []any `json:"loc" required:"true" nullable:"false"`
	// Msg is a sentence a person can read.
	Msg string `json:"msg" required:"true"`
	// Input is the rejected value (never a password).
	Input any `json:"input" required:"true"`
}

// requestError is a request httpapi refuses before it reaches keel: a
// body it cannot read (status 413, 415), fields it cannot decode (422) or
// a cookie-authenticated request from another origin (403).
type requestError struct {
	status int
	detail string            // for every status but 422
	fields []validationError // for 422
}

func (e *requestError) Error() string {
	if e.detail != "" {
		return e.detail
	}
	return "invalid request: " + strconv.Itoa(len(e.fields)) + " failing fields"
}

func invalid(fields ...validationError) error {
	return &requestError{status: http.StatusUnprocessableEntity, fields: fields}
}

// Status messages httpapi answers with.
const (
	msgNotFound         = "Not Found"
	msgInternal         = "Internal Server Error"
	msgUnavailable      = "Service Unavailable"
	msgTooLarge         = "Request body too large"
	msgRequestTimeout   = "Request Timeout"
	msgUnsupportedMedia = "Unsupported Media Type"
	msgCrossOrigin      = "Cross-origin request refused"
	msgLoggedOut        = "Logged out"
	msgEmailExists      = "The user with this email already exists in the system"
)

// answer is a status and the detail the template answers it with.
type answer struct {
	status int
	detail string
}

// sentinelAnswers words keel's sentinel errors as API.md does. A route
// that words one of them differently says so in its route.answers.
var sentinelAnswers = []struct {
	err *keel.Error
	answer
}{
	{keel.ErrNotAuthenticated, answer{http.StatusUnauthorized, "Not authenticated"}},
	{keel.ErrInvalidCredentials, answer{http.StatusUnauthorized, "Could not validate credentials"}},
	{keel.ErrIncorrectLogin, answer{http.StatusBadRequest, "Incorrect email or password"}},
	{keel.ErrInactiveUser, answer{http.StatusBadRequest, "Inactive user"}},
	{keel.ErrNotSuperuser, answer{http.StatusForbidden, "The user doesn't have enough privileges"}},
	{keel.ErrDeleteSelf, answer{http.StatusForbidden, "Super users are not allowed to delete themselves"}},
	{keel.ErrIncorrectPassword, answer{http.StatusBadRequest, "Incorrect password"}},
	{keel.ErrSamePassword, answer{http.StatusBadRequest, "New password cannot be the same as the current one"}},
	{keel.ErrInvalidResetToken, answer{http.StatusBadRequest, "Invalid token"}},
	{keel.ErrEmailTaken, answer{http.StatusConflict, "User with this email already exists"}},
	{keel.ErrUserNotFound, answer{http.StatusNotFound, "User not found"}},
	{keel.ErrItemNotFound, answer{http.StatusNotFound, "Item not found"}},
	{keel.ErrTooManyRequests, answer{http.StatusTooManyRequests, "Too many requests"}},

	{keel.ErrUnknownProvider, answer{http.StatusNotFound, "Identity provider not found"}},
	{keel.ErrInvalidProviderState, answer{http.StatusBadRequest, "Invalid or expired sign-in; start again"}},
	{keel.ErrProviderDenied, answer{http.StatusBadRequest, "The identity provider did not sign you in"}},
	{keel.ErrProviderRefused, answer{http.StatusBadRequest, "The identity provider's answer could not be verified"}},
	{keel.ErrProviderEmailUnverified, answer{http.StatusForbidden, "The identity provider has not verified your email address"}},
	{keel.ErrAccountNotLinked, answer{http.StatusConflict, "An account with this email already exists; sign in with its password. It is linked to a provider only once its email address is verified"}},
	{keel.ErrInvalidLoginCode, answer{http.StatusBadRequest, "Invalid or expired login code"}},
	{keel.ErrIdentityNotFound, answer{http.StatusNotFound, "Identity not found"}},
	{keel.ErrLastSignInMethod, answer{http.StatusConflict, "This is the account's last way to sign in; add another first"}},
	{keel.ErrPasskeysDisabled, answer{http.StatusNotFound, "Passkeys are not enabled"}},
	{keel.ErrInvalidCeremony, answer{http.StatusBadRequest, "Invalid or expired passkey ceremony; start again"}},
	{keel.ErrPasskeyRefused, answer{http.StatusBadRequest, "The passkey was refused"}},
	{keel.ErrPasskeyNotRegistered, answer{http.StatusBadRequest, "The passkey could not be registered"}},
	{keel.ErrPasskeyTaken, answer{http.StatusConflict, "This passkey is registered already"}},
	{keel.ErrPasskeyNotFound, answer{http.StatusNotFound, "Passkey not found"}},
	{keel.ErrNoPasskeys, answer{http.StatusNotFound, "No passkey is registered"}},
	{keel.ErrEmailNotVerified, answer{http.StatusForbidden, "Email not verified"}},
	{keel.ErrInvalidEmailToken, answer{http.StatusBadRequest, "Invalid token"}},
	{keel.ErrVerificationOff, answer{http.StatusNotFound, msgNotFound}},
	{keel.ErrSecondFactorRequired, answer{http.StatusForbidden, msgSecondFactorRequired}},
	{keel.ErrInvalidChallenge, answer{http.StatusBadRequest, "Invalid or expired login challenge"}},
	{keel.ErrInvalidCode, answer{http.StatusBadRequest, "Invalid code"}},
	{keel.ErrTOTPEnabled, answer{http.StatusConflict, "Two-factor authentication is already enabled"}},
	{keel.ErrTOTPNotEnabled, answer{http.StatusNotFound, "Two-factor authentication is not enabled"}},
	{keel.ErrNoTOTPEnrolment, answer{http.StatusBadRequest, "No two-factor enrolment is pending"}},
	{keel.ErrTOTPUnavailable, answer{http.StatusServiceUnavailable, "Two-factor authentication is not configured"}},
	{keel.ErrSessionRequired, answer{http.StatusForbidden, "API tokens cannot do this: log in with a password"}},
	{keel.ErrReadOnlyToken, answer{http.StatusForbidden, "This API token is read-only"}},
	{keel.ErrSessionNotFound, answer{http.StatusNotFound, "Session not found"}},
	{keel.ErrAPITokenNotFound, answer{http.StatusNotFound, "API token not found"}},
	{keel.ErrTooManyAPITokens, answer{http.StatusConflict, "Too many API tokens: revoke one first"}},
}

// codeAnswers answers every other keel error by its code alone: its
// message is keel's, not the wire's, and never reaches a client.
var codeAnswers = map[keel.Code]answer{
	keel.Invalid:          {http.StatusBadRequest, "Bad Request"},
	keel.NotFound:         {http.StatusNotFound, msgNotFound},
	keel.Conflict:         {http.StatusConflict, "Conflict"},
	keel.Unauthenticated:  {http.StatusUnauthorized, "Could not validate credentials"},
	keel.PermissionDenied: {http.StatusForbidden, "The user doesn't have enough privileges"},
	keel.RateLimited:      {http.StatusTooManyRequests, "Too many requests"},
	keel.Unavailable:      {http.StatusServiceUnavailable, msgUnavailable},
	keel.Internal:         {http.StatusInternalServerError, msgInternal},
}

// violationWords gives each keel.Violation pydantic's type and message,
// which the template's clients read.
var violationWords = map[keel.Violation]func(f keel.FieldError) (typ, msg string){
	keel.Required: func(keel.FieldError) (string, string) { return "missing", "Field required" },
	keel.TooShort: func(f keel.FieldError) (string, string) {
		return "string_too_short", "String should have at least " + plural.Count(f.Bound, "character")
	},
	keel.TooLong: func(f keel.FieldError) (string, string) {
		return "string_too_long", "String should have at most " + plural.Count(f.Bound, "character")
	},
	keel.TooSmall: func(f keel.FieldError) (string, string) {
		return "greater_than_equal", "Input should be greater than or equal to " + strconv.Itoa(f.Bound)
	},
	keel.TooLarge: func(f keel.FieldError) (string, string) {
		return "less_than_equal", "Input should be less than or equal to " + strconv.Itoa(f.Bound)
	},
	keel.NotEmail: func(keel.FieldError) (string, string) { return "value_error", "value is not a valid email address" },
	keel.Rejected: func(f keel.FieldError) (string, string) { return "value_error", "Value error, " + f.Message },
	keel.TooCommon: func(keel.FieldError) (string, string) {
		return "value_error", "Value error, this password is too common or too easy to guess; choose another"
	},
	keel.NotUTF8: func(keel.FieldError) (string, string) {
		return "string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string"
	},
}

// wordViolation words one failing field at loc. A violation pydantic
// has no words of its own for is a value error, as a pydantic validator
// raising ValueError would give.
func wordViolation(loc string, f keel.FieldError) validationError {
	typ, msg := "value_error", "Value error, the "+f.Field+" "+f.Message
	if words, ok := violationWords[f.Violation]; ok {
		typ, msg = words(f)
	}
	return validationError{Type: typ, Loc: []any{loc, f.Field}, Msg: msg, Input: f.Value}
}

// errorResponse is the one place that turns an error into a status and a
// body: a request httpapi refused itself, then the route's own answer to
// a keel sentinel, the general one, and the answer to the error's code.
// rt gives the route, for its answers and for where a failing field
// lives.
func errorResponse(rt route, err error) (status int, body any, retryAfter int) {
	var re *requestError
	if errors.As(err, &re) {
		if re.status == http.StatusUnprocessableEntity {
			return re.status, validationAnswer(re.fields), 0
		}
		return re.status, httpError{Detail: re.detail}, 0
	}
	var ke *keel.Error
	errors.As(err, &ke)
	code := keel.ErrorCode(err)
	if code == keel.Invalid && ke != nil && len(ke.Fields) > 0 {
		loc := rt.fieldLocation
		if loc == "" {
			loc = "body"
		}
		out := make([]validationError, len(ke.Fields))
		for i, f := range ke.Fields {
			out[i] = wordViolation(loc, f)
		}
		return http.StatusUnprocessableEntity, validationAnswer(out), 0
	}
	a, ok := sentinelAnswer(rt, err)
	if !ok && ke != nil && ke.Public && ke.Message != "" {
		// A program's own refusal (keel.Refuse): its words, its code's status.
		a, ok = answer{codeAnswers[code].status, ke.Message}, true
	}
	if !ok {
		a, ok = codeAnswers[code]
		if !ok {
			a = codeAnswers[keel.Internal]
		}
	}
	if a.status == http.StatusTooManyRequests {
		retryAfter = 1
		if ke != nil && ke.RetryAfter > 0 {
			retryAfter = int(math.Ceil(ke.RetryAfter.Seconds()))
		}
	}
	return a.status, httpError{a.detail}, retryAfter
}

// maxEcho bounds how much of a rejected value a 422 echoes: a 1 MB title
// must not come back as a 1 MB answer.
const maxEcho = 64

// validationAnswer is the body of a 422: the failing fields, each
// echoing at most maxEcho bytes of its input. Every 422 passes here.
func validationAnswer(fields []validationError) httpValidationError {
	out := make([]validationError, len(fields))
	for i, f := range fields {
		f.Input = clipInput(f.Input)
		out[i] = f
	}
	return httpValidationError{Detail: out}
}

// clipInput is v, or its first maxEcho bytes when it is longer: a string
// cut at a character boundary, and an object or array whose JSON is
// longer given as the start of that JSON, as a string.
func clipInput(v any) any {
	s, ok := v.(string)
	if !ok {
		switch v.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(v)
			if err != nil {
				return nil
			}
			if len(b) <= maxEcho {
				return v
			}
			s = string(b)
		default:
			return v // a number, a boolean or null: short
		}
	}
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "\uFFFD")
}

// sentinelAnswer finds the answer to a keel sentinel err matches: the
// route's own, else the general one.
func sentinelAnswer(rt route, err error) (answer, bool) {
	for sentinel, a := range rt.answers {
		if errors.Is(err, sentinel) {
			return a, true
		}
	}
	for _, s := range sentinelAnswers {
		if errors.Is(err, s.err) {
			return s.answer, true
		}
	}
	return answer{}, false
}

// writeError answers err: the status and body errorResponse picks, the
// headers that go with them, and a log line with the cause for a 5xx.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, rt route, err error) {
	writeError(a.log, w, r, rt, err)
}

// writeError is api.writeError for handlers outside the route table (a
// host's routes behind Auth), where rt is the zero route.
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, rt route, err error) {
	status, body, retry := errorResponse(rt, err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if status >= 500 {
		op := rt.operationID()
		if rt.operation == "" {
			op = r.Pattern // a host's route
		}
		log.Log(r.Context(), levelOf(status), "httpapi: request failed",
			"operation", op,
			"status", status,
			"err", err)
	}
	writeJSON(w, status, body)
}

// levelOf is the log level of a 5xx answer: a dependency that is down
// (503) is a warning, anything else an error.
func levelOf(status int) slog.Level {
	if status == http.StatusServiceUnavailable {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// writeJSON writes v as the JSON body of an answer with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if ap, ok := v.(jsonAppender); ok {
		buf := jsonBuffers.Get().(*[]byte)
		if b, ok := ap.appendJSON((*buf)[:0]); ok {
			writeJSONBytes(w, status, b)
			if cap(b) <= maxPooledJSON {
				*buf = b[:0]
				jsonBuffers.Put(buf)
			}
			return
		}
		jsonBuffers.Put(buf)
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only a bug (an unmarshalable type) gets here.
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	writeJSONBytes(w, status, b)
}

// writeJSONBytes writes b, a JSON body, as the answer with the status.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	// Both values in one allocation, each a full slice of it (see
	// SecurityHeaders); the keys are canonical.
	v := &[2]string{"application/json; charset=utf-8", strconv.Itoa(len(b))}
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["Content-Length"] = v[1:2:2]
	w.WriteHeader(status)
	w.Write(b)
}
