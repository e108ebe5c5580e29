package keel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"golang.org/x/crypto/bcrypt"
)

func TestLogin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.signUp(t, "ada@example.com")
	e.deactivated(t, "off@example.com")

	tests := []struct {
		name            string
		email, password string
		want            error
	}{
		{"a correct email and password log in", "ada@example.com", goodPassword, nil},
		{"the email is matched after trimming and lower-casing", "  ADA@Example.com ", goodPassword, nil},
		{"a wrong password is an incorrect login", "ada@example.com", "wrong password!", keel.ErrIncorrectLogin},
		{"an unknown email is the same incorrect login", "nobody@example.com", goodPassword, keel.ErrIncorrectLogin},
		{"an empty email is an incorrect login", "", goodPassword, keel.ErrIncorrectLogin},
		{"an oversized password is an incorrect login without hashing it", "ada@example.com", strings.Repeat("x", 129), keel.ErrIncorrectLogin},
		{"the password is case-sensitive", "ada@example.com", strings.ToUpper(goodPassword), keel.ErrIncorrectLogin},
		{"an inactive user with the right password is told it is inactive", "off@example.com", goodPassword, keel.ErrInactiveUser},
		{"an inactive user with a wrong password learns nothing", "off@example.com", "wrong password!", keel.ErrIncorrectLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := e.svc.Login(ctx, keel.LoginInput{Email: tt.email, Password: tt.password})
			if tt.want != nil {
				wantErr(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.User.ID != u.ID || len(s.Token) < 40 || !s.Expiry.After(time.Now()) {
				t.Fatalf("session = %+v", s)
			}
			got, err := e.svc.Authenticate(ctx, s.Token)
			if err != nil || got.User.ID != u.ID {
				t.Fatalf("Authenticate = %v, %v", got, err)
			}
		})
	}
}

func TestEveryLoginIssuesANewToken(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, "ada@example.com")
	seen := map[string]bool{}
	for range 5 {
		s := e.login(t, "ada@example.com", goodPassword)
		if seen[s.Token] {
			t.Fatal("a login reused a token")
		}
		seen[s.Token] = true
	}
}

func TestLoginUpgradesOldHashes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.signUp(t, "ada@example.com")
	bc, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hash string
	}{
		{"an imported bcrypt hash", string(bc)},
		{"an argon2id hash with other parameters", argon2Hash(goodPassword, 32, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is verified and re-hashed", func(t *testing.T) {
			hash := tt.hash
			cur, _ := e.store.User(ctx, u.ID)
			cur.PasswordHash = hash
			if err := e.store.UpdateUser(ctx, cur); err != nil {
				t.Fatal(err)
			}
			e.login(t, "ada@example.com", goodPassword)
			after, _ := e.store.User(ctx, u.ID)
			if after.PasswordHash == hash || !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("hash not upgraded: %s", after.PasswordHash)
			}
			e.login(t, "ada@example.com", goodPassword)
		})
	}
}
