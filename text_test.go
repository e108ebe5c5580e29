package keel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// TestTextFields sends text with NUL, other control characters and bytes
// that are not UTF-8 to every operation that takes text, on every store:
// each is refused as Invalid naming the field, and nothing is stored; what
// a field documents it takes is stored as it was given.
func TestTextFields(t *testing.T) {
	ctx := context.Background()
	type op func(e *env, u *keel.User, it *keel.Item) error
	signUp := func(email, password string, name *string) op {
		return func(e *env, _ *keel.User, _ *keel.Item) error {
			_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: email, Password: password, FullName: name})
			return err
		}
	}
	createItem := func(title string, description *string) op {
		return func(e *env, u *keel.User, _ *keel.Item) error {
			_, err := e.svc.CreateItem(ctx, u, keel.CreateItemInput{Title: title, Description: description})
			return err
		}
	}
	updateItem := func(in keel.UpdateItemInput) op {
		return func(e *env, u *keel.User, it *keel.Item) error {
			_, err := e.svc.UpdateItem(ctx, u, it.ID, in)
			return err
		}
	}
	updateMe := func(in keel.UpdateMeInput) op {
		return func(e *env, u *keel.User, _ *keel.Item) error {
			_, err := e.svc.UpdateMe(ctx, u, in)
			return err
		}
	}
	for _, tc := range []struct {
		name      string
		op        op
		field     string                                                  // "" when the input is taken
		violation keel.Violation                                          // of field
		check     func(e *env, t *testing.T, u *keel.User, it *keel.Item) // what must (not) be stored
	}{
		{"a title of NULs is refused, not stored as an empty one", createItem("\x00\x00\x00", nil), "title", keel.ControlCharacter, noNewItem},
		{"a title with a tab is refused", createItem("a\tb", nil), "title", keel.ControlCharacter, noNewItem},
		{"a title with DEL is refused", createItem("a\x7fb", nil), "title", keel.ControlCharacter, noNewItem},
		{"a title that is not UTF-8 is refused, not replaced", createItem("caf\xe9", nil), "title", keel.NotUTF8, noNewItem},
		{"a description with NUL is refused", createItem("ok", ptr("a\x00b")), "description", keel.ControlCharacter, noNewItem},
		{"a description with an escape character is refused", createItem("ok", ptr("\x1b[31mred")), "description", keel.ControlCharacter, noNewItem},
		{"a description takes tabs and line breaks, stored as given", createItem("lines", ptr("one\ttwo\r\nthree\n")), "", 0,
			func(e *env, t *testing.T, u *keel.User, _ *keel.Item) {
				items, _, err := e.svc.Items(ctx, u, keel.ListOptions{})
				if err != nil || len(items) != 2 || items[0].Description == nil || *items[0].Description != "one\ttwo\r\nthree\n" {
					t.Errorf("the description was not kept as given: %v %v", items, err)
				}
			}},
		{"an update of a title with NUL is refused and the title stays", updateItem(keel.UpdateItemInput{Title: keel.Some("new\x00")}), "title", keel.ControlCharacter, titleStays},
		{"an update of a description with a vertical tab is refused", updateItem(keel.UpdateItemInput{Description: keel.Some(ptr("a\vb"))}), "description", keel.ControlCharacter, titleStays},
		{"a sign-up email with NUL is refused", signUp("n\x00ul@example.com", goodPassword, nil), "email", keel.ControlCharacter, noNewUser},
		{"a sign-up full name with a newline is refused", signUp("new@example.com", goodPassword, ptr("Ada\nLovelace")), "full_name", keel.ControlCharacter, noNewUser},
		{"a sign-up full name that is not UTF-8 is refused", signUp("new@example.com", goodPassword, ptr("Ad\xffa")), "full_name", keel.NotUTF8, noNewUser},
		{"a password with NUL is refused", signUp("new@example.com", "correct\x00horse battery", nil), "password", keel.ControlCharacter, noNewUser},
		{"a password that is not UTF-8 is refused", signUp("new@example.com", "correct horse \xff battery", nil), "password", keel.NotUTF8, noNewUser},
		{"a password takes a tab", signUp("new@example.com", "correct\thorse battery", nil), "", 0,
			func(e *env, t *testing.T, _ *keel.User, _ *keel.Item) {
				e.login(t, "new@example.com", "correct\thorse battery")
			}},
		{"a new full name with NUL is refused and the name stays", updateMe(keel.UpdateMeInput{FullName: keel.Some(ptr("Ada\x00"))}), "full_name", keel.ControlCharacter, nameStays},
		{"a new email with a tab is refused", updateMe(keel.UpdateMeInput{Email: keel.Some("ada\t@example.com")}), "email", keel.ControlCharacter, nameStays},
		{"an API token name with a newline is refused and no token is made", func(e *env, u *keel.User, _ *keel.Item) error {
			_, err := e.svc.CreateAPIToken(ctx, u, keel.CreateAPITokenInput{Name: "ci\nbot", Scope: keel.ScopeRead, ExpiresInDays: 1})
			return err
		}, "name", keel.ControlCharacter, func(e *env, t *testing.T, u *keel.User, _ *keel.Item) {
			if toks, err := e.svc.APITokens(ctx, u, u.ID); err != nil || len(toks) != 0 {
				t.Errorf("tokens after the refusal: %v, %v", toks, err)
			}
		}},
		{"a new password with NUL is refused and the password stays", func(e *env, u *keel.User, _ *keel.Item) error {
			s := e.login(t, u.Email, goodPassword)
			return e.svc.ChangePassword(ctx, s, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a new\x00 password"})
		}, "new_password", keel.ControlCharacter, func(e *env, t *testing.T, u *keel.User, _ *keel.Item) {
			e.login(t, u.Email, goodPassword)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keeltest.EachStore(t, func(t *testing.T, st keel.Store) {
				e := newEnvOn(t, st)
				u := e.signUp(t, "ada@example.com")
				u, err := e.svc.UpdateMe(ctx, u, keel.UpdateMeInput{FullName: keel.Some(ptr("Ada"))})
				if err != nil {
					t.Fatal(err)
				}
				it, err := e.svc.CreateItem(ctx, u, keel.CreateItemInput{Title: "first"})
				if err != nil {
					t.Fatal(err)
				}
				err = tc.op(e, u, it)
				if tc.field == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
				} else {
					wantField(t, err, tc.field, tc.violation)
				}
				tc.check(e, t, u, it)
			})
		})
	}
}

// wantField checks that err is Invalid and names field with the violation.
func wantField(t *testing.T, err error, field string, v keel.Violation) {
	t.Helper()
	var ke *keel.Error
	if !errors.As(err, &ke) || ke.Code != keel.Invalid {
		t.Fatalf("err = %v, want Invalid", err)
	}
	for _, f := range ke.Fields {
		if f.Field == field && f.Violation == v {
			return
		}
	}
	t.Fatalf("fields %+v, want %s %v", ke.Fields, field, v)
}

func noNewItem(e *env, t *testing.T, u *keel.User, _ *keel.Item) {
	t.Helper()
	if _, n, err := e.svc.Items(context.Background(), u, keel.ListOptions{}); err != nil || n != 1 {
		t.Errorf("items: %d, %v; want only the first", n, err)
	}
}

func noNewUser(e *env, t *testing.T, _ *keel.User, _ *keel.Item) {
	t.Helper()
	if _, err := e.store.UserByEmail(context.Background(), "new@example.com"); keel.ErrorCode(err) != keel.NotFound {
		t.Errorf("UserByEmail(new@example.com) = %v, want NotFound", err)
	}
}

func titleStays(e *env, t *testing.T, u *keel.User, it *keel.Item) {
	t.Helper()
	got, err := e.svc.Item(context.Background(), u, it.ID)
	if err != nil || got.Title != "first" || got.Description != nil {
		t.Errorf("item after the refused update: %+v, %v", got, err)
	}
}

func nameStays(e *env, t *testing.T, u *keel.User, _ *keel.Item) {
	t.Helper()
	got, err := e.store.User(context.Background(), u.ID)
	if err != nil || got.FullName == nil || *got.FullName != "Ada" || got.Email != "ada@example.com" {
		t.Errorf("user after the refused update: %+v, %v", got, err)
	}
}

// TestLoginAndRecoveryWithTextNoAccountHas: an email with NUL or bytes
// that are not UTF-8 is an unknown email, on every store (bun cannot send
// NUL to a database), and never another account's.
func TestLoginAndRecoveryWithTextNoAccountHas(t *testing.T) {
	ctx := context.Background()
	for _, email := range []string{"a\x00da@example.com", "ada@example.com\x00", "ad\xffa@example.com"} {
		keeltest.EachStore(t, func(t *testing.T, st keel.Store) {
			e := newEnvOn(t, st)
			e.signUp(t, "ada@example.com")
			_, err := e.svc.Login(ctx, keel.LoginInput{Email: email, Password: goodPassword})
			wantErr(t, err, keel.ErrIncorrectLogin)
			if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: email}); err != nil {
				t.Fatalf("RequestPasswordReset(%q) = %v", email, err)
			}
			if err := e.svc.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(e.mail.Resets()); n != 0 {
				t.Errorf("RequestPasswordReset(%q) sent %d mails", email, n)
			}
		})
	}
}
