package keel

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A made-up reset token must cost a lookup, not a password hash: with
// every hashing slot taken, the reset still answers at once.
func TestAMadeUpResetTokenCostsNoHash(t *testing.T) {
	s, err := New(noResetTokens{}, Config{Argon2: cheapParams, MaxConcurrentHashes: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.hasher.slots <- struct{}{}
	defer func() { <-s.hasher.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = s.ResetPassword(ctx, ResetPasswordInput{Token: "made-up", NewPassword: "a brand new password"})
	if !errors.Is(err, ErrInvalidResetToken) {
		t.Fatalf("err = %v, want ErrInvalidResetToken without waiting for a hash", err)
	}
}

// noResetTokens is a Store without reset tokens.
type noResetTokens struct{ Store }

func (s noResetTokens) InTx(ctx context.Context, fn func(Tx) error) error { return fn(s) }

func (noResetTokens) ConsumeResetToken(context.Context, string) (*ResetToken, error) {
	return nil, Errorf(NotFound, "no reset token")
}
