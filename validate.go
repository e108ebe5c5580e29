package keel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/keel-dev/keel/internal/plural"
)

// Optional is a field a caller may leave out. Set tells "absent" from
// "present", so an update can tell "leave the name" from "clear the name"
// (Optional[*string]{Set: true} with a nil Value). It decodes from JSON:
// a present key, even null, sets it.
type Optional[T any] struct {
	Value T
	Set   bool
}

// Some returns a set Optional.
func Some[T any](v T) Optional[T] { return Optional[T]{Value: v, Set: true} }

// UnmarshalJSON marks the field as set and decodes its value. null is
// accepted only where T is a pointer (a nullable field): for a plain bool or
// string, null would silently mean false or "".
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		if reflect.TypeFor[T]().Kind() != reflect.Pointer {
			return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[T]()}
		}
		var zero T
		o.Value, o.Set = zero, true
		return nil
	}
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

// newValidator builds the validator a Service holds (never a global one).
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by the name clients use.
	v.RegisterTagNameFunc(jsonName)
	return v
}

// validate checks in against its `validate` tags, and each set Optional
// field against its `optional` tag, and returns an Invalid *Error listing
// every failing field, or nil. (validator cannot tell an absent Optional
// from one set to its zero value, so keel checks those itself.)
func (s *Service) validate(in any) error {
	var fields []FieldError
	err := s.validator.Struct(in)
	var verrs validator.ValidationErrors
	switch {
	case err == nil:
	case errors.As(err, &verrs):
		for _, fe := range verrs {
			fields = append(fields, fieldError(fe.Field(), fe.StructField(), fe))
		}
	default:
		return Wrap(err, Internal, "")
	}
	rv := reflect.Indirect(reflect.ValueOf(in))
	rt := rv.Type()
	for i := range rt.NumField() {
		sf := rt.Field(i)
		tag := sf.Tag.Get("optional")
		if tag == "" || !rv.Field(i).FieldByName("Set").Bool() {
			continue
		}
		val := rv.Field(i).FieldByName("Value")
		if val.Kind() == reflect.Pointer {
			if val.IsNil() {
				continue // set to null: clearing a nullable field is allowed
			}
			val = val.Elem()
		}
		err := s.validator.Var(val.Interface(), tag)
		if errors.As(err, &verrs) {
			for _, fe := range verrs {
				fields = append(fields, fieldError(jsonName(sf), sf.Name, fe))
			}
		} else if err != nil {
			return Wrap(err, Internal, "")
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return invalid(fields...)
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// fieldError turns a validator failure into keel's terms: the violation,
// its bound and a message.
func fieldError(field, structField string, fe validator.FieldError) FieldError {
	f := FieldError{Field: field, Value: fe.Value()}
	if strings.Contains(strings.ToLower(structField), "password") {
		f.Value = nil // never echo a password
	}
	bound, _ := strconv.Atoi(fe.Param())
	_, isString := fe.Value().(string)
	switch tag := fe.Tag(); tag {
	case "required":
		f.Violation, f.Message = Required, "is required"
	case "min", "gte":
		if isString {
			f.Violation, f.Bound, f.Message = TooShort, bound, "must be at least "+plural.Count(bound, "character")
		} else {
			f.Violation, f.Bound, f.Message = TooSmall, bound, "must be at least "+strconv.Itoa(bound)
		}
	case "max", "lte":
		if isString {
			f.Violation, f.Bound, f.Message = TooLong, bound, "must be at most "+plural.Count(bound, "character")
		} else {
			f.Violation, f.Bound, f.Message = TooLarge, bound, "must be at most "+strconv.Itoa(bound)
		}
	case "email":
		f.Violation, f.Message = NotEmail, "is not a valid email address"
	case "notcommon":
		f.Violation, f.Message = TooCommon, "is too common; choose another"
	default:
		f.Violation, f.Message = Malformed, fmt.Sprintf("fails the %q rule", tag)
	}
	return f
}

// invalid builds an Invalid error listing the failing fields, for rules
// the tags cannot express.
func invalid(fields ...FieldError) error {
	return &Error{Code: Invalid, Message: msgInvalidInput, Fields: fields}
}

// msgInvalidInput is the message of every Invalid error with Fields.
const msgInvalidInput = "invalid input"

// normEmail trims and lower-cases an email, as it is stored and compared.
func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// runeLen counts code points, the unit of the password rules.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// CheckPassword reports whether a password meets keel's rules (8..128 code
// points, not a common password): nil, or an Invalid *Error naming the
// field "password". Programs use it to vet a configured password before
// creating an account with it.
func (s *Service) CheckPassword(password string) error {
	in := struct {
		Password string `json:"password" validate:"min=8,max=128,notcommon"`
	}{password}
	return s.validate(in)
}
