package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// jsonField is one decodable field of a request type.
type jsonField struct {
	name     string
	index    int
	required bool
}

// jsonFields lists the JSON fields of a struct type. A field tagged
// required:"true" must be present: keel's input types say so the same way
// as httpapi's own, and the OpenAPI document reads the same tag.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, jsonField{name: name, index: i, required: sf.Tag.Get("required") == "true"})
	}
	return out
}

// decodeJSON reads the JSON object body of r into dst, a pointer to a
// request struct. It is strict about types and reports every failing field
// at once: a body over the limit is 413, a body too slow to arrive 408, a
// content type other than JSON 415, malformed JSON 422 json_invalid, a
// missing required field 422 missing, a value of the wrong type 422
// string_type (bool_type, ...), a string that is not Unicode 422
// string_unicode. Unknown fields are ignored. It never panics.
func (a *api) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	// The type clients send almost always is taken without parsing it.
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{status: http.StatusUnsupportedMediaType, detail: msgUnsupportedMedia}
		}
	}
	body, err := readBody(w, r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	return decodeObject(body, dst)
}

// readBody reads the whole body, at most limit bytes: 413 past the limit,
// 408 when the server's read timeout cuts a slow body off.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, detail: msgTooLarge}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close") // the rest of the body is still on its way
			return nil, &requestError{status: http.StatusRequestTimeout, detail: msgRequestTimeout}
		}
		return nil, invalid(validationError{Type: "json_invalid", Loc: []any{"body"}, Msg: "The request body could not be read", Input: nil})
	}
	return b, nil
}

// decodeObject decodes a JSON object into dst field by field.
func decodeObject(body []byte, dst any) error {
	rv := reflect.ValueOf(dst).Elem()
	fields := cachedJSONFields(rv.Type())
	if decodeFlat(body, rv, fields) {
		return nil
	}
	return decodeFields(body, rv, fields)
}

// decodeFields is decodeObject's general path: the body parsed whole,
// then each field decoded and checked on its own, every error worded.
func decodeFields(body []byte, rv reflect.Value, fields []jsonField) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if hasRequired(fields) {
			return invalid(validationError{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil})
		}
		return nil
	}
	var top any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return jsonInvalid(err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonInvalid(errors.New("trailing data after the JSON value"), dec.InputOffset())
	}
	if _, ok := top.(map[string]any); !ok {
		return invalid(validationError{Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from", Input: echo(body)})
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return jsonInvalid(err, 0)
	}
	var bad []validationError
	for _, f := range fields {
		v, ok := raw[f.name]
		if !ok {
			if f.required {
				bad = append(bad, validationError{Type: "missing", Loc: []any{"body", f.name}, Msg: "Field required", Input: nil})
			}
			continue
		}
		fv := rv.Field(f.index)
		nv := reflect.New(fv.Type())
		err := json.Unmarshal(v, nv.Interface())
		if err == nil && bytes.Equal(bytes.TrimSpace(v), []byte("null")) && !nullable(fv.Type()) {
			err = errors.New("null")
		}
		if err != nil {
			bad = append(bad, typeError(f.name, fv.Type(), v))
			continue
		}
		if !validUnicode(v) {
			// encoding/json has replaced what is not Unicode with U+FFFD;
			// keel refuses it instead (keel.NotUTF8).
			var input any
			if !keel.IsPasswordField(f.name) {
				input = echo(v)
			}
			bad = append(bad, wordViolation("body", keel.FieldError{Field: f.name, Violation: keel.NotUTF8, Value: input}))
			continue
		}
		fv.Set(nv.Elem())
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	return nil
}

// validUnicode reports whether the strings of the JSON value raw are
// valid Unicode: UTF-8 bytes, and \u escapes that never leave half of a
// surrogate pair. raw is valid JSON.
func validUnicode(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character: \\ and \" never start another escape
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		switch {
		case r >= 0xDC00 && r < 0xE000: // a low half alone
			return false
		case r >= 0xD800 && r < 0xDC00: // a high half: a low one must follow
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			if lo := hex4(raw[i+3:]); lo < 0xDC00 || lo >= 0xE000 {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 reads the four hexadecimal digits of a \u escape (-1 when they are not).
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func hasRequired(fields []jsonField) bool {
	for _, f := range fields {
		if f.required {
			return true
		}
	}
	return false
}

func jsonInvalid(err error, offset int64) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = se.Offset
	}
	return invalid(validationError{Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error", Input: map[string]any{}})
}

// optionalValue returns the value type of a keel.Optional, or nil.
func optionalValue(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Struct && t.PkgPath() == "github.com/keel-dev/keel" && strings.HasPrefix(t.Name(), "Optional[") {
		if f, ok := t.FieldByName("Value"); ok {
			return f.Type
		}
	}
	return nil
}

// nullable reports whether JSON null is a valid value of a field type: a
// pointer, or an Optional of a pointer (keel.Optional rejects null itself
// for other types).
func nullable(t reflect.Type) bool {
	if v := optionalValue(t); v != nil {
		return true
	}
	return t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface
}

// typeError words a value of the wrong JSON type for a field.
func typeError(name string, t reflect.Type, raw json.RawMessage) validationError {
	if v := optionalValue(t); v != nil {
		t = v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var input any
	if !keel.IsPasswordField(name) {
		input = echo(raw)
	}
	e := validationError{Loc: []any{"body", name}, Input: input}
	switch t.Kind() {
	case reflect.String:
		e.Type, e.Msg = "string_type", "Input should be a valid string"
	case reflect.Bool:
		e.Type, e.Msg = "bool_type", "Input should be a valid boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		e.Type, e.Msg = "int_type", "Input should be a valid integer"
	default:
		e.Type, e.Msg = "value_error", "Input has the wrong type"
	}
	return e
}

// echo is a rejected JSON value as a 422 may show it: nil when it cannot
// be represented (a number beyond float64, such as 1e999).
func echo(raw []byte) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}

// pathUUID parses the path wildcard name as a UUID; a malformed one is a
// 422 at ["path", name], never a store lookup.
func pathUUID(r *http.Request, name string) (uuid.UUID, error) {
	s := r.PathValue(name)
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, invalid(validationError{Type: "uuid_parsing", Loc: []any{"path", name},
			Msg: "Input should be a valid UUID", Input: s})
	}
	return id, nil
}

// pageQuery is the paging of the list routes, as query parameters.
type pageQuery struct {
	Skip  int `query:"skip" minimum:"0" default:"0" description:"How many to skip, newest first."`
	Limit int `query:"limit" minimum:"1" default:"100" description:"How many to return at most."`
}

// itemsPageQuery is the paging of GET /items/: pageQuery and a cursor.
type itemsPageQuery struct {
	Skip   int    `query:"skip" minimum:"0" default:"0" description:"How many to skip, newest first (after the cursor, when one is given)."`
	Limit  int    `query:"limit" minimum:"1" default:"100" description:"How many to return at most."`
	Cursor string `query:"cursor" description:"The next_cursor of the previous page: the page starts right after that page's last item, at the same cost however deep it is. Without it, paging is by skip alone."`
}

// parsePage reads skip and limit of the query q: integers, within the bounds the
// Service's CheckPage sets. An absent limit is the Service's default; an
// explicit 0 is refused, as pydantic refuses it.
func parsePage(q url.Values, svc *keel.Service) (keel.ListOptions, error) {
	// What was given and what is wrong, per parameter in the order errors
	// are listed: arrays, not maps, since every list request comes here.
	names := [2]string{"skip", "limit"}
	var given [2]string
	var bad [2]validationError
	var isBad [2]bool
	other := false // a fault CheckPage found in neither
	get := func(i int, def int) int {
		s, ok := q[names[i]]
		if !ok || len(s) == 0 {
			return def
		}
		given[i] = s[0]
		n, err := strconv.Atoi(strings.TrimSpace(s[0]))
		if err != nil {
			bad[i], isBad[i] = validationError{Type: "int_parsing", Loc: []any{"query", names[i]},
				Msg: "Input should be a valid integer, unable to parse string as an integer", Input: s[0]}, true
			return def
		}
		return n
	}
	opts := keel.ListOptions{Skip: get(0, 0), Limit: get(1, svc.Config().DefaultPageLimit)}
	if err := svc.CheckPage(opts.Skip, opts.Limit); err != nil {
		var ke *keel.Error
		if !errors.As(err, &ke) || len(ke.Fields) == 0 {
			return keel.ListOptions{}, err
		}
		for _, f := range ke.Fields {
			i := slices.Index(names[:], f.Field)
			if i < 0 {
				other = true
				continue
			}
			v := wordViolation("query", f)
			v.Input = given[i] // as given, as pydantic echoes a query value
			bad[i], isBad[i] = v, true
		}
	}
	if !isBad[0] && !isBad[1] && !other {
		return opts, nil
	}
	var out []validationError
	for i := range names {
		if isBad[i] {
			out = append(out, bad[i])
		}
	}
	return keel.ListOptions{}, invalid(out...)
}
