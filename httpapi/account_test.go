package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/memstore"
)

// accountStores are the stores the account flows run on end to end:
// memstore, SQLite and, when KEEL_TEST_DATABASE_URL is set, PostgreSQL.
var accountStores = []struct {
	name string
	open func(t *testing.T) keel.Store
}{
	{"memstore", func(*testing.T) keel.Store { return memstore.New() }},
	{"SQLite", func(t *testing.T) keel.Store { return openBun(t, "sqlite://"+t.TempDir()+"/keel.db") }},
	{"PostgreSQL", func(t *testing.T) keel.Store { return openBun(t, pgtest.Schema(t)) }},
}

func openBun(t *testing.T, url string) keel.Store {
	t.Helper()
	st, err := bunstore.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// nextStep moves the clock to the start of the next TOTP time step.
func (c *testClock) nextStep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Unix((c.now.Unix()/30+1)*30, 0).UTC()
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func withClock(c *testClock) envOption {
	return withKeel(func(k *keel.Config) { k.Now = c.Now })
}

func withTOTPKey(k *keel.Config) { k.TOTP.Keys = [][]byte{bytes.Repeat([]byte{9}, 32)} }

func withVerification(mode keel.VerificationMode) envOption {
	return withKeel(func(k *keel.Config) { k.EmailVerification = mode })
}

// settle waits for the emails keel sends in the background.
func (e *env) settle() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.svc.Close(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) loginForm(email, pw string) *resp {
	return e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {email}, "password": {pw}}})
}

func (e *env) code(c *testClock, secret string) string {
	e.t.Helper()
	s, err := totp.GenerateCodeCustom(secret, c.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// challenge logs in with the password and returns the challenge of the 403.
func (e *env) challenge(t *testing.T, email string) string {
	t.Helper()
	res := e.loginForm(email, password)
	expect(t, res, http.StatusForbidden, "Two-factor authentication required")
	body := res.json(t)
	if _, ok := body["access_token"]; ok || res.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a challenged login carried credentials: %s %v", res.body, res.Header)
	}
	ch, _ := body["challenge"].(string)
	if len(ch) < 40 {
		t.Fatalf("challenge %q", ch)
	}
	return ch
}

func TestAccountFeaturesAreOffByDefault(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("ada@example.com", false)
	for _, q := range []req{
		{method: "POST", path: "/email-verification/ada@example.com"},
		{method: "POST", path: "/verify-email/", json: map[string]string{"token": "x"}},
		{method: "POST", path: "/confirm-email/", json: map[string]string{"token": "x"}},
		{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": "x", "code": "123456"}},
		{method: "POST", path: "/users/me/totp", bearer: tok},
	} {
		t.Run(q.method+" "+q.path+" is not served", func(t *testing.T) {
			expect(t, e.do(q), http.StatusNotFound, "Not Found")
		})
	}
	t.Run("a user has no is_verified field", func(t *testing.T) {
		if _, ok := e.do(req{method: "GET", path: "/users/me", bearer: tok}).json(t)["is_verified"]; ok {
			t.Fatal("is_verified shown with verification off")
		}
	})
	t.Run("PATCH /users/me changes the email at once", func(t *testing.T) {
		res := e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]string{"email": "ada@new.example"}})
		if res.StatusCode != 200 || res.json(t)["email"] != "ada@new.example" {
			t.Fatalf("%d %s", res.StatusCode, res.body)
		}
	})
}

func TestEmailVerificationHTTP(t *testing.T) {
	for _, st := range accountStores {
		t.Run(st.name, func(t *testing.T) {
			t.Run("sign-up, the link, and a login that waits for it", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), withVerification(keel.VerificationRequired))
				res := e.do(req{method: "POST", path: "/users/signup", json: map[string]string{"email": "ada@example.com", "password": password}})
				if res.StatusCode != 201 || res.json(t)["is_verified"] != false {
					t.Fatalf("sign-up: %d %s", res.StatusCode, res.body)
				}
				expect(t, e.loginForm("ada@example.com", password), http.StatusForbidden, "Email not verified")
				expect(t, e.loginForm("ada@example.com", "a wrong password"), http.StatusBadRequest, "Incorrect email or password")

				e.settle()
				first := e.mail.Verifications()
				expect(t, e.do(req{method: "POST", path: "/email-verification/ada@example.com"}), 200, "")
				e.settle()
				all := e.mail.Verifications()
				if len(first) != 1 || len(all) != 2 {
					t.Fatalf("verification mails %d then %d, want 1 then 2", len(first), len(all))
				}
				expect(t, e.do(req{method: "POST", path: "/verify-email/", json: map[string]string{"token": first[0].Token}}), http.StatusBadRequest, "Invalid token")
				expectMessage(t, e.do(req{method: "POST", path: "/verify-email", json: map[string]string{"token": all[1].Token}}), "Email verified")
				expect(t, e.do(req{method: "POST", path: "/verify-email/", json: map[string]string{"token": all[1].Token}}), http.StatusBadRequest, "Invalid token")

				tok := e.login("ada@example.com")
				if got := e.do(req{method: "GET", path: "/users/me", bearer: tok}).json(t)["is_verified"]; got != true {
					t.Fatalf("is_verified = %v", got)
				}
			})

			t.Run("asking for a link answers the same for any address, and is rate limited", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), withVerification(keel.VerificationOptional))
				e.account("ada@example.com", false)
				a := e.do(req{method: "POST", path: "/email-verification/ada@example.com"})
				b := e.do(req{method: "POST", path: "/email-verification/nobody@example.com"})
				if a.StatusCode != 200 || string(a.body) != string(b.body) {
					t.Fatalf("answers differ: %d %s / %d %s", a.StatusCode, a.body, b.StatusCode, b.body)
				}
				for range 2 {
					e.do(req{method: "POST", path: "/email-verification/ada@example.com"})
				}
				res := e.do(req{method: "POST", path: "/email-verification/ada@example.com"})
				expect(t, res, http.StatusTooManyRequests, "Too many requests")
			})

			t.Run("an email change waits for the new address, and never duplicates one", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), withVerification(keel.VerificationOptional))
				_, ada := e.userToken("ada@example.com", false)
				_, bob := e.userToken("bob@example.com", false)
				res := e.do(req{method: "PATCH", path: "/users/me", bearer: ada, json: map[string]string{"email": "shared@example.com"}})
				if res.StatusCode != 200 || res.json(t)["email"] != "ada@example.com" {
					t.Fatalf("PATCH /users/me: %d %s", res.StatusCode, res.body)
				}
				e.do(req{method: "PATCH", path: "/users/me", bearer: bob, json: map[string]string{"email": "shared@example.com"}})
				e.settle()
				changes := e.mail.EmailChanges()
				if len(changes) != 2 || len(e.mail.EmailChangeNotices()) != 2 {
					t.Fatalf("%d confirmations, %d notices", len(changes), len(e.mail.EmailChangeNotices()))
				}
				expectMessage(t, e.do(req{method: "POST", path: "/confirm-email/", json: map[string]string{"token": changes[0].Token}}), "Email changed")
				expect(t, e.do(req{method: "POST", path: "/confirm-email/", json: map[string]string{"token": changes[1].Token}}), http.StatusConflict, "User with this email already exists")
				if got := e.do(req{method: "GET", path: "/users/me", bearer: ada}).json(t); got["email"] != "shared@example.com" || got["is_verified"] != true {
					t.Fatalf("ada = %v", got)
				}
				if got := e.do(req{method: "GET", path: "/users/me", bearer: bob}).json(t)["email"]; got != "bob@example.com" {
					t.Fatalf("bob's email = %v", got)
				}
			})

			t.Run("of concurrent confirmations of changes to one address exactly one wins", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), withVerification(keel.VerificationOptional))
				for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
					_, tok := e.userToken(email, false)
					e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]string{"email": "shared@example.com"}})
				}
				e.settle()
				changes := e.mail.EmailChanges()
				statuses := make([]int, len(changes))
				var wg sync.WaitGroup
				for i, m := range changes {
					wg.Go(func() {
						statuses[i] = e.do(req{method: "POST", path: "/confirm-email/", json: map[string]string{"token": m.Token}}).StatusCode
					})
				}
				wg.Wait()
				won := 0
				for _, st := range statuses {
					switch st {
					case 200:
						won++
					case http.StatusConflict:
					default:
						t.Errorf("status %d", st)
					}
				}
				if won != 1 || len(changes) != 4 {
					t.Fatalf("%d of %d confirmations won, want 1: %v", won, len(changes), statuses)
				}
			})

			t.Run("a superuser marks a user verified", func(t *testing.T) {
				e := newEnvOn(t, st.open(t), withVerification(keel.VerificationRequired))
				_, root := e.userToken("root@example.com", true)
				u := e.account("ada@example.com", false)
				res := e.do(req{method: "PATCH", path: "/users/" + u.ID.String(), bearer: root, json: map[string]bool{"is_verified": true}})
				if res.StatusCode != 200 || res.json(t)["is_verified"] != true {
					t.Fatalf("%d %s", res.StatusCode, res.body)
				}
				e.login("ada@example.com")
			})
		})
	}
}

func TestTwoFactorHTTP(t *testing.T) {
	for _, st := range accountStores {
		t.Run(st.name, func(t *testing.T) {
			clock := &testClock{now: time.Now().UTC()}
			e := newEnvOn(t, st.open(t), withKeel(withTOTPKey), withClock(clock))
			_, tok := e.userToken("ada@example.com", false)
			_, root := e.userToken("root@example.com", true)

			var secret string
			var codes []string
			t.Run("enrolment answers a secret, its URI and a PNG QR code", func(t *testing.T) {
				res := e.do(req{method: "POST", path: "/users/me/totp", bearer: tok})
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, res.body)
				}
				body := res.json(t)
				secret, _ = body["secret"].(string)
				uri, _ := body["uri"].(string)
				qr, _ := body["qr_code"].(string)
				if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
					t.Fatalf("uri %q", uri)
				}
				b64, ok := strings.CutPrefix(qr, "data:image/png;base64,")
				raw, err := base64.StdEncoding.DecodeString(b64)
				if !ok || err != nil {
					t.Fatalf("qr_code %.40q", qr)
				}
				if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
					t.Fatalf("qr_code is no PNG: %v", err)
				}
				if res.Header.Get("Cache-Control") != "no-store" {
					t.Fatal("the secret may be cached")
				}
			})
			t.Run("confirming with a code answers ten recovery codes", func(t *testing.T) {
				expect(t, e.do(req{method: "POST", path: "/users/me/totp/confirm", bearer: tok, json: map[string]string{"code": "000000"}}), http.StatusBadRequest, "")
				res := e.do(req{method: "POST", path: "/users/me/totp/confirm", bearer: tok, json: map[string]string{"code": e.code(clock, secret)}})
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, res.body)
				}
				for _, c := range res.json(t)["recovery_codes"].([]any) {
					codes = append(codes, c.(string))
				}
				if len(codes) != keel.RecoveryCodeCount {
					t.Fatalf("codes %v", codes)
				}
				clock.nextStep()
			})
			t.Run("enrolling or confirming again is refused", func(t *testing.T) {
				expect(t, e.do(req{method: "POST", path: "/users/me/totp", bearer: tok}), http.StatusConflict, "Two-factor authentication is already enabled")
				expect(t, e.do(req{method: "POST", path: "/users/me/totp/confirm", bearer: tok, json: map[string]string{"code": e.code(clock, secret)}}), http.StatusConflict, "Two-factor authentication is already enabled")
				_, other := e.userToken("carol@example.com", false)
				expect(t, e.do(req{method: "POST", path: "/users/me/totp/confirm", bearer: other, json: map[string]string{"code": "123456"}}), http.StatusBadRequest, "No two-factor enrolment is pending")
			})
			t.Run("a password login answers a challenge, and the challenge and a code the token", func(t *testing.T) {
				ch := e.challenge(t, "ada@example.com")
				res := e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": ch, "code": e.code(clock, secret)}})
				if res.StatusCode != 200 {
					t.Fatalf("%d %s", res.StatusCode, res.body)
				}
				names := map[string]bool{}
				for _, c := range res.Cookies() {
					names[c.Name] = c.Value != ""
				}
				if !names[cookieName] || !names[httpapi.DefaultDeviceCookieName] {
					t.Fatalf("cookies set %v, want the session and the device cookie", names)
				}
				session, _ := res.json(t)["access_token"].(string)
				expect(t, e.do(req{method: "GET", path: "/users/me", bearer: session}), 200, "")
			})
			t.Run("a replayed code is refused", func(t *testing.T) {
				ch := e.challenge(t, "ada@example.com")
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": ch, "code": e.code(clock, secret)}}), http.StatusBadRequest, "Invalid code")
			})
			t.Run("a recovery code works once", func(t *testing.T) {
				res := e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": e.challenge(t, "ada@example.com"), "recovery_code": codes[0]}})
				expect(t, res, 200, "")
				res = e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": e.challenge(t, "ada@example.com"), "recovery_code": codes[0]}})
				expect(t, res, http.StatusBadRequest, "Invalid code")
			})
			t.Run("a used, superseded or expired challenge is refused", func(t *testing.T) {
				clock.nextStep()
				used := e.challenge(t, "ada@example.com")
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": used, "recovery_code": codes[1]}}), 200, "")
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": used, "code": e.code(clock, secret)}}), http.StatusBadRequest, "Invalid or expired login challenge")

				stale := e.challenge(t, "ada@example.com")
				e.challenge(t, "ada@example.com")
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": stale, "code": e.code(clock, secret)}}), http.StatusBadRequest, "Invalid or expired login challenge")

				expired := e.challenge(t, "ada@example.com")
				clock.advance(keel.DefaultChallengeLifetime)
				expect(t, e.do(req{method: "POST", path: "/login/two-factor", json: map[string]string{"challenge": expired, "code": e.code(clock, secret)}}), http.StatusBadRequest, "Invalid or expired login challenge")
			})
			t.Run("a password reset does not bypass the second factor", func(t *testing.T) {
				clock.nextStep()
				expect(t, e.do(req{method: "POST", path: "/password-recovery/ada@example.com"}), 200, "")
				m := e.mail.WaitReset(t)
				expect(t, e.do(req{method: "POST", path: "/reset-password/", json: map[string]string{"token": m.Token, "new_password": "a brand new password"}}), 200, "")
				res := e.loginForm("ada@example.com", "a brand new password")
				expect(t, res, http.StatusForbidden, "Two-factor authentication required")
			})
			t.Run("only a superuser removes a user's second factor", func(t *testing.T) {
				ada, err := e.store.UserByEmail(t.Context(), "ada@example.com")
				if err != nil {
					t.Fatal(err)
				}
				path := "/users/" + ada.ID.String() + "/totp"
				_, bob := e.userToken("bob@example.com", false)
				expect(t, e.do(req{method: "DELETE", path: path, bearer: bob}), http.StatusForbidden, "")
				expectMessage(t, e.do(req{method: "DELETE", path: path, bearer: root}), "Two-factor authentication removed")
				expect(t, e.do(req{method: "DELETE", path: path, bearer: root}), http.StatusNotFound, "Two-factor authentication is not enabled")
				res := e.loginForm("ada@example.com", "a brand new password")
				expect(t, res, 200, "")
			})
		})
	}
}

func TestTOTPDisableHTTP(t *testing.T) {
	clock := &testClock{now: time.Now().UTC()}
	e := newEnv(t, withKeel(withTOTPKey), withClock(clock))
	_, tok := e.userToken("ada@example.com", false)
	secret, _ := e.do(req{method: "POST", path: "/users/me/totp", bearer: tok}).json(t)["secret"].(string)
	expect(t, e.do(req{method: "POST", path: "/users/me/totp/confirm", bearer: tok, json: map[string]string{"code": e.code(clock, secret)}}), 200, "")
	clock.nextStep()
	if got := e.do(req{method: "GET", path: "/users/me/totp", bearer: tok}).json(t); got["enabled"] != true || got["recovery_codes_left"] != float64(keel.RecoveryCodeCount) {
		t.Fatalf("status %v", got)
	}
	t.Run("a wrong password is refused", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/users/me/totp/disable", bearer: tok, json: map[string]string{"password": "a wrong password", "code": e.code(clock, secret)}})
		expect(t, res, http.StatusBadRequest, "Incorrect password")
	})
	t.Run("a missing password is a 422", func(t *testing.T) {
		validationDetail(t, e.do(req{method: "POST", path: "/users/me/totp/disable", bearer: tok, json: map[string]string{"code": "123456"}}))
	})
	t.Run("the password and a code turn it off", func(t *testing.T) {
		expectMessage(t, e.do(req{method: "POST", path: "/users/me/totp/disable", bearer: tok, json: map[string]string{"password": password, "code": e.code(clock, secret)}}), "Two-factor authentication disabled")
		e.login("ada@example.com")
	})
}

// expectMessage checks a 200 Message answer.
func expectMessage(t *testing.T, res *resp, msg string) {
	t.Helper()
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200: %s", res.StatusCode, res.body)
	}
	if got := res.json(t)["message"]; got != msg {
		t.Fatalf("message %q, want %q", got, msg)
	}
}
