package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/keel-dev/keel"
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
// body it cannot read (status 413, 415) or fields it cannot decode (422).
type requestError struct {
	status int
	detail string            // for 413 and 415
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
	msgUnsupportedMedia = "Unsupported Media Type"
	msgCrossOrigin      = "Cross-origin request refused"
	msgLoggedOut        = "Logged out"
)

// errorResponse is the one place that turns an error into a status and a
// body. rt gives the route, for the wording docs/API.md chooses per route and
// for where a failing field lives.
func errorResponse(rt route, err error) (status int, body any, retryAfter int) {
	var re *requestError
	if errors.As(err, &re) {
		if re.status == http.StatusUnprocessableEntity {
			return re.status, httpValidationError{Detail: re.fields}, 0
		}
		return re.status, httpError{Detail: re.detail}, 0
	}
	op := rt.operationID()
	switch {
	case errors.Is(err, keel.ErrEmailTaken):
		switch op {
		case "users-register_user":
			return http.StatusBadRequest, httpError{"The user with this email already exists in the system"}, 0
		case "users-create_user", "private-create_user":
			return http.StatusBadRequest, httpError{"The user with this email already exists in the system."}, 0
		}
		return http.StatusConflict, httpError{"User with this email already exists"}, 0
	case errors.Is(err, keel.ErrUserNotFound):
		if op == "users-update_user" {
			return http.StatusNotFound, httpError{"The user with this id does not exist in the system"}, 0
		}
		return http.StatusNotFound, httpError{"User not found"}, 0
	case errors.Is(err, keel.ErrInactiveUser),
		errors.Is(err, keel.ErrIncorrectLogin),
		errors.Is(err, keel.ErrIncorrectPassword),
		errors.Is(err, keel.ErrSamePassword),
		errors.Is(err, keel.ErrInvalidResetToken):
		return http.StatusBadRequest, httpError{keel.ErrorMessage(err)}, 0
	case errors.Is(err, keel.ErrNotAuthenticated):
		return http.StatusUnauthorized, httpError{"Not authenticated"}, 0
	}
	var ke *keel.Error
	errors.As(err, &ke)
	switch keel.ErrorCode(err) {
	case keel.Invalid:
		if ke != nil && len(ke.Fields) > 0 {
			loc := rt.fieldLocation
			if loc == "" {
				loc = "body"
			}
			out := make([]validationError, len(ke.Fields))
			for i, f := range ke.Fields {
				out[i] = validationError{Type: f.Kind, Loc: []any{loc, f.Field}, Msg: f.Message, Input: f.Value}
			}
			return http.StatusUnprocessableEntity, httpValidationError{Detail: out}, 0
		}
		return http.StatusBadRequest, httpError{messageOr(ke, "Bad Request")}, 0
	case keel.NotFound:
		return http.StatusNotFound, httpError{messageOr(ke, msgNotFound)}, 0
	case keel.Conflict:
		return http.StatusConflict, httpError{messageOr(ke, "Conflict")}, 0
	case keel.Unauthenticated:
		return http.StatusUnauthorized, httpError{"Could not validate credentials"}, 0
	case keel.PermissionDenied:
		return http.StatusForbidden, httpError{messageOr(ke, "The user doesn't have enough privileges")}, 0
	case keel.RateLimited:
		secs := 1
		if ke != nil && ke.RetryAfter > 0 {
			secs = int(math.Ceil(ke.RetryAfter.Seconds()))
		}
		return http.StatusTooManyRequests, httpError{"Too many requests"}, secs
	case keel.Unavailable:
		return http.StatusServiceUnavailable, httpError{msgUnavailable}, 0
	}
	return http.StatusInternalServerError, httpError{msgInternal}, 0
}

func messageOr(e *keel.Error, def string) string {
	if e != nil && e.Message != "" {
		return e.Message
	}
	return def
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
		level := slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		op := rt.operationID()
		if rt.operation == "" {
			op = r.Pattern // a host's route
		}
		log.Log(r.Context(), level, "httpapi: request failed",
			"request_id", RequestIDFrom(r.Context()),
			"operation", op,
			"status", status,
			"err", err)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON body of an answer with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a bug (an unmarshalable type) gets here.
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
