package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/swaggest/jsonschema-go"
	"github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"
)

// opDoc is what the OpenAPI document says of a route beyond its method,
// path and access: the same Go types the handler decodes and encodes.
type opDoc struct {
	hidden bool // not an API operation (the document and docs page themselves)
	params any  // a struct with path:"" and query:"" tags
	body   any  // the JSON body type
	form   any  // the urlencoded form type
	status int  // the success status
	// response is the success body type.
	response any
	// altStatus and altResponse are a second success answer, for a route
	// whose success depends on configuration (a redirect, or JSON).
	altStatus   int
	altResponse any
	// errorStatuses are the route's own error statuses; allErrorStatuses
	// adds those every route of its kind answers.
	errorStatuses []int
	// errorBodies are the body types of error statuses whose body is not
	// the usual one.
	errorBodies map[int]any
}

// unauthorizedError is httpError with the header a 401 carries.
type unauthorizedError struct {
	httpError
	WWWAuthenticate string `header:"WWW-Authenticate" enum:"Bearer"`
}

// rateLimitedError is httpError with the header a 429 carries.
type rateLimitedError struct {
	httpError
	RetryAfter int `header:"Retry-After" minimum:"1" description:"Seconds to wait before trying again."`
}

// schemaNames names the component schemas: as the FastAPI template's
// document does, so that generated clients keep their type names, and
// keel's own error bodies as they have always been named. Every body type
// is named here rather than after its Go type, so that renaming or
// unexporting a Go type never renames a schema.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[accessToken]():         "Token",
	reflect.TypeFor[message]():             "Message",
	reflect.TypeFor[userPublic]():          "UserPublic",
	reflect.TypeFor[usersPublic]():         "UsersPublic",
	reflect.TypeFor[itemPublic]():          "ItemPublic",
	reflect.TypeFor[itemsPublic]():         "ItemsPublic",
	reflect.TypeFor[auditEventPublic]():    "AuditEventPublic",
	reflect.TypeFor[auditEventsPublic]():   "AuditEventsPublic",
	reflect.TypeFor[eventKind]():           "EventKind",
	reflect.TypeFor[httpError]():           "HTTPError",
	reflect.TypeFor[httpValidationError](): "HTTPValidationError",
	reflect.TypeFor[validationError]():     "ValidationError",
	reflect.TypeFor[unauthorizedError]():   "UnauthorizedError",
	reflect.TypeFor[rateLimitedError]():    "RateLimitedError",

	reflect.TypeFor[loginChallenge]():         "LoginChallenge",
	reflect.TypeFor[tokenBody]():              "TokenBody",
	reflect.TypeFor[codeBody]():               "TOTPCode",
	reflect.TypeFor[totpStatus]():             "TOTPStatus",
	reflect.TypeFor[totpEnrolment]():          "TOTPEnrolment",
	reflect.TypeFor[recoveryCodes]():          "RecoveryCodes",
	reflect.TypeFor[keel.SecondFactorInput](): "TwoFactorLogin",
	reflect.TypeFor[keel.DisableTOTPInput]():  "TOTPDisable",

	reflect.TypeFor[keel.SignUpInput]():         "UserRegister",
	reflect.TypeFor[keel.CreateUserInput]():     "UserCreate",
	reflect.TypeFor[keel.UpdateMeInput]():       "UserUpdateMe",
	reflect.TypeFor[keel.UpdateUserInput]():     "UserUpdate",
	reflect.TypeFor[keel.ChangePasswordInput](): "UpdatePassword",
	reflect.TypeFor[keel.ResetPasswordInput]():  "NewPassword",
	reflect.TypeFor[keel.CreateAPITokenInput](): "APITokenCreate",
	reflect.TypeFor[sessionPublic]():            "SessionPublic",
	reflect.TypeFor[sessionsPublic]():           "SessionsPublic",
	reflect.TypeFor[apiTokenPublic]():           "APITokenPublic",
	reflect.TypeFor[apiTokensPublic]():          "APITokensPublic",
	reflect.TypeFor[apiTokenCreated]():          "APITokenCreated",
	reflect.TypeFor[keel.CreateItemInput]():     "ItemCreate",
	reflect.TypeFor[keel.UpdateItemInput]():     "ItemUpdate",
	reflect.TypeFor[loginForm]():                "Body_login-login_access_token",
	reflect.TypeFor[privateUserCreate]():        "PrivateUserCreate",

	reflect.TypeFor[providerList]():                  "ProviderList",
	reflect.TypeFor[loginCode]():                     "LoginCode",
	reflect.TypeFor[identityPublic]():                "IdentityPublic",
	reflect.TypeFor[identitiesPublic]():              "IdentitiesPublic",
	reflect.TypeFor[passkeyCeremony]():               "PasskeyCeremony",
	reflect.TypeFor[passkeyPublic]():                 "PasskeyPublic",
	reflect.TypeFor[passkeysPublic]():                "PasskeysPublic",
	reflect.TypeFor[keel.PasskeyRegistrationInput](): "PasskeyRegistration",
	reflect.TypeFor[keel.PasskeyLoginInput]():        "PasskeyLogin",
	reflect.TypeFor[keel.PasskeySecondFactorInput](): "PasskeySecondFactor",
	reflect.TypeFor[challengeBody]():                 "LoginChallengeToken",
}

// securityName is the name of the OAuth2 password-flow security scheme,
// as in the FastAPI template.
const securityName = "OAuth2PasswordBearer"

// buildOpenAPI makes the OpenAPI 3.1 document of the route table with
// swaggest/openapi-go, reflecting the handlers' own request and response
// types.
func (a *api) buildOpenAPI() ([]byte, error) {
	cfg := a.svc.Config()
	reflector := openapi31.NewReflector()
	reflector.Spec.Info.WithTitle(a.cfg.Title).WithVersion(a.cfg.Version).
		WithDescription("The keel users, items and authentication API. Every collection path is served with and without its trailing slash.")
	// Relative to where the document is served, so it works under any mount prefix.
	reflector.Spec.WithServers(openapi31.Server{URL: "./"})
	reflector.Spec.ComponentsEns().WithSecuritySchemesItem(securityName, openapi31.SecuritySchemeOrReference{
		SecurityScheme: &openapi31.SecurityScheme{
			Oauth2: (&openapi31.SecuritySchemeOauth2{}).WithFlows(openapi31.OauthFlows{
				Password: &openapi31.OauthFlowsDefsPassword{TokenURL: "login/access-token", Scopes: map[string]string{}},
			}),
		},
	})

	// keel.Optional[T] is T on the wire (null only where T is a pointer).
	reflector.AddTypeMapping(keel.Optional[string]{}, "")
	reflector.AddTypeMapping(keel.Optional[*string]{}, "")
	reflector.AddTypeMapping(keel.Optional[bool]{}, false)
	// WebAuthn options and credentials pass through as JSON objects.
	reflector.AddTypeMapping(json.RawMessage{}, map[string]any{})
	// A UUID is an inline {"type": "string", "format": "uuid"}, as FastAPI
	// writes it, not a shared component a generated client would name.
	reflector.JSONSchemaReflector().InlineDefinition(uuid.UUID{})
	reflector.DefaultOptions = append(reflector.DefaultOptions,
		jsonschema.InterceptDefName(func(t reflect.Type, def string) string {
			if n, ok := schemaNames[t]; ok {
				return n
			}
			return strings.TrimPrefix(def, "Httpapi")
		}),
		jsonschema.InterceptProp(func(p jsonschema.InterceptPropParams) error {
			if !p.Processed || p.PropertySchema == nil {
				return nil
			}
			s := p.PropertySchema
			ft := p.Field.Type
			if v := optionalValue(ft); v != nil && v.Kind() == reflect.Pointer {
				s.AddType(jsonschema.Null)
			}
			tag := p.Field.Tag.Get("validate")
			if tag == "" {
				tag = p.Field.Tag.Get("optional")
			}
			for rule := range strings.SplitSeq(tag, ",") {
				k, v, _ := strings.Cut(rule, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch {
				case k == "min" && ft.Kind() == reflect.Int:
					s.WithMinimum(float64(n))
				case k == "max" && ft.Kind() == reflect.Int:
					s.WithMaximum(float64(n))
				case k == "min":
					s.WithMinLength(n)
				case k == "max":
					s.WithMaxLength(n)
				case k == "email":
					s.WithFormat("email")
				case k == "password": // keel's alias for its password length rule
					s.WithMinLength(keel.MinPasswordLength)
					s.WithMaxLength(keel.MaxPasswordLength)
				}
			}
			if keel.IsPasswordField(p.Name) && s.Format == nil {
				s.WithFormat("password")
			}
			if p.Field.Name == "Loc" && p.Field.Type == reflect.TypeFor[[]any]() {
				// A location is names and, for malformed JSON, an offset.
				var item jsonschema.Schema
				item.AnyOf = []jsonschema.SchemaOrBool{jsonschema.String.ToSchemaOrBool(), jsonschema.Integer.ToSchemaOrBool()}
				sb := item.ToSchemaOrBool()
				s.Items = &jsonschema.Items{SchemaOrBool: &sb}
				s.Type = nil
				s.WithType(jsonschema.Array.Type())
			}
			if p.Field.Name == "Limit" && ft.Kind() == reflect.Int && p.ParentSchema != nil && p.Field.Tag.Get("query") == "limit" {
				s.WithMaximum(float64(cfg.MaxPageLimit))
				s.WithDefault(cfg.DefaultPageLimit)
			}
			if p.Field.Name == "ExpiresInDays" && ft.Kind() == reflect.Int {
				s.WithMaximum(float64(cfg.MaxAPITokenLifetime / (24 * time.Hour)))
			}
			return nil
		}),
	)

	for _, rt := range a.routes {
		if rt.doc.hidden {
			continue
		}
		oc, err := reflector.NewOperationContext(rt.method, rt.path)
		if err != nil {
			return nil, err
		}
		oc.SetID(rt.operationID())
		oc.SetTags(rt.tag)
		oc.SetSummary(rt.summary)
		if strings.HasSuffix(rt.path, "/") {
			oc.SetDescription("Also served at " + strings.TrimSuffix(rt.path, "/") + ", without a redirect.")
		}
		d := rt.doc
		if d.params != nil {
			oc.AddReqStructure(d.params)
		}
		if d.body != nil {
			oc.AddReqStructure(d.body, openapi.WithContentType("application/json"))
		}
		if d.form != nil {
			oc.AddReqStructure(d.form, openapi.WithContentType("application/x-www-form-urlencoded"))
		}
		oc.AddRespStructure(d.response, openapi.WithHTTPStatus(d.status))
		if d.altStatus != 0 {
			oc.AddRespStructure(d.altResponse, openapi.WithHTTPStatus(d.altStatus))
		}
		if rt.access != public {
			oc.AddSecurity(securityName)
		}
		for _, st := range a.allErrorStatuses(rt) {
			var v any = httpError{}
			switch st {
			case http.StatusUnauthorized:
				v = unauthorizedError{}
			case http.StatusTooManyRequests:
				v = rateLimitedError{}
			case http.StatusUnprocessableEntity:
				v = httpValidationError{}
			}
			if b, ok := d.errorBodies[st]; ok {
				v = b
			}
			oc.AddRespStructure(v, openapi.WithHTTPStatus(st))
		}
		if err := reflector.AddOperation(oc); err != nil {
			return nil, err
		}
	}
	dropFormPrefix(reflector.Spec)
	return reflector.Spec.MarshalJSON()
}

// formDefPrefix is what openapi-go puts before the component name of a
// form body's type, after every name interceptor has run.
const formDefPrefix = "FormData"

// dropFormPrefix renames the component schemas of form bodies to the names
// schemaNames gives them ("Body_login-login_access_token", not
// "FormDataBody_login-login_access_token"), so that a client generated from
// the template's document keeps its type names, and points the request
// bodies at the new names.
func dropFormPrefix(s *openapi31.Spec) {
	const refPrefix = "#/components/schemas/"
	if s.Components == nil || s.Paths == nil {
		return
	}
	names := make(map[string]bool, len(schemaNames))
	for _, n := range schemaNames {
		names[n] = true
	}
	for _, item := range s.Paths.MapOfPathItemValues {
		for _, op := range []*openapi31.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil || op.RequestBody == nil || op.RequestBody.RequestBody == nil {
				continue
			}
			for _, mt := range op.RequestBody.RequestBody.Content {
				ref, _ := mt.Schema["$ref"].(string)
				name, ok := strings.CutPrefix(ref, refPrefix+formDefPrefix)
				if !ok || !names[name] {
					continue
				}
				mt.Schema["$ref"] = refPrefix + name
				if def, ok := s.Components.Schemas[formDefPrefix+name]; ok {
					s.Components.Schemas[name] = def
					delete(s.Components.Schemas, formDefPrefix+name)
				}
			}
		}
	}
}

// allErrorStatuses lists every error status a route can answer.
func (a *api) allErrorStatuses(rt route) []int {
	st := slices.Clone(rt.doc.errorStatuses)
	if rt.access != public {
		// 400 Inactive user, 401 no or bad credentials, 403 cross-origin
		// cookie request (and superuser routes).
		st = append(st, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden)
	}
	if rt.doc.body != nil || rt.doc.form != nil {
		st = append(st, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
	}
	if rt.doc.params != nil {
		st = append(st, http.StatusUnprocessableEntity)
	}
	st = append(st, http.StatusInternalServerError, http.StatusServiceUnavailable)
	slices.Sort(st)
	return slices.Compact(st)
}

// serveOpenAPI serves GET /openapi.json.
func serveOpenAPI(a *api, w http.ResponseWriter, _ *http.Request, _ *keel.Session) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(a.openapi)))
	w.WriteHeader(http.StatusOK)
	w.Write(a.openapi)
	return nil
}
