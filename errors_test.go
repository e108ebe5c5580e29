package keel_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
)

// TestFieldErrorsNameTheViolationAndItsBound checks that invalid input
// comes back as data an adapter can word its own way: the field, the
// violation, the rule's bound, a message in domain words, and the value
// (never a password).
func TestFieldErrorsNameTheViolationAndItsBound(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ada := e.signUp(t, "ada@example.com")
	root := e.superuser(t, "root@example.com")
	tests := []struct {
		name string
		call func() error
		want []keel.FieldError
	}{
		{"a malformed email and a short password are both reported", func() error {
			_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "x", Password: "short"})
			return err
		}, []keel.FieldError{
			{Field: "email", Violation: keel.NotEmail, Message: "is not a valid email address", Value: "x"},
			{Field: "password", Violation: keel.TooShort, Bound: 8, Message: "must be at least 8 characters"},
		}},
		{"a long password is too long, by code points", func() error {
			_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "a@example.com", Password: strings.Repeat("é", 129)})
			return err
		}, []keel.FieldError{{Field: "password", Violation: keel.TooLong, Bound: 128, Message: "must be at most 128 characters"}}},
		{"a common password is too common", func() error {
			_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "a@example.com", Password: "password1"})
			return err
		}, []keel.FieldError{{Field: "password", Violation: keel.TooCommon, Message: "is too common or too easy to guess; choose another"}}},
		{"an empty title is one character short", func() error {
			_, err := e.svc.CreateItem(ctx, ada, keel.CreateItemInput{Title: ""})
			return err
		}, []keel.FieldError{{Field: "title", Violation: keel.TooShort, Bound: 1, Message: "must be at least 1 character", Value: ""}}},
		{"a negative skip is too small", func() error {
			_, _, err := e.svc.Items(ctx, ada, keel.ListOptions{Skip: -1})
			return err
		}, []keel.FieldError{{Field: "skip", Violation: keel.TooSmall, Bound: 0, Message: "must be at least 0", Value: -1}}},
		{"a limit over the maximum is too large", func() error {
			_, _, err := e.svc.Items(ctx, ada, keel.ListOptions{Limit: 101})
			return err
		}, []keel.FieldError{{Field: "limit", Violation: keel.TooLarge, Bound: 100, Message: "must be at most 100", Value: 101}}},
		{"a cursor keel did not make is malformed", func() error {
			_, _, err := e.svc.Items(ctx, ada, keel.ListOptions{Cursor: "bad"})
			return err
		}, []keel.FieldError{{Field: "cursor", Violation: keel.Malformed, Message: "is malformed", Value: "bad"}}},
		{"a cursor for users is unsupported", func() error {
			_, _, err := e.svc.Users(ctx, root, keel.ListOptions{Cursor: "bad"})
			return err
		}, []keel.FieldError{{Field: "cursor", Violation: keel.Unsupported, Message: "is not taken: users are paged with skip", Value: "bad"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantCode(t, err, keel.Invalid)
			var ke *keel.Error
			errorsAs(err, &ke)
			if !reflect.DeepEqual(ke.Fields, tt.want) {
				t.Fatalf("fields\n%+v\nwant\n%+v", ke.Fields, tt.want)
			}
		})
	}
}

func TestViolationsHaveNames(t *testing.T) {
	for v := keel.Required; v <= keel.Unsupported; v++ {
		if s := v.String(); s == "" || strings.HasPrefix(s, "violation(") {
			t.Errorf("violation %d has no name: %q", int(v), s)
		}
	}
	if s := keel.Violation(0).String(); s != "violation(0)" {
		t.Errorf("the zero violation is %q", s)
	}
}

func TestCheckPage(t *testing.T) {
	svc := newEnv(t, func(c *keel.Config) { c.MaxPageLimit = 50 }).svc
	tests := []struct {
		name        string
		skip, limit int
		want        []keel.FieldError
	}{
		{"the first page of the largest size is fine", 0, 50, nil},
		{"a page of one deep down is fine", 1000, 1, nil},
		{"a negative skip is too small", -1, 10, []keel.FieldError{{Field: "skip", Violation: keel.TooSmall, Bound: 0, Message: "must be at least 0", Value: -1}}},
		{"a zero limit is too small, not the default", 0, 0, []keel.FieldError{{Field: "limit", Violation: keel.TooSmall, Bound: 1, Message: "must be at least 1", Value: 0}}},
		{"a limit over the maximum is too large", 0, 51, []keel.FieldError{{Field: "limit", Violation: keel.TooLarge, Bound: 50, Message: "must be at most 50", Value: 51}}},
		{"both are reported at once, skip first", -5, -5, []keel.FieldError{
			{Field: "skip", Violation: keel.TooSmall, Bound: 0, Message: "must be at least 0", Value: -5},
			{Field: "limit", Violation: keel.TooSmall, Bound: 1, Message: "must be at least 1", Value: -5},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := svc.CheckPage(tt.skip, tt.limit)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckPage(%d, %d) = %v", tt.skip, tt.limit, err)
				}
				return
			}
			wantCode(t, err, keel.Invalid)
			var ke *keel.Error
			errorsAs(err, &ke)
			if !reflect.DeepEqual(ke.Fields, tt.want) {
				t.Fatalf("fields\n%+v\nwant\n%+v", ke.Fields, tt.want)
			}
		})
	}
	t.Run("a list with no limit gets the default page, which passes", func(t *testing.T) {
		e := newEnv(t)
		ada := e.signUp(t, "ada@example.com")
		if _, _, err := e.svc.Items(context.Background(), ada, keel.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"spaces around it go", "  ada@example.com\t", "ada@example.com"},
		{"upper case becomes lower", "Ada@Example.COM", "ada@example.com"},
		{"a normal email stays", "ada@example.com", "ada@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keel.NormalizeEmail(tt.in); got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("a user signed up with one spelling logs in with another", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, " Ada@Example.com ")
		e.login(t, keel.NormalizeEmail(" ADA@example.com"), goodPassword)
	})
}

func TestIsPasswordField(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "current_password": true, "new_password": true, "NewPassword": true,
		"email": false, "token": false, "full_name": false,
	} {
		if got := keel.IsPasswordField(name); got != want {
			t.Errorf("IsPasswordField(%q) = %v, want %v", name, got, want)
		}
	}
}
