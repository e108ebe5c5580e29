package keel_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

var totpKey = bytes.Repeat([]byte{7}, 32)

func withTOTP(c *keel.Config) { c.TOTP.Keys = [][]byte{totpKey} }

// code is the TOTP code of secret at the env's clock.
func (e *env) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextStep moves the clock to the start of the next 30-second time step.
func (e *env) nextStep() {
	now := e.clock.Now()
	e.clock.Advance(time.Duration(30-now.Unix()%30)*time.Second - time.Duration(now.Nanosecond()))
}

// enrolled signs a user up and turns TOTP on for it, and returns its
// session, the secret and the recovery codes. The clock is at the start
// of a fresh time step, whose code is not used yet.
func (e *env) enrolled(t *testing.T, email string) (*keel.Session, string, []string) {
	t.Helper()
	e.signUp(t, email)
	s := e.login(t, email, goodPassword)
	en, err := e.svc.EnrolTOTP(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.svc.ConfirmTOTP(context.Background(), s, e.code(t, en.Secret))
	if err != nil {
		t.Fatal(err)
	}
	e.nextStep()
	return s, en.Secret, codes
}

// challenge logs in with the password and returns the challenge.
func (e *env) challenge(t *testing.T, email string) *keel.Challenge {
	t.Helper()
	_, err := e.svc.Login(context.Background(), keel.LoginInput{Email: email, Password: goodPassword, ClientAddr: "10.0.0.1"})
	var ch *keel.Challenge
	if !errors.As(err, &ch) {
		t.Fatalf("Login = %v, want a *Challenge", err)
	}
	if !errors.Is(err, keel.ErrSecondFactorRequired) || keel.ErrorCode(err) != keel.Unauthenticated {
		t.Fatalf("the challenge is not ErrSecondFactorRequired: %v", err)
	}
	return ch
}

func (e *env) complete(ch *keel.Challenge, code, recovery string) (*keel.Session, error) {
	return e.svc.CompleteLogin(context.Background(), keel.SecondFactorInput{Challenge: ch.Token, Code: code, RecoveryCode: recovery, ClientAddr: "10.0.0.1"})
}

func TestTOTPEnrolment(t *testing.T) {
	ctx := context.Background()

	t.Run("without a key nobody can enrol", func(t *testing.T) {
		e := newEnv(t)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		_, err := e.svc.EnrolTOTP(ctx, s)
		wantRefusal(t, err, keel.ErrTOTPUnavailable)
		if e.svc.TOTPAvailable() {
			t.Fatal("TOTPAvailable without a key")
		}
	})

	t.Run("a key of the wrong size is refused by New", func(t *testing.T) {
		_, err := keel.New(memstore.New(), keel.Config{TOTP: keel.TOTPConfig{Keys: [][]byte{[]byte("too short")}}})
		if err == nil {
			t.Fatal("New accepted a 9-byte key")
		}
	})

	t.Run("enrolment gives a secret, an otpauth URI and a QR code, and guards nothing until confirmed", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		en, err := e.svc.EnrolTOTP(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		key, err := otp.NewKeyFromURL(en.URI)
		if err != nil || key.Secret() != en.Secret || key.Issuer() != "keel" || key.AccountName() != "ada@example.com" || key.Period() != 30 {
			t.Fatalf("URI %s: %+v, %v", en.URI, key, err)
		}
		img, err := png.Decode(bytes.NewReader(en.QRCode))
		if err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("QR code: %v", err)
		}
		if st, _ := e.svc.TOTPStatus(ctx, s.User); !st.Pending || st.Enabled {
			t.Fatalf("status = %+v, want pending", st)
		}
		e.login(t, "ada@example.com", goodPassword) // still a plain login
	})

	t.Run("the stored secret is sealed: the store never holds it in the clear", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, secret, _ := e.enrolled(t, "ada@example.com")
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := e.store.TOTP(ctx, s.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(tp.Secret, raw) || bytes.Contains(tp.Secret, []byte(secret)) {
			t.Fatal("the store holds the TOTP secret in the clear")
		}
	})

	t.Run("a wrong code does not confirm", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		en, _ := e.svc.EnrolTOTP(ctx, s)
		wrong := wrongCode(e.code(t, en.Secret))
		_, err := e.svc.ConfirmTOTP(ctx, s, wrong)
		wantRefusal(t, err, keel.ErrInvalidCode)
		if st, _ := e.svc.TOTPStatus(ctx, s.User); st.Enabled {
			t.Fatal("a wrong code enabled TOTP")
		}
	})

	t.Run("confirming gives ten distinct recovery codes and turns the second factor on", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, _, codes := e.enrolled(t, "ada@example.com")
		seen := map[string]bool{}
		for _, c := range codes {
			seen[c] = true
		}
		if len(codes) != keel.RecoveryCodeCount || len(seen) != keel.RecoveryCodeCount {
			t.Fatalf("codes = %v", codes)
		}
		if st, _ := e.svc.TOTPStatus(ctx, s.User); !st.Enabled || st.RecoveryCodesLeft != keel.RecoveryCodeCount {
			t.Fatalf("status = %+v", st)
		}
		e.challenge(t, "ada@example.com")
	})

	t.Run("an enrolled user cannot enrol again nor confirm again", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, secret, _ := e.enrolled(t, "ada@example.com")
		_, err := e.svc.EnrolTOTP(ctx, s)
		wantRefusal(t, err, keel.ErrTOTPEnabled)
		_, err = e.svc.ConfirmTOTP(ctx, s, e.code(t, secret))
		wantRefusal(t, err, keel.ErrTOTPEnabled)
	})

	t.Run("confirming with nothing pending is ErrNoTOTPEnrolment", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		_, err := e.svc.ConfirmTOTP(ctx, s, "123456")
		wantRefusal(t, err, keel.ErrNoTOTPEnrolment)
	})

	t.Run("enrolling again replaces a pending secret, and the old one confirms nothing", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		first, _ := e.svc.EnrolTOTP(ctx, s)
		second, err := e.svc.EnrolTOTP(ctx, s)
		if err != nil || second.Secret == first.Secret {
			t.Fatalf("second enrolment = %+v, %v", second, err)
		}
		_, err = e.svc.ConfirmTOTP(ctx, s, e.code(t, first.Secret))
		wantRefusal(t, err, keel.ErrInvalidCode)
		if _, err := e.svc.ConfirmTOTP(ctx, s, e.code(t, second.Secret)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("an inactive user cannot enrol", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		u := e.deactivated(t, "ada@example.com")
		_, err := e.svc.EnrolTOTP(ctx, &keel.Session{User: u})
		wantRefusal(t, err, keel.ErrInactiveUser)
		_, err = e.svc.EnrolTOTP(ctx, nil)
		wantRefusal(t, err, keel.ErrNotAuthenticated)
	})
}

func TestSecondFactorLogin(t *testing.T) {
	ctx := context.Background()

	t.Run("a password login gives a challenge, never a session, and a code turns it into one", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		if len(ch.Token) < 40 || !ch.ExpiresAt.After(e.clock.Now()) {
			t.Fatalf("challenge = %+v", ch)
		}
		if _, err := e.svc.Authenticate(ctx, ch.Token); err == nil {
			t.Fatal("the challenge token works as a session token")
		}
		s, err := e.complete(ch, e.code(t, secret), "")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.svc.Authenticate(ctx, s.Token); err != nil || got.User.Email != "ada@example.com" {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
	})

	t.Run("a code is accepted once: a replayed code is refused", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		code := e.code(t, secret)
		if _, err := e.complete(e.challenge(t, "ada@example.com"), code, ""); err != nil {
			t.Fatal(err)
		}
		_, err := e.complete(e.challenge(t, "ada@example.com"), code, "")
		wantRefusal(t, err, keel.ErrInvalidCode)
		// Still refused later in the window the code would otherwise be good for.
		e.clock.Advance(20 * time.Second)
		_, err = e.complete(e.challenge(t, "ada@example.com"), code, "")
		wantRefusal(t, err, keel.ErrInvalidCode)
		e.nextStep()
		if _, err := e.complete(e.challenge(t, "ada@example.com"), e.code(t, secret), ""); err != nil {
			t.Fatalf("the next step's code: %v", err)
		}
	})

	t.Run("the code that confirmed enrolment cannot log in", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.signUp(t, "ada@example.com")
		s := e.login(t, "ada@example.com", goodPassword)
		en, _ := e.svc.EnrolTOTP(ctx, s)
		code := e.code(t, en.Secret)
		if _, err := e.svc.ConfirmTOTP(ctx, s, code); err != nil {
			t.Fatal(err)
		}
		_, err := e.complete(e.challenge(t, "ada@example.com"), code, "")
		wantRefusal(t, err, keel.ErrInvalidCode)
	})

	t.Run("a code of the previous or next step is accepted, one further off is not", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		e.clock.Advance(5 * time.Minute)
		now := e.clock.Now()
		codeAt := func(d time.Duration) string {
			c, _ := totp.GenerateCodeCustom(secret, now.Add(d), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			return c
		}
		_, err := e.complete(e.challenge(t, "ada@example.com"), codeAt(-60*time.Second), "")
		wantRefusal(t, err, keel.ErrInvalidCode)
		if _, err := e.complete(e.challenge(t, "ada@example.com"), codeAt(-30*time.Second), ""); err != nil {
			t.Fatalf("previous step: %v", err)
		}
		if _, err := e.complete(e.challenge(t, "ada@example.com"), codeAt(30*time.Second), ""); err != nil {
			t.Fatalf("next step: %v", err)
		}
		// The next step's code was used: the current one is now in the past.
		_, err = e.complete(e.challenge(t, "ada@example.com"), codeAt(0), "")
		wantRefusal(t, err, keel.ErrInvalidCode)
	})

	t.Run("a recovery code works once", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, _, codes := e.enrolled(t, "ada@example.com")
		if _, err := e.complete(e.challenge(t, "ada@example.com"), "", strings.ToUpper(codes[3])); err != nil {
			t.Fatal(err)
		}
		_, err := e.complete(e.challenge(t, "ada@example.com"), "", codes[3])
		wantRefusal(t, err, keel.ErrInvalidCode)
		if st, _ := e.svc.TOTPStatus(ctx, s.User); st.RecoveryCodesLeft != keel.RecoveryCodeCount-1 {
			t.Fatalf("status = %+v", st)
		}
	})

	t.Run("another user's recovery code or code is refused", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.enrolled(t, "ada@example.com")
		_, bobSecret, bobCodes := e.enrolled(t, "bob@example.com")
		ch := e.challenge(t, "ada@example.com")
		_, err := e.complete(ch, "", bobCodes[0])
		wantRefusal(t, err, keel.ErrInvalidCode)
		_, err = e.complete(ch, e.code(t, bobSecret), "")
		wantRefusal(t, err, keel.ErrInvalidCode)
	})

	t.Run("a challenge works once", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, codes := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		if _, err := e.complete(ch, e.code(t, secret), ""); err != nil {
			t.Fatal(err)
		}
		_, err := e.complete(ch, "", codes[0])
		wantRefusal(t, err, keel.ErrInvalidChallenge)
	})

	t.Run("an expired challenge is refused", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		e.clock.Advance(keel.DefaultChallengeLifetime)
		_, err := e.complete(ch, e.code(t, secret), "")
		wantRefusal(t, err, keel.ErrInvalidChallenge)
	})

	t.Run("a newer login supersedes the older challenge", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		old := e.challenge(t, "ada@example.com")
		e.challenge(t, "ada@example.com")
		_, err := e.complete(old, e.code(t, secret), "")
		wantRefusal(t, err, keel.ErrInvalidChallenge)
	})

	t.Run("made-up, empty and oversized challenges are refused", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		for _, tok := range []string{"", "made-up", strings.Repeat("a", 300)} {
			_, err := e.complete(&keel.Challenge{Token: tok}, e.code(t, secret), "")
			wantRefusal(t, err, keel.ErrInvalidChallenge)
		}
	})

	t.Run("a verification token is no challenge", func(t *testing.T) {
		e := newEnv(t, withTOTP, verifying(keel.VerificationOptional))
		_, secret, _ := e.enrolled(t, "ada@example.com")
		m := e.verificationMail(t)
		_, err := e.complete(&keel.Challenge{Token: m.Token}, e.code(t, secret), "")
		wantRefusal(t, err, keel.ErrInvalidChallenge)
	})

	t.Run("the third wrong code voids the challenge", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		wrong := wrongCode(e.code(t, secret))
		for range 3 {
			_, err := e.complete(ch, wrong, "")
			wantRefusal(t, err, keel.ErrInvalidCode)
		}
		_, err := e.complete(ch, e.code(t, secret), "")
		wantRefusal(t, err, keel.ErrInvalidChallenge)
	})

	t.Run("wrong codes are rate limited per account, across challenges", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, _ := e.enrolled(t, "ada@example.com")
		wrong := wrongCode(e.code(t, secret))
		for range 5 {
			_, err := e.complete(e.challenge(t, "ada@example.com"), wrong, "")
			wantRefusal(t, err, keel.ErrInvalidCode)
		}
		_, err := e.complete(e.challenge(t, "ada@example.com"), e.code(t, secret), "")
		wantCode(t, err, keel.RateLimited)
	})

	t.Run("a code with a recovery code is a field error, no code at all too", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, secret, codes := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		_, err := e.complete(ch, e.code(t, secret), codes[0])
		wantCode(t, err, keel.Invalid)
		_, err = e.complete(ch, "", "")
		wantCode(t, err, keel.Invalid)
		if _, err := e.complete(ch, e.code(t, secret), ""); err != nil {
			t.Fatalf("the challenge did not survive input errors: %v", err)
		}
	})

	t.Run("a password reset does not bypass the second factor", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		e.enrolled(t, "ada@example.com")
		if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: "ada@example.com"}); err != nil {
			t.Fatal(err)
		}
		m := e.mail.WaitReset(t)
		if err := e.svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: m.Token, NewPassword: "a brand new password"}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "a brand new password"})
		wantRefusal(t, err, keel.ErrSecondFactorRequired)
	})

	t.Run("a superuser's password change for the user does not bypass it either", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		root := e.superuser(t, "root@example.com")
		s, _, _ := e.enrolled(t, "ada@example.com")
		if _, err := e.svc.UpdateUser(ctx, root, s.User.ID, keel.UpdateUserInput{Password: keel.Some("a brand new password")}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "a brand new password"})
		wantRefusal(t, err, keel.ErrSecondFactorRequired)
	})

	t.Run("a user deactivated while challenged gets no session", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		root := e.superuser(t, "root@example.com")
		s, secret, _ := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		if _, err := e.svc.UpdateUser(ctx, root, s.User.ID, keel.UpdateUserInput{IsActive: keel.Some(false)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.complete(ch, e.code(t, secret), "")
		wantRefusal(t, err, keel.ErrInactiveUser)
	})

	t.Run("a user without a key configured any more still needs a second factor", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		_, _, codes := e.enrolled(t, "ada@example.com")
		keyless, err := keel.New(e.store, keel.Config{Argon2: cheap, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		_, err = keyless.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword})
		var ch *keel.Challenge
		if !errors.As(err, &ch) {
			t.Fatalf("Login = %v, want a challenge", err)
		}
		_, err = keyless.CompleteLogin(ctx, keel.SecondFactorInput{Challenge: ch.Token, Code: "123456"})
		wantRefusal(t, err, keel.ErrTOTPUnavailable)
		if _, err := keyless.CompleteLogin(ctx, keel.SecondFactorInput{Challenge: ch.Token, RecoveryCode: codes[0]}); err != nil {
			t.Fatalf("a recovery code without the key: %v", err)
		}
	})

	t.Run("of concurrent logins with one code exactly one gets a session", func(t *testing.T) {
		e := newEnv(t, withTOTP, func(c *keel.Config) { c.RateLimits.Disabled = true })
		_, secret, _ := e.enrolled(t, "ada@example.com")
		code := e.code(t, secret)
		ch := e.challenge(t, "ada@example.com")
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() { _, errs[i] = e.complete(ch, code, "") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, keel.ErrInvalidChallenge) && !errors.Is(err, keel.ErrInvalidCode) {
				t.Errorf("err = %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d logins succeeded, want 1", ok)
		}
	})
}

func TestTOTPManagement(t *testing.T) {
	ctx := context.Background()

	t.Run("disabling needs the password and a code, then a password login gives a session", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, secret, _ := e.enrolled(t, "ada@example.com")
		err := e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: "a wrong password", Code: e.code(t, secret)})
		wantRefusal(t, err, keel.ErrIncorrectPassword)
		err = e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: goodPassword, Code: wrongCode(e.code(t, secret))})
		wantRefusal(t, err, keel.ErrInvalidCode)
		err = e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: goodPassword})
		wantCode(t, err, keel.Invalid)
		e.challenge(t, "ada@example.com") // still on
		if err := e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: goodPassword, Code: e.code(t, secret)}); err != nil {
			t.Fatal(err)
		}
		e.login(t, "ada@example.com", goodPassword)
		if st, _ := e.svc.TOTPStatus(ctx, s.User); st.Enabled || st.Pending || st.RecoveryCodesLeft != 0 {
			t.Fatalf("status = %+v", st)
		}
		err = e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: goodPassword, Code: "123456"})
		wantRefusal(t, err, keel.ErrTOTPNotEnabled)
	})

	t.Run("a recovery code disables it too, and voids pending challenges", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, secret, codes := e.enrolled(t, "ada@example.com")
		ch := e.challenge(t, "ada@example.com")
		if err := e.svc.DisableTOTP(ctx, s, keel.DisableTOTPInput{Password: goodPassword, RecoveryCode: codes[0]}); err != nil {
			t.Fatal(err)
		}
		_, err := e.complete(ch, e.code(t, secret), "")
		wantRefusal(t, err, keel.ErrInvalidChallenge)
	})

	t.Run("regenerating recovery codes needs a code and voids the old ones", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		s, secret, old := e.enrolled(t, "ada@example.com")
		_, err := e.svc.RegenerateRecoveryCodes(ctx, s, wrongCode(e.code(t, secret)))
		wantRefusal(t, err, keel.ErrInvalidCode)
		fresh, err := e.svc.RegenerateRecoveryCodes(ctx, s, e.code(t, secret))
		if err != nil || len(fresh) != keel.RecoveryCodeCount {
			t.Fatalf("RegenerateRecoveryCodes = %v, %v", fresh, err)
		}
		_, err = e.complete(e.challenge(t, "ada@example.com"), "", old[0])
		wantRefusal(t, err, keel.ErrInvalidCode)
		if _, err := e.complete(e.challenge(t, "ada@example.com"), "", fresh[0]); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a superuser removes a user's second factor; nobody else can", func(t *testing.T) {
		e := newEnv(t, withTOTP)
		root := e.superuser(t, "root@example.com")
		s, _, _ := e.enrolled(t, "ada@example.com")
		bob := e.signUp(t, "bob@example.com")
		wantRefusal(t, e.svc.RemoveTOTP(ctx, bob, s.User.ID), keel.ErrNotSuperuser)
		wantRefusal(t, e.svc.RemoveTOTP(ctx, s.User, s.User.ID), keel.ErrNotSuperuser)
		if err := e.svc.RemoveTOTP(ctx, root, s.User.ID); err != nil {
			t.Fatal(err)
		}
		e.login(t, "ada@example.com", goodPassword)
		wantRefusal(t, e.svc.RemoveTOTP(ctx, root, s.User.ID), keel.ErrTOTPNotEnabled)
		wantRefusal(t, e.svc.RemoveTOTP(ctx, root, bob.ID), keel.ErrTOTPNotEnabled)
		wantRefusal(t, e.svc.RemoveTOTP(ctx, root, uuid.Must(uuid.NewV7())), keel.ErrUserNotFound)
	})
}

// wrongCode returns a six-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// wantRefusal fails the test unless err is want itself, not only an error
// with want among its causes: adapters word the outermost sentinel.
func wantRefusal(t *testing.T, err error, want *keel.Error) {
	t.Helper()
	if keel.ErrorCode(err) != want.Code || keel.ErrorMessage(err) != want.Message {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestAPITokensCannotManageTheSecondFactor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, withTOTP, verifying(keel.VerificationOptional))
	s, secret, codes := e.enrolled(t, "ada@example.com")
	e.superuser(t, "root@example.com")
	rootSess := e.login(t, "root@example.com", goodPassword)
	tokenSession := func(sess *keel.Session, scope keel.Scope) *keel.Session {
		t.Helper()
		tok, err := e.svc.CreateAPIToken(ctx, sess.User, keel.CreateAPITokenInput{Name: "ci", Scope: scope, ExpiresInDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Authenticate(ctx, tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	full := tokenSession(s, keel.ScopeFull)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"enrolling again", func() error { _, err := e.svc.EnrolTOTP(ctx, full); return err }},
		{"confirming", func() error { _, err := e.svc.ConfirmTOTP(ctx, full, e.code(t, secret)); return err }},
		{"regenerating recovery codes", func() error { _, err := e.svc.RegenerateRecoveryCodes(ctx, full, e.code(t, secret)); return err }},
		{"disabling, even with the password and a code", func() error {
			return e.svc.DisableTOTP(ctx, full, keel.DisableTOTPInput{Password: goodPassword, RecoveryCode: codes[0]})
		}},
		{"asking to change the email", func() error {
			_, err := e.svc.UpdateMe(ctx, full.User, keel.UpdateMeInput{Email: keel.Some("attacker@example.com")})
			return err
		}},
		{"a superuser's token removing a user's factor", func() error {
			return e.svc.RemoveTOTP(ctx, tokenSession(rootSess, keel.ScopeFull).User, s.User.ID)
		}},
	} {
		t.Run("a full API token is refused "+tc.name, func(t *testing.T) {
			wantRefusal(t, tc.call(), keel.ErrSessionRequired)
		})
	}
	if st, err := e.svc.TOTPStatus(ctx, tokenSession(s, keel.ScopeRead).User); err != nil || !st.Enabled {
		t.Fatalf("a read-only token reads the status: %+v, %v", st, err)
	}
	if st, _ := e.svc.TOTPStatus(ctx, s.User); st.RecoveryCodesLeft != keel.RecoveryCodeCount {
		t.Fatalf("a refused call spent a recovery code: %+v", st)
	}
}
