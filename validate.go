package keel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
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
	return &Error{Code: Invalid, Message: "Invalid input", Fields: fields}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// fieldError words a validator failure the way pydantic (and so the FastAPI
// clients keel is compatible with) does.
func fieldError(field, structField string, fe validator.FieldError) FieldError {
	f := FieldError{Field: field, Value: fe.Value()}
	if strings.Contains(strings.ToLower(structField), "password") {
		f.Value = nil // never echo a password
	}
	_, isString := fe.Value().(string)
	switch fe.Tag() {
	case "required":
		f.Kind, f.Message = "missing", "Field required"
	case "min", "gte":
		if isString {
			f.Kind, f.Message = "string_too_short", fmt.Sprintf("String should have at least %s %s", fe.Param(), plural(fe.Param(), "character"))
		} else {
			f.Kind, f.Message = "greater_than_equal", fmt.Sprintf("Input should be greater than or equal to %s", fe.Param())
		}
	case "max", "lte":
		if isString {
			f.Kind, f.Message = "string_too_long", fmt.Sprintf("String should have at most %s %s", fe.Param(), plural(fe.Param(), "character"))
		} else {
			f.Kind, f.Message = "less_than_equal", fmt.Sprintf("Input should be less than or equal to %s", fe.Param())
		}
	case "email":
		f.Kind, f.Message = "value_error", "value is not a valid email address"
	case "notcommon":
		f.Kind, f.Message = "value_error", "Value error, this password is too common; choose another"
	default:
		f.Kind, f.Message = "value_error", fmt.Sprintf("Value error, failed the %q rule", fe.Tag())
	}
	return f
}

func plural(n, word string) string {
	if n == "1" {
		return word
	}
	return word + "s"
}

// fieldErr builds an Invalid error for one field, for rules the tags
// cannot express.
func fieldErr(field, kind, msg string, value any) error {
	return &Error{Code: Invalid, Message: "Invalid input", Fields: []FieldError{{Field: field, Kind: kind, Message: msg, Value: value}}}
}

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
