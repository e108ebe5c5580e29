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
		}, []keel.FieldError{{Field: "password", Violation: keel.TooCommon, Message: "is too common; choose another"}}},
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
