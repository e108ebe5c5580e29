package httpapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keel-dev/keel"
)

// TestHookRefusals checks how a before hook's veto reaches an HTTP client.
func TestHookRefusals(t *testing.T) {
	veto := func(err error) envOption {
		return withKeel(func(c *keel.Config) {
			c.Hooks.Before = []keel.BeforeHook{func(_ context.Context, _ keel.Tx, e keel.Event) error {
				if e.Kind == keel.EventSignedUp {
					return err
				}
				return nil
			}}
		})
	}
	signUp := req{method: "POST", path: "/users/signup", json: map[string]any{"email": "ada@example.org", "password": password}}
	t.Run("a rejected field answers 422 with the program's words", func(t *testing.T) {
		e := newEnv(t, veto(keel.Reject("email", "ada@example.org", "only @example.com addresses may sign up")))
		list := validationDetail(t, e.do(signUp))
		if len(list) != 1 || !hasEntry(list, "value_error", "body", "email") ||
			list[0]["msg"] != "Value error, only @example.com addresses may sign up" || list[0]["input"] != "ada@example.org" {
			t.Fatalf("422 detail %v", list)
		}
	})
	t.Run("a refusal answers its code's status with the program's message", func(t *testing.T) {
		e := newEnv(t, veto(keel.Refuse(keel.PermissionDenied, "Sign-ups are closed")))
		e.noValidate = true // the document lists keel's own statuses, not a program's
		expect(t, e.do(signUp), 403, "Sign-ups are closed")
	})
	t.Run("any other error answers by its kind, without its text", func(t *testing.T) {
		e := newEnv(t, veto(errors.New("profiles: connection refused")))
		e.noValidate = true
		expect(t, e.do(signUp), 500, "Internal Server Error")
		e = newEnv(t, veto(context.DeadlineExceeded))
		expect(t, e.do(signUp), 503, "Service Unavailable")
	})
}
