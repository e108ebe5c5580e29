package keel

import (
	"context"
	"errors"
	"testing"
)

func TestErrorsMatchTheirSentinels(t *testing.T) {
	err := ErrItemNotFound.withCause(errors.New("driver: no rows"))
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, ErrItemNotFound) || errors.Is(wrapped, ErrUserNotFound) || ErrorCode(wrapped) != NotFound {
		t.Fatalf("%v", wrapped)
	}
	if ErrorCode(errors.New("boom")) != Internal || ErrorCode(context.Canceled) != Unavailable {
		t.Fatal("unclassified errors")
	}
	if ErrorMessage(err) != "item not found" || ErrorMessage(errors.New("x")) != "" {
		t.Fatal("messages")
	}
}
