package keel_test

import (
	"context"
	"testing"

	"github.com/keel-dev/keel"
)

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name             string
		current, newPass string
		want             error
		wantCode         keel.Code
	}{
		{"a wrong current password is refused", "not my password", "a new long password", keel.ErrIncorrectPassword, 0},
		{"the same password is refused", goodPassword, goodPassword, keel.ErrSamePassword, 0},
		{"a short new password is invalid", goodPassword, "short", nil, keel.Invalid},
		{"a common new password is invalid", goodPassword, "qwertyuiop", nil, keel.Invalid},
		{"a good new password is set", goodPassword, "a new long password", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.signUp(t, "ada@example.com")
			s := e.login(t, "ada@example.com", goodPassword)
			err := e.svc.ChangePassword(ctx, s, keel.ChangePasswordInput{CurrentPassword: tt.current, NewPassword: tt.newPass})
			switch {
			case tt.want != nil:
				wantErr(t, err, tt.want)
			case tt.wantCode != 0:
				wantCode(t, err, tt.wantCode)
			case err != nil:
				t.Fatal(err)
			default:
				if _, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword}); err == nil {
					t.Fatal("the old password still works")
				}
				e.login(t, "ada@example.com", tt.newPass)
			}
		})
	}
}
