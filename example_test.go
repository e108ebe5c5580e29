package keel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

// The whole flow through the root package alone: sign up, log in, create
// and list items, change the password, log out.
func Example() {
	ctx := context.Background()
	svc, err := keel.New(memstore.New(), keel.Config{})
	if err != nil {
		log.Fatal(err)
	}

	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		log.Fatal(err)
	}

	// Later, with only the token (say, from a request):
	sess, err = svc.Authenticate(ctx, sess.Token)
	if err != nil {
		log.Fatal(err)
	}
	me := sess.User
	if _, err := svc.CreateItem(ctx, me, keel.CreateItemInput{Title: "Notes on the engine"}); err != nil {
		log.Fatal(err)
	}
	items, count, err := svc.Items(ctx, me, keel.ListOptions{Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(count, items[0].Title)

	err = svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: "analytical engine", NewPassword: "difference engine"})
	fmt.Println("password changed:", err == nil)

	if err := svc.Logout(ctx, sess.Token); err != nil {
		log.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, sess.Token)
	fmt.Println(err)
	// Output:
	// 1 Notes on the engine
	// password changed: true
	// unauthenticated: session is unknown, expired or revoked
}

// Errors carry a code for adapters and, for invalid input, every failing
// field: the violation, its bound and a message that follows the field's
// name.
func ExampleErrorCode() {
	ctx := context.Background()
	svc, _ := keel.New(memstore.New(), keel.Config{})
	_, err := svc.SignUp(ctx, keel.SignUpInput{Email: "not-an-email", Password: "short"})
	fmt.Println(keel.ErrorCode(err))
	var e *keel.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			fmt.Printf("%s %s (%v, bound %d)\n", f.Field, f.Message, f.Violation, f.Bound)
		}
	}
	// Output:
	// invalid
	// email is not a valid email address (not an email address, bound 0)
	// password must be at least 8 characters (too short, bound 8)
}

// A personal API token for a script: made with a session, shown once, and
// from then on authenticated like a session token, with its scope carried
// into every call.
func ExampleService_CreateAPIToken() {
	ctx := context.Background()
	svc, _ := keel.New(memstore.New(), keel.Config{})
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := svc.CreateAPIToken(ctx, sess.User, keel.CreateAPITokenInput{Name: "backup script", Scope: keel.ScopeRead, ExpiresInDays: 90})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Token[:len(keel.APITokenPrefix)], tok.Name, tok.Scope)

	// The script, with only the token:
	script, err := svc.Authenticate(ctx, tok.Token)
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = svc.Items(ctx, script.User, keel.ListOptions{})
	fmt.Println("reads:", err == nil)
	_, err = svc.CreateItem(ctx, script.User, keel.CreateItemInput{Title: "from the script"})
	fmt.Println("writes:", err)
	// Output:
	// keel_pat_ backup script read
	// reads: true
	// writes: permission denied: API token is read-only
}

// A user's sessions, the one asked with marked current, and ending the
// others.
func ExampleService_Sessions() {
	ctx := context.Background()
	svc, _ := keel.New(memstore.New(), keel.Config{})
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	for _, ua := range []string{"Firefox on a laptop", "Safari on a phone"} {
		// An adapter says who the client is; httpapi does for every request.
		client := keel.WithClient(ctx, keel.Client{UserAgent: ua})
		if _, err := svc.Login(client, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
			log.Fatal(err)
		}
	}
	client := keel.WithClient(ctx, keel.Client{Addr: "192.0.2.7", UserAgent: "curl/8.5"})
	sess, err := svc.Login(client, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		log.Fatal(err)
	}
	list, err := svc.Sessions(ctx, sess, sess.User.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range list {
		fmt.Println(s.UserAgent, s.Current)
	}
	n, err := svc.EndOtherSessions(ctx, sess)
	fmt.Println("ended", n, err)
	// Output:
	// curl/8.5 true
	// Safari on a phone false
	// Firefox on a laptop false
	// ended 2 <nil>
}

// A before hook vetoes sign-ups from other domains, and an after hook
// greets the users who made it, once their account is committed.
func ExampleHooks() {
	ctx := context.Background()
	welcomed := make(chan string, 1)
	svc, err := keel.New(memstore.New(), keel.Config{Hooks: keel.Hooks{
		Before: []keel.BeforeHook{func(ctx context.Context, tx keel.Tx, e keel.Event) error {
			if e.Kind == keel.EventSignedUp && !strings.HasSuffix(e.Email, "@example.com") {
				return keel.Reject("email", e.Email, "only @example.com addresses may sign up")
			}
			return nil
		}},
		After: []keel.AfterHook{func(ctx context.Context, e keel.Event) {
			if e.Kind == keel.EventSignedUp {
				welcomed <- e.Email
			}
		}},
	}})
	if err != nil {
		log.Fatal(err)
	}

	_, err = svc.SignUp(ctx, keel.SignUpInput{Email: "eve@example.org", Password: "analytical engine"})
	var kerr *keel.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Fields[0].Field, kerr.Fields[0].Message)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("welcome,", <-welcomed)
	svc.Close(ctx)
	// Output:
	// email only @example.com addresses may sign up
	// welcome, ada@example.com
}

// apiMailer delivers keel's emails through an email service's HTTP API
// instead of SMTP.
type apiMailer struct {
	endpoint string // the service's send endpoint
	client   *http.Client
	resetURL string // the frontend's reset page
}

func (m apiMailer) SendPasswordReset(ctx context.Context, pm keel.PasswordResetMail) error {
	return m.send(ctx, map[string]string{
		"to":      pm.To,
		"subject": "Reset your password",
		"text":    "Follow " + m.resetURL + "?token=" + url.QueryEscape(pm.Token) + " before " + pm.ExpiresAt.Format(time.RFC1123),
	})
}

func (m apiMailer) SendTestEmail(ctx context.Context, to string) error {
	return m.send(ctx, map[string]string{"to": to, "subject": "Test email", "text": "Mail works."})
}

func (m apiMailer) send(ctx context.Context, msg map[string]string) error {
	body, _ := json.Marshal(msg)
	r, err := http.NewRequestWithContext(ctx, "POST", m.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	res, err := m.client.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("email API: %s", res.Status)
	}
	return nil
}

// Any delivery plugs into keel through Mailer: here an email service's
// HTTP API (a stand-in server records what it is asked to send).
func ExampleMailer() {
	sent := make(chan map[string]string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]string
		json.NewDecoder(r.Body).Decode(&msg)
		sent <- msg
		w.WriteHeader(http.StatusAccepted)
	}))
	defer api.Close()

	ctx := context.Background()
	svc, err := keel.New(memstore.New(), keel.Config{
		Mailer: apiMailer{endpoint: api.URL + "/send", client: api.Client(), resetURL: "https://app.example.com/reset-password"},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	if err := svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com"}); err != nil {
		log.Fatal(err)
	}
	msg := <-sent // keel sends in the background
	fmt.Println(msg["to"], msg["subject"], strings.HasPrefix(msg["text"], "Follow https://app.example.com/reset-password?token="))
	svc.Close(ctx)
	// Output:
	// ada@example.com Reset your password true
}

// A user reads the security events about itself; the client of each
// request comes from the context (httpapi puts it there).
func ExampleService_MyAuditEvents() {
	ctx := keel.WithClient(context.Background(), keel.Client{Addr: "203.0.113.9", UserAgent: "example/1.0", RequestID: "req-42"})
	svc, err := keel.New(memstore.New(), keel.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ada, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "difference engine"})
	fmt.Println(err)

	page, err := svc.MyAuditEvents(ctx, ada, keel.AuditOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range page.Events { // newest first
		fmt.Println(e.Kind, e.ClientAddr, e.UserAgent, e.RequestID)
	}
	// Output:
	// unauthenticated: wrong email or password
	// login_failed 203.0.113.9 example/1.0 req-42
	// signed_up 203.0.113.9 example/1.0 req-42
}
