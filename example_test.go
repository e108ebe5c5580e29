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
