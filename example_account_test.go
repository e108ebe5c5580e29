package keel_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

// Two-factor authentication: enrol, confirm with a code from the
// authenticator app, then log in in two steps.
func ExampleService_CompleteLogin() {
	ctx := context.Background()
	key := make([]byte, 32) // in production: a fixed secret kept outside the database
	rand.Read(key)
	svc, err := keel.New(memstore.New(), keel.Config{TOTP: keel.TOTPConfig{Keys: [][]byte{key}, Issuer: "Acme"}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		log.Fatal(err)
	}

	enrolment, err := svc.EnrolTOTP(ctx, sess) // show enrolment.QRCode to the user
	if err != nil {
		log.Fatal(err)
	}
	code, _ := totp.GenerateCode(enrolment.Secret, time.Now()) // what the app shows
	recoveryCodes, err := svc.ConfirmTOTP(ctx, sess, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(recoveryCodes), "recovery codes")

	// A password alone now gives a challenge, not a session.
	_, err = svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	var challenge *keel.Challenge
	if !errors.As(err, &challenge) {
		log.Fatal(err)
	}
	sess, err = svc.CompleteLogin(ctx, keel.SecondFactorInput{Challenge: challenge.Token, RecoveryCode: recoveryCodes[0]})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in:", sess.User.Email)
	// Output:
	// 10 recovery codes
	// logged in: ada@example.com
}

// outbox is a Mailer and VerificationMailer that keeps the last
// verification token: a host plugs its own delivery in the same way.
type outbox struct{ token chan string }

func (o outbox) SendPasswordReset(context.Context, keel.PasswordResetMail) error { return nil }
func (o outbox) SendTestEmail(context.Context, string) error                     { return nil }
func (o outbox) SendVerification(_ context.Context, m keel.VerificationMail) error {
	o.token <- m.Token
	return nil
}
func (o outbox) SendEmailChange(context.Context, keel.EmailChangeMail) error { return nil }
func (o outbox) SendEmailChangeNotice(context.Context, keel.EmailChangeNoticeMail) error {
	return nil
}

// Required email verification: a sign-up cannot log in until it follows
// the link in its verification email.
func ExampleService_VerifyEmail() {
	ctx := context.Background()
	mail := outbox{token: make(chan string, 1)}
	svc, err := keel.New(memstore.New(), keel.Config{EmailVerification: keel.VerificationRequired, Mailer: mail})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	_, err = svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	fmt.Println(errors.Is(err, keel.ErrEmailNotVerified))

	u, err := svc.VerifyEmail(ctx, <-mail.token) // the token the link carried
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified:", u.IsVerified)
	_, err = svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	fmt.Println("logged in:", err == nil)
	// Output:
	// true
	// verified: true
	// logged in: true
}
