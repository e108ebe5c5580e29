package httpapi

import (
	"reflect"
	"sync"
	"unicode/utf8"
)

// fieldsByType caches jsonFields per struct type: a type's fields never
// change, and every JSON body would otherwise list them again.
var fieldsByType sync.Map // reflect.Type -> []jsonField

func cachedJSONFields(t reflect.Type) []jsonField {
	if f, ok := fieldsByType.Load(t); ok {
		return f.([]jsonField)
	}
	f, _ := fieldsByType.LoadOrStore(t, jsonFields(t))
	return f.([]jsonField)
}

// maxFlatFields bounds the fields decodeFlat takes a body for: keel's
// input types have a handful.
const maxFlatFields = 8

var (
	stringType    = reflect.TypeFor[string]()
	stringPtrType = reflect.TypeFor[*string]()
)

// decodeFlat is the fast path of decodeObject for the bodies clients
// send all the time: one object of plain strings (no escape, no control
// character, valid UTF-8) and nulls, into string and *string fields,
// with every required field present. It decodes such a body exactly as
// decodeObject's field-by-field path does (keys matched exactly, the
// last of a repeated key winning, unknown keys ignored, null only into
// a *string) and reports true; for anything else it reports false
// without touching dst, and decodeObject takes its general path, which
// words every error.
func decodeFlat(body []byte, rv reflect.Value, fields []jsonField) bool {
	if len(fields) > maxFlatFields || !utf8.Valid(body) {
		return false
	}
	for _, f := range fields {
		if t := rv.Field(f.index).Type(); t != stringType && t != stringPtrType {
			return false
		}
	}
	type value struct {
		s    string
		null bool
		set  bool
	}
	var values [maxFlatFields]value
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			key, next, ok := plainString(body, i)
			if !ok {
				return false
			}
			i = skipSpace(body, next)
			if i >= len(body) || body[i] != ':' {
				return false
			}
			i = skipSpace(body, i+1)
			var v value
			if i+4 <= len(body) && string(body[i:i+4]) == "null" {
				v, i = value{null: true, set: true}, i+4
			} else {
				s, next, ok := plainString(body, i)
				if !ok {
					return false
				}
				v, i = value{s: string(s), set: true}, next
			}
			for n, f := range fields {
				if f.name == string(key) {
					values[n] = v
				}
			}
			i = skipSpace(body, i)
			if i >= len(body) {
				return false
			}
			if body[i] == '}' {
				i++
				break
			}
			if body[i] != ',' {
				return false
			}
			i = skipSpace(body, i+1)
		}
	}
	if skipSpace(body, i) != len(body) {
		return false
	}
	for n, f := range fields {
		v := values[n]
		switch {
		case !v.set && f.required:
			return false // "Field required", worded by the general path
		case v.null && rv.Field(f.index).Type() == stringType:
			return false // null is no string: the general path words it
		}
	}
	for n, f := range fields {
		v := values[n]
		if !v.set {
			continue
		}
		fv := rv.Field(f.index)
		switch {
		case fv.Type() == stringType:
			fv.SetString(v.s)
		case v.null:
			fv.SetZero()
		default:
			s := v.s
			fv.Set(reflect.ValueOf(&s))
		}
	}
	return true
}

// skipSpace returns the index of the first byte at or after i that is
// not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the JSON string at b[i:] when it has no escape and
// no control character, so that its bytes are its value; ok is false
// otherwise.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}
