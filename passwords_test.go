package keel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/memstore"
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

// TestChangePasswordLosesToWhatCommittedMeanwhile runs, between
// ChangePassword's check of the current password and its write, another
// operation on the same account. The change must then fail, and leave what
// the other committed as it is.
func TestChangePasswordLosesToWhatCommittedMeanwhile(t *testing.T) {
	ctx := context.Background()
	const (
		email   = "ada@example.com"
		theirs  = "the password they set"
		mine    = "the password I wanted"
		adminPw = goodPassword
	)
	for _, tc := range []struct {
		name string
		// meanwhile runs the other operation; mine is the caller's session.
		meanwhile func(t *testing.T, svc *keel.Service, mail *keeltest.Mailbox, admin *keel.User, mine *keel.Session)
		want      error
		// works is the password that is right afterwards.
		works string
	}{
		{"a change from another session wins; this one is an Incorrect password",
			func(t *testing.T, svc *keel.Service, _ *keeltest.Mailbox, _ *keel.User, _ *keel.Session) {
				other, err := svc.Login(ctx, keel.LoginInput{Email: email, Password: goodPassword})
				if err != nil {
					t.Fatal(err)
				}
				if err := svc.ChangePassword(ctx, other, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: theirs}); err != nil {
					t.Fatal(err)
				}
			}, keel.ErrIncorrectPassword, theirs},
		{"a reset wins; this one is an Incorrect password",
			func(t *testing.T, svc *keel.Service, mail *keeltest.Mailbox, _ *keel.User, _ *keel.Session) {
				if err := svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: email}); err != nil {
					t.Fatal(err)
				}
				if err := svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: mail.WaitReset(t).Token, NewPassword: theirs}); err != nil {
					t.Fatal(err)
				}
			}, keel.ErrIncorrectPassword, theirs},
		{"a superuser setting the password wins; this one is an Incorrect password",
			func(t *testing.T, svc *keel.Service, _ *keeltest.Mailbox, admin *keel.User, mine *keel.Session) {
				if _, err := svc.UpdateUser(ctx, admin, mine.User.ID, keel.UpdateUserInput{Password: keel.Some(theirs)}); err != nil {
					t.Fatal(err)
				}
			}, keel.ErrIncorrectPassword, theirs},
		{"a deactivation wins; this one is refused as Inactive user",
			func(t *testing.T, svc *keel.Service, _ *keeltest.Mailbox, admin *keel.User, mine *keel.Session) {
				if _, err := svc.UpdateUser(ctx, admin, mine.User.ID, keel.UpdateUserInput{IsActive: keel.Some(false)}); err != nil {
					t.Fatal(err)
				}
			}, keel.ErrInactiveUser, goodPassword},
		{"a logout of the caller's session wins; the password stays",
			func(t *testing.T, svc *keel.Service, _ *keeltest.Mailbox, _ *keel.User, mine *keel.Session) {
				if err := svc.Logout(ctx, mine.Token); err != nil {
					t.Fatal(err)
				}
			}, keel.ErrInvalidCredentials, goodPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := &hookStore{Store: memstore.New()}
			mail := keeltest.NewMailbox()
			svc, err := keel.New(hs, keel.Config{Argon2: cheap, Mailer: mail})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { svc.Close(context.Background()) })
			admin, err := svc.Bootstrap(ctx, keel.SignUpInput{Email: "root@example.com", Password: adminPw})
			if err != nil {
				t.Fatal(err)
			}
			ada, err := svc.SignUp(ctx, keel.SignUpInput{Email: email, Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			sess, err := svc.Login(ctx, keel.LoginInput{Email: email, Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			// The hook fires when ChangePassword reads the user to check
			// the current password, outside its transaction.
			fired := false
			hs.afterUser = func(id uuid.UUID) {
				if id == ada.ID && !fired {
					fired = true
					tc.meanwhile(t, svc, mail, admin, sess)
				}
			}
			err = svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: mine})
			hs.afterUser = nil
			if !fired {
				t.Fatal("the concurrent operation never ran")
			}
			wantErr(t, err, tc.want)
			for _, pw := range []string{goodPassword, theirs, mine} {
				_, err := svc.Login(ctx, keel.LoginInput{Email: email, Password: pw})
				right := err == nil || errors.Is(err, keel.ErrInactiveUser) // said only after a right password
				if right != (pw == tc.works) {
					t.Errorf("logging in with %q: %v; only %q should be right", pw, err, tc.works)
				}
			}
		})
	}
}

// FuzzCheckPassword: whatever a client sends as a new password, the check
// answers nil or Invalid, and never panics (zxcvbn runs on it).
func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{goodPassword, "password1", "é1x☕é1x☕", "1/2/2020 12:00", "Aa1!Aa1!Aa1!", "\x00", "\xff\xfe", "𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡"} {
		f.Add(s)
	}
	svc, err := keel.New(memstore.New(), keel.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, password string) {
		if err := svc.CheckPassword(password); err != nil && keel.ErrorCode(err) != keel.Invalid {
			t.Fatalf("CheckPassword(%q) = %v", password, err)
		}
	})
}
