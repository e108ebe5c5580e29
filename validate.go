package keel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
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
//
// Input structs carry their rules in tags: validate (checked by the
// validator), optional (the same rules, for a set Optional field) and
// required:"true", which marks a field a caller must give. A Go struct
// cannot tell an absent string from an empty one, so keel judges only
// values (an empty email is not an email); decoders, httpapi's among
// them, read required to report an absent field.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by the name clients use.
	v.RegisterTagNameFunc(jsonName)
	// The characters text fields take (see textFault).
	for _, rule := range []string{"text", "multiline", "nonul"} {
		if err := v.RegisterValidation(rule, func(fl validator.FieldLevel) bool {
			return textFault(rule, fl.Field().String()) == 0
		}); err != nil {
			panic("keel: registering the " + rule + " rule: " + err.Error()) // only a bug gets here
		}
	}
	// The one statement of the password rule: any Unicode but NUL, of a
	// length in code points; a new password must also be hard to guess.
	v.RegisterAlias("password", fmt.Sprintf("nonul,min=%d,max=%d", MinPasswordLength, MaxPasswordLength))
	if err := v.RegisterValidation("notcommon", func(fl validator.FieldLevel) bool {
		return !easyToGuess(fl.Field().String())
	}); err != nil {
		panic("keel: registering the notcommon rule: " + err.Error()) // only a bug gets here
	}
	return v
}

// textFault says why s does not fit a text field with the rule: NotUTF8,
// ControlCharacter, or 0 when it fits. This is the one statement of which
// characters keel takes, as validate tags:
//
//   - text: single-line text (email, full_name, title, an API token's
//     name): no control character at all (U+0000 to U+001F, U+007F to
//     U+009F, as unicode.IsControl says);
//   - multiline: text that may run over lines (description): tab, line
//     feed and carriage return, and no other control character;
//   - nonul: passwords, which are hashed, never stored: anything but NUL.
//
// All of them refuse bytes that are not UTF-8 rather than let them be
// replaced, and NUL, which PostgreSQL cannot store in text (bun drops it
// from what it writes, so "\x00" would be stored as "", and cannot look
// it up) while SQLite keeps it: the same input must give the same result
// on every store.
func textFault(rule, s string) Violation {
	if !utf8.ValidString(s) {
		return NotUTF8
	}
	for _, r := range s {
		if !unicode.IsControl(r) {
			continue
		}
		switch {
		case r == 0:
			return ControlCharacter
		case rule == "nonul":
		case rule == "multiline" && (r == '\t' || r == '\n' || r == '\r'):
		default:
			return ControlCharacter
		}
	}
	return 0
}

// quickValidated is an input of a hot path that can tell, without the
// validator's reflection, that it passes its tags. plainlyValid answers
// only "valid" quickly: false leaves the verdict, and the wording of
// every failure, to the validator.
type quickValidated interface {
	plainlyValid() bool
}

// fitsText is the text, multiline or nonul rule and a length of least
// to most code points, as the validator's min and max count a string.
func fitsText(rule, s string, least, most int) bool {
	if textFault(rule, s) != 0 {
		return false
	}
	n := utf8.RuneCountInString(s)
	return n >= least && n <= most
}

// validate checks in against its `validate` tags, and each set Optional
// field against its `optional` tag, and returns an Invalid *Error listing
// every failing field, or nil. (validator cannot tell an absent Optional
// from one set to its zero value, so keel checks those itself.)
func (s *Service) validate(in any) error {
	if q, ok := in.(quickValidated); ok && q.plainlyValid() {
		return nil
	}
	var fields []FieldError
	err := s.validator.Struct(in)
	var verrs validator.ValidationErrors
	switch {
	case err == nil:
	case errors.As(err, &verrs):
		for _, fe := range verrs {
			fields = append(fields, fieldError(fe.Field(), fe))
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
				fields = append(fields, fieldError(jsonName(sf), fe))
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

// fieldError turns a validator failure into keel's terms.
func fieldError(field string, fe validator.FieldError) FieldError {
	bound, _ := strconv.Atoi(fe.Param())
	_, isString := fe.Value().(string)
	// ActualTag, not Tag: a failing "password" alias reports its "min" or "max".
	switch tag := fe.ActualTag(); tag {
	case "required":
		return violation(field, Required, 0, fe.Value())
	case "min", "gte":
		if isString {
			return violation(field, TooShort, bound, fe.Value())
		}
		return violation(field, TooSmall, bound, fe.Value())
	case "max", "lte":
		if isString {
			return violation(field, TooLong, bound, fe.Value())
		}
		return violation(field, TooLarge, bound, fe.Value())
	case "email":
		return violation(field, NotEmail, 0, fe.Value())
	case "notcommon":
		return violation(field, TooCommon, 0, fe.Value())
	case "text", "multiline", "nonul":
		s, _ := fe.Value().(string)
		f := violation(field, textFault(tag, s), 0, fe.Value())
		if f.Violation == ControlCharacter && tag == "multiline" {
			f.Message = "contains a control character other than tab, line feed or carriage return"
		}
		return f
	default:
		f := violation(field, Malformed, 0, fe.Value())
		f.Message = fmt.Sprintf("fails the %q rule", tag)
		return f
	}
}

// violation is the one place a FieldError is worded: the message of each
// violation, and no value echoed for a password.
func violation(field string, v Violation, bound int, value any) FieldError {
	f := FieldError{Field: field, Violation: v, Bound: bound, Value: value}
	if IsPasswordField(field) {
		f.Value = nil
	}
	switch v {
	case Required:
		f.Message = "is required"
	case TooShort:
		f.Message = "must be at least " + plural.Count(bound, "character")
	case TooLong:
		f.Message = "must be at most " + plural.Count(bound, "character")
	case TooSmall:
		f.Message = "must be at least " + strconv.Itoa(bound)
	case TooLarge:
		f.Message = "must be at most " + strconv.Itoa(bound)
	case NotEmail:
		f.Message = "is not a valid email address"
	case TooCommon:
		f.Message = "is too common or too easy to guess; choose another"
	case ControlCharacter:
		f.Message = "contains a control character"
	case NotUTF8:
		f.Message = "is not valid UTF-8"
	case Malformed:
		f.Message = "is malformed"
	case Unsupported:
		f.Message = "is not taken here"
	}
	return f
}

// IsPasswordField reports whether an input field, by its name, holds a
// password. keel never echoes such a value in a FieldError; an adapter
// that refuses input before keel sees it follows the same rule.
func IsPasswordField(name string) bool {
	return strings.Contains(strings.ToLower(name), "password")
}

// invalid builds an Invalid error listing the failing fields, for rules
// the tags cannot express.
func invalid(fields ...FieldError) error {
	return &Error{Code: Invalid, Message: msgInvalidInput, Fields: fields}
}

// msgInvalidInput is the message of every Invalid error with Fields.
const msgInvalidInput = "invalid input"

// NormalizeEmail trims and lower-cases an email, as keel stores and
// compares it. A program that looks an email up or shows it back uses it
// to agree with keel.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// runeLen counts code points, the unit of the password rules.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
