package keel_test

import (
	"context"
	"errors"
	"fmt"
	"log"

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
		if _, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine", UserAgent: ua}); err != nil {
			log.Fatal(err)
		}
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine", ClientAddr: "192.0.2.7", UserAgent: "curl/8.5"})
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
