package keel_test

import (
	"context"
	"testing"

	"github.com/keel-dev/keel"
)

func TestSendTestEmail(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	user := e.signUp(t, "ada@example.com")
	if err := e.svc.SendTestEmail(ctx, root, "Someone@Example.com"); err != nil {
		t.Fatal(err)
	}
	if got := e.mail.Tests(); len(got) != 1 || got[0] != "someone@example.com" {
		t.Fatalf("tests = %v", got)
	}
	wantErr(t, e.svc.SendTestEmail(ctx, user, "x@example.com"), keel.ErrNotSuperuser)
	wantCode(t, e.svc.SendTestEmail(ctx, root, "not an email"), keel.Invalid)
	e.mail.Fail(context.DeadlineExceeded)
	wantCode(t, e.svc.SendTestEmail(ctx, root, "x@example.com"), keel.Unavailable)
}
