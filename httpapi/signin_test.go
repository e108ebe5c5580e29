package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/oidctest"
	"github.com/keel-dev/keel/internal/webauthntest"
	"github.com/keel-dev/keel/oidc"
	"github.com/keel-dev/keel/passkey"
	"github.com/keel-dev/keel/store/memstore"
)

const (
	frontendURL  = "https://app.keel.example/signed-in"
	webOrigin    = "https://app.keel.example"
	callbackBase = "https://api.keel.example/login/oidc/"
)

// signInEnv is an API with a mock provider named "mock" and passkeys.
type signInEnv struct {
	*env
	op   *oidctest.Provider
	auth *webauthntest.Authenticator
}

func newSignInEnv(t *testing.T, store keel.Store, redirect string, opts ...envOption) *signInEnv {
	t.Helper()
	op := oidctest.Start(t)
	p, err := oidc.New(oidc.Config{Name: "mock", Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: op.ClientSecret, RedirectURL: callbackBase + "mock/callback"})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := passkey.New(passkey.Config{RPID: "keel.example", Origins: []string{webOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts,
		withKeel(func(c *keel.Config) { c.IdentityProviders, c.Passkeys = []keel.IdentityProvider{p}, rp }),
		withHTTP(func(c *httpapi.Config) { c.LoginRedirectURL = redirect }))
	e := newEnvOn(t, store, opts...)
	return &signInEnv{env: e, op: op, auth: &webauthntest.Authenticator{Origin: webOrigin}}
}

// begin runs GET /login/oidc/mock and plays the browser at the provider:
// it returns the callback request's path and query, and the state cookie.
func (e *signInEnv) begin(t *testing.T) (callback string, stateCookie *http.Cookie) {
	t.Helper()
	res := e.do(req{method: "GET", path: "/login/oidc/mock"})
	if res.StatusCode != http.StatusFound {
		t.Fatalf("GET /login/oidc/mock: %d %s", res.StatusCode, res.body)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	for _, c := range res.Cookies() {
		if c.Name == httpapi.DefaultCookieName+"_oidc" {
			stateCookie = c
		}
	}
	if stateCookie == nil || !stateCookie.HttpOnly || stateCookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("the state cookie is %+v: want an HttpOnly, SameSite=Lax cookie", stateCookie)
	}
	cb := oidctest.Authorize(t, res.Header.Get("Location"))
	if !strings.HasPrefix(cb.String(), callbackBase+"mock/callback?") {
		t.Fatalf("the provider sent the browser to %s, not to the callback", cb)
	}
	return "/login/oidc/mock/callback?" + cb.RawQuery, stateCookie
}

// finish calls the callback with the state cookie and returns the
// fragment of the frontend URL it sends the browser to.
func (e *signInEnv) finish(t *testing.T, callback string, stateCookie *http.Cookie) url.Values {
	t.Helper()
	q := req{method: "GET", path: callback}
	if stateCookie != nil {
		q.header = map[string]string{"Cookie": stateCookie.Name + "=" + stateCookie.Value}
	}
	res := e.do(q)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the callback answered %d, want 303: %s", res.StatusCode, res.body)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != frontendURL || loc.RawQuery != "" {
		t.Fatalf("the callback redirected to %s, want the configured %s", loc, frontendURL)
	}
	frag, err := url.ParseQuery(loc.EscapedFragment())
	if err != nil {
		t.Fatal(err)
	}
	return frag
}

// roundTrip begins a sign-in and finishes it in the same browser.
func (e *signInEnv) roundTrip(t *testing.T) url.Values {
	t.Helper()
	cb, c := e.begin(t)
	return e.finish(t, cb, c)
}

// redeem exchanges a login code for a token.
func (e *signInEnv) redeem(t *testing.T, code string) *resp {
	t.Helper()
	return e.do(req{method: "POST", path: "/login/oidc/token", json: map[string]string{"code": code}})
}

func (e *signInEnv) me(t *testing.T, token string) map[string]any {
	t.Helper()
	res := e.do(req{method: "GET", path: "/users/me", bearer: token})
	expect(t, res, 200, "")
	return res.json(t)
}

func TestProviderSignInOverHTTP(t *testing.T) {
	for _, st := range accountStores {
		t.Run(st.name, func(t *testing.T) {
			e := newSignInEnv(t, st.open(t), frontendURL)

			res := e.do(req{method: "GET", path: "/login/providers"})
			expect(t, res, 200, "")
			if got := res.json(t)["providers"]; len(got.([]any)) != 1 || got.([]any)[0] != "mock" {
				t.Errorf("providers = %v", got)
			}

			e.op.User("sub-ada", "ada@example.com", true)
			frag := e.roundTrip(t)
			code := frag.Get("code")
			if code == "" || frag.Has("access_token") {
				t.Fatalf("fragment %v: want a login code and no token", frag)
			}
			res = e.redeem(t, code)
			expect(t, res, 200, "")
			token, _ := res.json(t)["access_token"].(string)
			if me := e.me(t, token); me["email"] != "ada@example.com" {
				t.Errorf("GET /users/me = %v", me)
			}
			if !strings.Contains(res.Header.Get("Set-Cookie"), httpapi.DefaultCookieName+"=") {
				t.Errorf("the redeemed code set no session cookie")
			}
			expect(t, e.redeem(t, code), 400, "Invalid or expired login code")

			res = e.do(req{method: "GET", path: "/users/me/identities", bearer: token})
			expect(t, res, 200, "")
			data := res.json(t)["data"].([]any)
			if len(data) != 1 || data[0].(map[string]any)["provider"] != "mock" {
				t.Fatalf("identities = %s", res.body)
			}
			id := data[0].(map[string]any)["id"].(string)
			expect(t, e.do(req{method: "DELETE", path: "/users/me/identities/" + id, bearer: token}), 409,
				"This is the account's last way to sign in; add another first")

			t.Run("hostile and failed callbacks send the browser to the frontend with an error, never a code", func(t *testing.T) {
				for _, tc := range []struct {
					name string
					run  func(t *testing.T) url.Values
					kind string
				}{
					{"a callback in a browser that did not begin the sign-in (login CSRF)", func(t *testing.T) url.Values {
						cb, _ := e.begin(t)
						return e.finish(t, cb, nil)
					}, "invalid_state"},
					{"a forged state, even with a matching cookie", func(t *testing.T) url.Values {
						cb, _ := e.begin(t)
						cb = strings.Replace(cb, "state=", "state=forged", 1)
						u, _ := url.Parse(cb)
						return e.finish(t, cb, &http.Cookie{Name: httpapi.DefaultCookieName + "_oidc", Value: u.Query().Get("state")})
					}, "invalid_state"},
					{"a replayed callback", func(t *testing.T) url.Values {
						cb, c := e.begin(t)
						if f := e.finish(t, cb, c); f.Get("code") == "" {
							t.Fatalf("the first callback: %v", f)
						}
						return e.finish(t, cb, c)
					}, "invalid_state"},
					{"an ID token issued to another client", func(t *testing.T) url.Values {
						cb, c := e.begin(t)
						e.op.IssueForAudience("another-client")
						return e.finish(t, cb, c)
					}, "provider_refused"},
					{"an email the provider has not verified", func(t *testing.T) url.Values {
						e.op.User("sub-eve", "eve@example.com", false)
						return e.roundTrip(t)
					}, "email_not_verified"},
					{"the email of an existing account", func(t *testing.T) url.Values {
						e.account("bob@example.com", false)
						e.op.User("sub-mallory", "bob@example.com", true)
						return e.roundTrip(t)
					}, "account_exists"},
				} {
					t.Run(tc.name, func(t *testing.T) {
						frag := tc.run(t)
						if frag.Get("error") != tc.kind || frag.Has("code") || frag.Get("error_description") == "" {
							t.Errorf("fragment %v: want error=%s with a description and no code", frag, tc.kind)
						}
					})
				}
			})
		})
	}
}

func TestProviderCallbackWithoutAFrontendAnswersJSON(t *testing.T) {
	e := newSignInEnv(t, memstore.New(), "")
	cb, c := e.begin(t)
	res := e.do(req{method: "GET", path: cb, header: map[string]string{"Cookie": c.Name + "=" + c.Value}})
	expect(t, res, 200, "")
	code, _ := res.json(t)["code"].(string)
	expect(t, e.redeem(t, code), 200, "")
	res = e.do(req{method: "GET", path: cb, header: map[string]string{"Cookie": c.Name + "=" + c.Value}})
	expect(t, res, 400, "Invalid or expired sign-in; start again")
	expect(t, e.do(req{method: "GET", path: "/login/oidc/nope"}), 404, "Identity provider not found")
}

func TestLoginRedirectURLMustBeAbsoluteWithoutAFragment(t *testing.T) {
	for _, raw := range []string{"/relative", "javascript:alert(1)", "https://app.example/#x", "ftp://app.example/"} {
		if err := httpapi.CheckLoginRedirectURL(raw); err == nil {
			t.Errorf("CheckLoginRedirectURL(%q) = nil", raw)
		}
	}
	if err := httpapi.CheckLoginRedirectURL(frontendURL); err != nil {
		t.Errorf("CheckLoginRedirectURL(%q) = %v", frontendURL, err)
	}
}

// passkeyCeremonyOf reads a ceremony answer.
func passkeyCeremonyOf(t *testing.T, res *resp) (id string, options []byte) {
	t.Helper()
	expect(t, res, 200, "")
	m := res.json(t)
	opts, err := jsonMarshal(m["options"])
	if err != nil {
		t.Fatal(err)
	}
	return m["ceremony"].(string), opts
}

func TestPasskeysOverHTTP(t *testing.T) {
	for _, st := range accountStores {
		t.Run(st.name, func(t *testing.T) {
			e := newSignInEnv(t, st.open(t), frontendURL)
			_, token := e.userToken("ada@example.com", false)

			ceremony, options := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/users/me/passkeys/options", bearer: token}))
			answer, cred, err := e.auth.Register(options)
			if err != nil {
				t.Fatal(err)
			}
			res := e.do(req{method: "POST", path: "/users/me/passkeys", bearer: token,
				json: map[string]any{"ceremony": ceremony, "name": "Laptop", "credential": rawJSON(answer)}})
			expect(t, res, 201, "")
			pk := res.json(t)
			if pk["name"] != "Laptop" || pk["last_used_at"] != nil {
				t.Errorf("the registered passkey = %v", pk)
			}
			expect(t, e.do(req{method: "POST", path: "/users/me/passkeys", bearer: token,
				json: map[string]any{"ceremony": ceremony, "name": "Again", "credential": rawJSON(answer)}}),
				400, "Invalid or expired passkey ceremony; start again")

			signIn := func(t *testing.T, a *webauthntest.Authenticator, c *webauthntest.Credential, handle []byte) (*resp, string, []byte) {
				t.Helper()
				id, opts := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/login/passkey/options"}))
				ans, err := a.AssertAs(opts, c, handle)
				if err != nil {
					t.Fatal(err)
				}
				return e.do(req{method: "POST", path: "/login/passkey", json: map[string]any{"ceremony": id, "credential": rawJSON(ans)}}), id, ans
			}

			res, ceremony, answer = signIn(t, e.auth, cred, cred.UserHandle)
			expect(t, res, 200, "")
			passkeyToken, _ := res.json(t)["access_token"].(string)
			if me := e.me(t, passkeyToken); me["email"] != "ada@example.com" {
				t.Fatalf("the passkey signed in %v", me)
			}

			_, bobToken := e.userToken("bob@example.com", false)
			_, bobOptions := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/users/me/passkeys/options", bearer: bobToken}))
			bobCeremony, _ := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/users/me/passkeys/options", bearer: bobToken}))
			_ = bobOptions

			for _, tc := range []struct {
				name   string
				attack func(t *testing.T) *resp
				status int
				detail string
			}{
				{"a replayed ceremony", func(t *testing.T) *resp {
					return e.do(req{method: "POST", path: "/login/passkey", json: map[string]any{"ceremony": ceremony, "credential": rawJSON(answer)}})
				}, 400, "Invalid or expired passkey ceremony; start again"},
				{"a replayed answer on a fresh ceremony", func(t *testing.T) *resp {
					id, _ := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/login/passkey/options"}))
					return e.do(req{method: "POST", path: "/login/passkey", json: map[string]any{"ceremony": id, "credential": rawJSON(answer)}})
				}, 400, "The passkey was refused"},
				{"an answer from another origin", func(t *testing.T) *resp {
					res, _, _ := signIn(t, &webauthntest.Authenticator{Origin: "https://evil.example"}, cred, cred.UserHandle)
					return res
				}, 400, "The passkey was refused"},
				{"a cloned authenticator whose counter went backwards", func(t *testing.T) *resp {
					clone := *cred
					clone.Counter = 0
					res, _, _ := signIn(t, e.auth, &clone, clone.UserHandle)
					return res
				}, 400, "The passkey was refused"},
				{"ada's credential claiming bob's user handle", func(t *testing.T) *resp {
					bob, _ := e.store.UserByEmail(t.Context(), "bob@example.com")
					handle, err := e.store.UserHandle(t.Context(), bob.ID)
					if err != nil {
						t.Fatal(err)
					}
					res, _, _ := signIn(t, e.auth, cred, handle)
					return res
				}, 400, "The passkey was refused"},
				{"a registration ceremony of bob's finished by ada", func(t *testing.T) *resp {
					_, opts := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/users/me/passkeys/options", bearer: token}))
					ans, _, _ := e.auth.Register(opts)
					return e.do(req{method: "POST", path: "/users/me/passkeys", bearer: token,
						json: map[string]any{"ceremony": bobCeremony, "name": "x", "credential": rawJSON(ans)}})
				}, 400, "Invalid or expired passkey ceremony; start again"},
			} {
				t.Run(tc.name+" is refused", func(t *testing.T) { expect(t, tc.attack(t), tc.status, tc.detail) })
			}

			res = e.do(req{method: "GET", path: "/users/me/passkeys", bearer: token})
			expect(t, res, 200, "")
			list := res.json(t)["data"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["last_used_at"] == nil {
				t.Fatalf("passkeys = %s: want the laptop, used", res.body)
			}
			id := list[0].(map[string]any)["id"].(string)
			expect(t, e.do(req{method: "DELETE", path: "/users/me/passkeys/" + id, bearer: bobToken}), 404, "Passkey not found")
			expect(t, e.do(req{method: "DELETE", path: "/users/me/passkeys/" + id, bearer: token}), 200, "")
			res, _, _ = signIn(t, e.auth, cred, cred.UserHandle)
			expect(t, res, 400, "The passkey was refused")
		})
	}
}

func TestPasskeysOffOverHTTP(t *testing.T) {
	e := newEnv(t)
	expect(t, e.do(req{method: "POST", path: "/login/passkey/options"}), 404, "Passkeys are not enabled")
}

// rawJSON puts JSON bytes into a request body as they are.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// enrolTOTP turns TOTP on for the token's user and returns the secret.
func (e *signInEnv) enrolTOTP(t *testing.T, clock *testClock, token string) string {
	t.Helper()
	res := e.do(req{method: "POST", path: "/users/me/totp", bearer: token})
	expect(t, res, 200, "")
	secret := res.json(t)["secret"].(string)
	expect(t, e.do(req{method: "POST", path: "/users/me/totp/confirm", bearer: token, json: map[string]string{"code": e.code(clock, secret)}}), 200, "")
	clock.nextStep()
	return secret
}

// registerPasskey registers a passkey for the token's user.
func (e *signInEnv) registerPasskey(t *testing.T, token string) *webauthntest.Credential {
	t.Helper()
	ceremony, options := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/users/me/passkeys/options", bearer: token}))
	answer, cred, err := e.auth.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, e.do(req{method: "POST", path: "/users/me/passkeys", bearer: token,
		json: map[string]any{"ceremony": ceremony, "name": "Key", "credential": rawJSON(answer)}}), 201, "")
	return cred
}

// challengeOf reads the 403 of a sign-in of a user with a second factor.
func challengeOf(t *testing.T, res *resp) string {
	t.Helper()
	expect(t, res, http.StatusForbidden, "Two-factor authentication required")
	body := res.json(t)
	if _, ok := body["access_token"]; ok || res.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a challenged sign-in carried credentials: %s", res.body)
	}
	return body["challenge"].(string)
}

func TestSecondFactorsOverHTTP(t *testing.T) {
	for _, st := range accountStores {
		t.Run(st.name, func(t *testing.T) {
			clock := &testClock{now: time.Now().UTC()}
			e := newSignInEnv(t, st.open(t), frontendURL, withClock(clock), withKeel(withTOTPKey))
			_, token := e.userToken("ada@example.com", false)
			secret := e.enrolTOTP(t, clock, token)
			cred := e.registerPasskey(t, token)
			_, bobToken := e.userToken("bob@example.com", false)
			bobCred := e.registerPasskey(t, bobToken)

			// withPasskey completes the challenge with c.
			withPasskey := func(t *testing.T, challenge string, c *webauthntest.Credential) *resp {
				t.Helper()
				id, opts := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/login/two-factor/passkey/options", json: map[string]string{"challenge": challenge}}))
				answer, err := e.auth.Assert(opts, c)
				if err != nil {
					t.Fatal(err)
				}
				return e.do(req{method: "POST", path: "/login/two-factor/passkey",
					json: map[string]any{"challenge": challenge, "ceremony": id, "credential": rawJSON(answer)}})
			}

			t.Run("a passkey completes a password login's challenge", func(t *testing.T) {
				res := withPasskey(t, e.challenge(t, "ada@example.com"), cred)
				expect(t, res, 200, "")
				tok, _ := res.json(t)["access_token"].(string)
				if me := e.me(t, tok); me["email"] != "ada@example.com" {
					t.Errorf("signed in %v", me)
				}
			})
			t.Run("another user's passkey is refused", func(t *testing.T) {
				expect(t, withPasskey(t, e.challenge(t, "ada@example.com"), bobCred), 400, "The passkey was refused")
			})
			t.Run("a challenge completed once is spent", func(t *testing.T) {
				ch := e.challenge(t, "ada@example.com")
				expect(t, withPasskey(t, ch, cred), 200, "")
				expect(t, e.do(req{method: "POST", path: "/login/two-factor/passkey/options", json: map[string]string{"challenge": ch}}),
					400, "Invalid or expired login challenge")
			})
			t.Run("a passkey sign-in of a user with TOTP answers the challenge, which a code completes", func(t *testing.T) {
				id, opts := passkeyCeremonyOf(t, e.do(req{method: "POST", path: "/login/passkey/options"}))
				answer, _ := e.auth.Assert(opts, cred)
				ch := challengeOf(t, e.do(req{method: "POST", path: "/login/passkey", json: map[string]any{"ceremony": id, "credential": rawJSON(answer)}}))
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": ch, "code": e.code(clock, secret)}}), 200, "")
				clock.nextStep()
			})
			t.Run("a provider sign-in of a user with TOTP answers the challenge at the code's redemption", func(t *testing.T) {
				e.op.User("sub-cy", "cy@example.com", true)
				res := e.redeem(t, e.roundTrip(t).Get("code"))
				expect(t, res, 200, "")
				cyToken := res.json(t)["access_token"].(string)
				cySecret := e.enrolTOTP(t, clock, cyToken)
				e.op.User("sub-cy", "cy@example.com", true)
				ch := challengeOf(t, e.redeem(t, e.roundTrip(t).Get("code")))
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": ch, "code": e.code(clock, cySecret)}}), 200, "")
			})
		})
	}
}
