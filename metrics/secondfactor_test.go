package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/keel-dev/keel"
)

// Two-factor logins count as challenged logins, then as second factors by
// outcome; the session they start counts as a successful login.
func TestSecondFactors(t *testing.T) {
	now := time.Now()
	e := newEnv(t, keel.Config{
		TOTP: keel.TOTPConfig{Keys: [][]byte{bytes.Repeat([]byte{3}, 32)}},
		Now:  func() time.Time { return now },
	})
	ctx := context.Background()
	const pw = "correct horse battery"
	if _, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "alice@example.com", Password: pw}); err != nil {
		t.Fatal(err)
	}
	sess, err := e.svc.Login(ctx, keel.LoginInput{Email: "alice@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.EnrolTOTP(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.Secret, now)
	recovery, err := e.svc.ConfirmTOTP(ctx, sess, code)
	if err != nil {
		t.Fatal(err)
	}
	challenge := func() string {
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "alice@example.com", Password: pw})
		var ch *keel.Challenge
		if !errors.As(err, &ch) {
			t.Fatalf("Login = %v, want a challenge", err)
		}
		return ch.Token
	}
	// The code that confirmed enrolment is used: a replay.
	if _, err := e.svc.CompleteLogin(ctx, keel.SecondFactorInput{Challenge: challenge(), Code: code}); !errors.Is(err, keel.ErrInvalidCode) {
		t.Fatalf("replay: %v", err)
	}
	if _, err := e.svc.CompleteLogin(ctx, keel.SecondFactorInput{Challenge: challenge(), RecoveryCode: recovery[0]}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, e.reg)
	for _, tc := range []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"password logins of an enrolled user are challenged", "keel_logins_total", []string{"outcome", "challenged", "reason", ""}, 2},
		{"the session the recovery code started is a successful login", "keel_logins_total", []string{"outcome", "succeeded", "reason", ""}, 2},
		{"a replayed code is a failed second factor", "keel_second_factors_total", []string{"outcome", "failed", "reason", "used_code"}, 1},
		{"a recovery code is a successful second factor", "keel_second_factors_total", []string{"outcome", "succeeded", "reason", "recovery_code"}, 1},
		{"a factor that was not given is there at zero", "keel_second_factors_total", []string{"outcome", "succeeded", "reason", "totp_code"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := value(fams, tc.metric, tc.labels...); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}
