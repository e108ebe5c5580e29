// Command library uses keel as a plain Go library, with no HTTP: it signs a
// user up over an in-memory store, logs in, creates, lists, updates and
// deletes items, changes the password and logs out, printing each step.
//
//	go run ./examples/library
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "library:", err)
		os.Exit(1)
	}
}

// run walks through keel's API, writing what happens to w.
func run(ctx context.Context, w io.Writer) error {
	store := memstore.New()
	defer store.Close()
	svc, err := keel.New(store, keel.Config{})
	if err != nil {
		return err
	}
	defer svc.Close(ctx)

	const email, password = "ada@example.com", "analytical engine"
	name := "Ada Lovelace"
	user, err := svc.SignUp(ctx, keel.SignUpInput{Email: email, Password: password, FullName: &name})
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	fmt.Fprintf(w, "signed up %s (superuser: %t)\n", user.Email, user.IsSuperuser)

	// keel's errors carry a code a program can act on, and a message safe
	// to show.
	_, err = svc.SignUp(ctx, keel.SignUpInput{Email: "grace@example.com", Password: "password"})
	fmt.Fprintf(w, "signing up with a common password: %s (password %s)\n", keel.ErrorCode(err), passwordProblem(err))

	_, err = svc.Login(ctx, keel.LoginInput{Email: email, Password: "wrong password"})
	fmt.Fprintf(w, "login with a wrong password: %s\n", keel.ErrorMessage(err))

	sess, err := svc.Login(ctx, keel.LoginInput{Email: email, Password: password})
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	fmt.Fprintf(w, "logged in as %s\n", sess.User.Email)

	// A token is what a client keeps; Authenticate turns it back into a
	// session with its user.
	sess, err = svc.Authenticate(ctx, sess.Token)
	if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	me := sess.User

	for _, title := range []string{"Notes on the engine", "Bernoulli numbers"} {
		it, err := svc.CreateItem(ctx, me, keel.CreateItemInput{Title: title})
		if err != nil {
			return fmt.Errorf("create item: %w", err)
		}
		fmt.Fprintf(w, "created item %q\n", it.Title)
	}
	if err := listItems(ctx, w, svc, me); err != nil {
		return err
	}

	items, _, err := svc.Items(ctx, me, keel.ListOptions{})
	if err != nil {
		return fmt.Errorf("list items: %w", err)
	}
	newest, oldest := items[0], items[len(items)-1]
	desc := "Note G"
	updated, err := svc.UpdateItem(ctx, me, newest.ID, keel.UpdateItemInput{Description: keel.Some(&desc)})
	if err != nil {
		return fmt.Errorf("update item: %w", err)
	}
	fmt.Fprintf(w, "updated item %q: description %q\n", updated.Title, *updated.Description)

	if err := svc.DeleteItem(ctx, me, oldest.ID); err != nil {
		return fmt.Errorf("delete item: %w", err)
	}
	fmt.Fprintf(w, "deleted item %q\n", oldest.Title)
	_, err = svc.Item(ctx, me, oldest.ID)
	fmt.Fprintf(w, "reading the deleted item: %s\n", keel.ErrorMessage(err))
	if err := listItems(ctx, w, svc, me); err != nil {
		return err
	}

	// Changing the password ends every other session of the user.
	other, err := svc.Login(ctx, keel.LoginInput{Email: email, Password: password})
	if err != nil {
		return fmt.Errorf("log in again: %w", err)
	}
	const newPassword = "difference engine no. 2"
	if err := svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: password, NewPassword: newPassword}); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	fmt.Fprintln(w, "changed the password")
	_, err = svc.Authenticate(ctx, other.Token)
	fmt.Fprintf(w, "the other session after the change: %s\n", keel.ErrorMessage(err))
	_, err = svc.Login(ctx, keel.LoginInput{Email: email, Password: password})
	fmt.Fprintf(w, "login with the old password: %s\n", keel.ErrorMessage(err))
	if _, err := svc.Authenticate(ctx, sess.Token); err != nil {
		return fmt.Errorf("the session that changed the password: %w", err)
	}
	fmt.Fprintln(w, "the session that changed the password still works")

	if err := svc.Logout(ctx, sess.Token); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	fmt.Fprintln(w, "logged out")
	_, err = svc.Authenticate(ctx, sess.Token)
	fmt.Fprintf(w, "the token after logout: %s\n", keel.ErrorMessage(err))
	return nil
}

func listItems(ctx context.Context, w io.Writer, svc *keel.Service, me *keel.User) error {
	items, count, err := svc.Items(ctx, me, keel.ListOptions{Limit: 10})
	if err != nil {
		return fmt.Errorf("list items: %w", err)
	}
	fmt.Fprintf(w, "%d item(s), newest first:\n", count)
	for _, it := range items {
		fmt.Fprintf(w, "  - %s\n", it.Title)
	}
	return nil
}

// passwordProblem is the message keel gives for the password field of an
// Invalid error.
func passwordProblem(err error) string {
	var kerr *keel.Error
	if errors.As(err, &kerr) {
		for _, f := range kerr.Fields {
			if f.Field == "password" {
				return f.Message
			}
		}
	}
	return "no password problem"
}
