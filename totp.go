package keel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TOTPConfig configures two-factor authentication with TOTP (RFC 6238:
// the six-digit codes of authenticator apps).
type TOTPConfig struct {
	// Keys seal TOTP secrets in the store with AES-256-GCM, so that a
	// dump of the database alone does not give them away. Each is 32
	// bytes. The first seals; every one opens, so a key is replaced by
	// putting the new one first and keeping the old one while secrets
	// sealed with it remain (a user who enrols again gets the new key).
	// Without a key users cannot enrol (ErrTOTPUnavailable): keel never
	// stores a TOTP secret in the clear. A user already enrolled keeps
	// needing a second factor even then: recovery codes still work, and a
	// superuser can remove the factor.
	Keys [][]byte
	// Issuer names the service in authenticator apps. Default "keel".
	Issuer string
	// ChallengeLifetime is how long the challenge a password login gives
	// a user with a second factor waits for its code. Default 5 minutes.
	ChallengeLifetime time.Duration
}

// DefaultChallengeLifetime is the default TOTPConfig.ChallengeLifetime.
const DefaultChallengeLifetime = 5 * time.Minute

// maxChallengeAttempts is how many wrong codes a login challenge takes
// before it is void and the password must be given again.
const maxChallengeAttempts = 3

// TOTPEnrolment is what a user adds to an authenticator app. The second
// factor is pending, and guards nothing, until ConfirmTOTP.
type TOTPEnrolment struct {
	// Secret is the shared secret in base32, for typing in by hand.
	Secret string
	// URI is the otpauth:// URI that authenticator apps read.
	URI string
	// QRCode is URI drawn as a QR code: a PNG image.
	QRCode []byte
}

// TOTPStatus says where a user's second factor stands.
type TOTPStatus struct {
	// Enabled: logins need a code.
	Enabled bool
	// Pending: enrolment began and awaits ConfirmTOTP.
	Pending bool
	// RecoveryCodesLeft is how many unused recovery codes remain.
	RecoveryCodesLeft int
}

// DisableTOTPInput turns a second factor off: the password and a current
// code, or a recovery code.
type DisableTOTPInput struct {
	Password     string `json:"password" required:"true"`
	Code         string `json:"code" description:"A six-digit TOTP code; give this or recovery_code."`
	RecoveryCode string `json:"recovery_code" description:"An unused recovery code; give this or code."`
}

// TOTPAvailable reports whether users can enrol: whether a TOTP key is
// configured.
func (s *Service) TOTPAvailable() bool { return s.totpBox.ready() }

// EnrolTOTP starts, or starts again, the enrolment of the session's user
// in TOTP: a fresh secret, sealed in the store, and what an authenticator
// app needs. Until ConfirmTOTP it guards nothing. ErrTOTPEnabled when the
// user has a confirmed second factor; ErrTOTPUnavailable without a key.
func (s *Service) EnrolTOTP(ctx context.Context, sess *Session) (*TOTPEnrolment, error) {
	u, err := sessionUser(sess)
	if err != nil {
		return nil, err
	}
	if !s.totpBox.ready() {
		return nil, ErrTOTPUnavailable
	}
	secret, key, err := newTOTPKey(s.cfg.TOTP.Issuer, u.Email)
	if err != nil {
		return nil, err
	}
	sealed, err := s.totpBox.seal(u.ID, secret)
	if err != nil {
		return nil, err
	}
	qr, err := qrPNG(key)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.User(ctx, u.ID); err != nil { // one TOTP change per user at a time
			return err
		}
		if cur, err := tx.TOTP(ctx, u.ID); err == nil && !cur.ConfirmedAt.IsZero() {
			return ErrTOTPEnabled
		} else if err != nil && ErrorCode(err) != NotFound {
			return err
		}
		return tx.PutTOTP(ctx, &TOTP{UserID: u.ID, Secret: sealed, CreatedAt: s.now()})
	})
	if err != nil {
		return nil, totpError(err)
	}
	return &TOTPEnrolment{Secret: key.Secret(), URI: key.URL(), QRCode: qr}, nil
}

// ConfirmTOTP ends the enrolment of the session's user with a current
// code from the authenticator app, and returns RecoveryCodeCount recovery
// codes, which keel keeps only hashed: they are shown this once. From
// then on a password login needs a second factor. ErrInvalidCode for a
// wrong code (counted against the second-factor limit),
// ErrNoTOTPEnrolment when no enrolment is pending.
func (s *Service) ConfirmTOTP(ctx context.Context, sess *Session, code string) ([]string, error) {
	if err := s.notInTx(ctx, "ConfirmTOTP"); err != nil {
		return nil, err
	}
	u, err := sessionUser(sess)
	if err != nil {
		return nil, err
	}
	limit := s.secondFactorLimit(u.ID)
	if err := s.countAttempt(ctx, limit, u); err != nil {
		return nil, err
	}
	tp, err := s.db(ctx).TOTP(ctx, u.ID)
	switch {
	case ErrorCode(err) == NotFound:
		return nil, ErrNoTOTPEnrolment
	case err != nil:
		return nil, classify(err, Unavailable)
	case !tp.ConfirmedAt.IsZero():
		return nil, ErrTOTPEnabled
	}
	proof, err := s.checkFactor(tp, code, "")
	if err != nil {
		return nil, s.factorRefused(ctx, u, err)
	}
	codes, hashes, err := newRecoveryCodes(u.ID)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.User(ctx, u.ID); err != nil {
			return err
		}
		cur, err := tx.TOTP(ctx, u.ID)
		if err != nil || !cur.ConfirmedAt.IsZero() || !bytes.Equal(cur.Secret, tp.Secret) {
			return ErrNoTOTPEnrolment // confirmed or enrolled again meanwhile
		}
		cur.ConfirmedAt, cur.LastStep = s.now(), proof.step
		if err := tx.PutTOTP(ctx, cur); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventTOTPEnrolled, u.ID, u))
	})
	if err != nil {
		return nil, totpError(err)
	}
	s.resetCounter(ctx, limit)
	return codes, nil
}

// RegenerateRecoveryCodes replaces the session's user's recovery codes
// with RecoveryCodeCount new ones, given a current TOTP code, and returns
// them (shown this once). Codes not used yet stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, sess *Session, code string) ([]string, error) {
	if err := s.notInTx(ctx, "RegenerateRecoveryCodes"); err != nil {
		return nil, err
	}
	u, err := sessionUser(sess)
	if err != nil {
		return nil, err
	}
	limit := s.secondFactorLimit(u.ID)
	if err := s.countAttempt(ctx, limit, u); err != nil {
		return nil, err
	}
	tp, err := s.confirmedTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	proof, err := s.checkFactor(tp, code, "")
	if err != nil {
		return nil, s.factorRefused(ctx, u, err)
	}
	codes, hashes, err := newRecoveryCodes(u.ID)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := s.spendFactor(ctx, tx, u, proof); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventRecoveryCodesRegenerated, u.ID, u))
	})
	if err != nil {
		return nil, s.factorRefused(ctx, u, totpError(err))
	}
	s.resetCounter(ctx, limit)
	return codes, nil
}

// DisableTOTP removes the session's user's second factor, given the
// password and a current code or a recovery code: a session alone, stolen
// or left open, cannot weaken the account. A wrong password is
// ErrIncorrectPassword (counted as a failed login), a wrong code
// ErrInvalidCode (counted against the second-factor limit). A pending
// enrolment is dropped with the password alone.
func (s *Service) DisableTOTP(ctx context.Context, sess *Session, in DisableTOTPInput) error {
	if err := s.notInTx(ctx, "DisableTOTP"); err != nil {
		return err
	}
	u, err := sessionUser(sess)
	if err != nil {
		return err
	}
	if in.Password == "" {
		return invalid(violation("password", Required, 0, nil))
	}
	account, _ := s.loginLimits(u.Email, "")
	if err := s.countAttempt(ctx, account, u); err != nil {
		return err
	}
	cur, err := s.db(ctx).User(ctx, u.ID)
	if err != nil {
		return userError(err)
	}
	password := in.Password
	if runeLen(password) > MaxPasswordLength {
		password = "" // never hash an oversized input
	}
	ok, _, err := s.hasher.Verify(ctx, password, cur.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		e := s.newEvent(ctx, EventLoginFailed, u.ID, u)
		e.Reason = ReasonPasswordCheck
		return s.refusal(ctx, e, ErrIncorrectPassword)
	}
	s.resetCounter(ctx, account)
	tp, err := s.db(ctx).TOTP(ctx, u.ID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return ErrTOTPNotEnabled
		}
		return classify(err, Unavailable)
	}
	limit := s.secondFactorLimit(u.ID)
	confirmed := !tp.ConfirmedAt.IsZero()
	var proof factorProof
	if confirmed {
		if err := s.countAttempt(ctx, limit, u); err != nil {
			return err
		}
		if proof, err = s.checkFactor(tp, in.Code, in.RecoveryCode); err != nil {
			return s.factorRefused(ctx, u, err)
		}
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.User(ctx, u.ID); err != nil {
			return err
		}
		if confirmed {
			if err := s.spendFactor(ctx, tx, u, proof); err != nil {
				return err
			}
		}
		if err := tx.DeleteTOTP(ctx, u.ID); err != nil {
			if ErrorCode(err) == NotFound { // removed meanwhile
				return ErrTOTPNotEnabled.withCause(err)
			}
			return err
		}
		if err := tx.DeleteUserOneTimeTokens(ctx, u.ID, PurposeLoginChallenge); err != nil {
			return err
		}
		if !confirmed {
			return nil // a pending enrolment guarded nothing
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventTOTPDisabled, u.ID, u))
	})
	if err != nil {
		return s.factorRefused(ctx, u, totpError(err))
	}
	s.resetCounter(ctx, limit)
	return nil
}

// TOTPStatus says whether the actor's second factor is enabled or
// pending, and how many recovery codes it has left.
func (s *Service) TOTPStatus(ctx context.Context, actor *User) (TOTPStatus, error) {
	if err := requireActive(actor, toRead); err != nil {
		return TOTPStatus{}, err
	}
	tp, err := s.db(ctx).TOTP(ctx, actor.ID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return TOTPStatus{}, nil
		}
		return TOTPStatus{}, classify(err, Unavailable)
	}
	if tp.ConfirmedAt.IsZero() {
		return TOTPStatus{Pending: true}, nil
	}
	n, err := s.db(ctx).CountRecoveryCodes(ctx, actor.ID)
	if err != nil {
		return TOTPStatus{}, classify(err, Unavailable)
	}
	return TOTPStatus{Enabled: true, RecoveryCodesLeft: n}, nil
}

// RemoveTOTP removes a user's second factor, and its pending login
// challenges, for a user who lost both authenticator and recovery codes.
// Superuser only. ErrTOTPNotEnabled when the user has none.
func (s *Service) RemoveTOTP(ctx context.Context, actor *User, id uuid.UUID) error {
	if err := requireSuperuser(actor, bySession); err != nil {
		return err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteTOTP(ctx, id); err != nil {
			if ErrorCode(err) == NotFound {
				return ErrTOTPNotEnabled.withCause(err)
			}
			return err
		}
		if err := tx.DeleteUserOneTimeTokens(ctx, id, PurposeLoginChallenge); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventTOTPDisabled, actor.ID, u))
	})
	if err != nil {
		return totpError(err)
	}
	return nil
}

// totpError keeps the refusals of the TOTP operations, and a hook's veto,
// as they are, and gives any other error from the store its meaning for
// a user.
func totpError(err error) error {
	if v, ok := vetoed(err); ok {
		return v
	}
	for _, refusal := range []*Error{ErrTOTPEnabled, ErrTOTPNotEnabled, ErrNoTOTPEnrolment, ErrInvalidCode, ErrInvalidChallenge} {
		if errors.Is(err, refusal) {
			return err
		}
	}
	return userError(err)
}

// confirmedTOTP returns the user's TOTP when it is confirmed;
// ErrTOTPNotEnabled otherwise.
func (s *Service) confirmedTOTP(ctx context.Context, userID uuid.UUID) (*TOTP, error) {
	tp, err := s.db(ctx).TOTP(ctx, userID)
	switch {
	case ErrorCode(err) == NotFound:
		return nil, ErrTOTPNotEnabled
	case err != nil:
		return nil, classify(err, Unavailable)
	case tp.ConfirmedAt.IsZero():
		return nil, ErrTOTPNotEnabled
	}
	return tp, nil
}

// factorProof is a second factor checked against a TOTP but not spent yet.
type factorProof struct {
	step         int64  // the time step of a TOTP code
	recoveryHash string // or the hash of a recovery code
}

func (p factorProof) reason() string {
	if p.recoveryHash != "" {
		return ReasonRecoveryCode
	}
	return ReasonTOTPCode
}

// Why a code was refused, kept as the cause of ErrInvalidCode for the
// Reason of EventSecondFactorFailed.
var (
	errWrongCode         = errors.New("keel: no time step around now has this code")
	errUsedCode          = errors.New("keel: the code's time step was used already")
	errWrongRecoveryCode = errors.New("keel: the user has no such recovery code")
)

// codeReason is the Reason of a refused code.
func codeReason(err error) string {
	switch {
	case errors.Is(err, errUsedCode):
		return ReasonUsedCode
	case errors.Is(err, errWrongRecoveryCode):
		return ReasonWrongRecoveryCode
	}
	return ReasonWrongCode
}

// checkFactor checks a TOTP code (or, when code is "", takes a recovery
// code) without spending it: a code of a time step at or before the last
// accepted one is refused, so a code works once. ErrInvalidCode when it is
// wrong or used.
func (s *Service) checkFactor(tp *TOTP, code, recoveryCode string) (factorProof, error) {
	switch {
	case code != "" && recoveryCode != "":
		return factorProof{}, invalid(violation("recovery_code", Unsupported, 0, nil))
	case recoveryCode != "":
		if len(recoveryCode) > 64 {
			return factorProof{}, ErrInvalidCode.withCause(errWrongRecoveryCode)
		}
		return factorProof{recoveryHash: hashRecoveryCode(tp.UserID, normRecoveryCode(recoveryCode))}, nil
	case code == "":
		return factorProof{}, invalid(violation("code", Required, 0, nil))
	}
	if !s.totpBox.ready() {
		return factorProof{}, ErrTOTPUnavailable
	}
	secret, err := s.totpBox.open(tp.UserID, tp.Secret)
	if err != nil {
		return factorProof{}, err
	}
	step, ok := matchTOTP(secret, code, s.now())
	switch {
	case !ok:
		return factorProof{}, ErrInvalidCode.withCause(errWrongCode)
	case step <= tp.LastStep:
		return factorProof{}, ErrInvalidCode.withCause(errUsedCode)
	}
	return factorProof{step: step}, nil
}

// spendFactor uses a checked factor up in tx: the TOTP's last step moves
// to the code's, or the recovery code goes (and is reported). Of two
// concurrent uses of one code, one gets ErrInvalidCode.
func (s *Service) spendFactor(ctx context.Context, tx Tx, u *User, p factorProof) error {
	if p.recoveryHash != "" {
		if err := tx.ConsumeRecoveryCode(ctx, u.ID, p.recoveryHash); err != nil {
			if ErrorCode(err) == NotFound {
				return ErrInvalidCode.withCause(fmt.Errorf("%w: %w", errWrongRecoveryCode, err))
			}
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventRecoveryCodeUsed, u.ID, u))
	}
	if err := tx.AdvanceTOTPStep(ctx, u.ID, p.step); err != nil {
		switch ErrorCode(err) {
		case Conflict:
			return ErrInvalidCode.withCause(fmt.Errorf("%w: %w", errUsedCode, err))
		case NotFound:
			return ErrTOTPNotEnabled.withCause(err) // removed meanwhile
		}
		return err
	}
	return nil
}

// factorRefused reports a refused code of the user's own operations
// (ConfirmTOTP, RegenerateRecoveryCodes, DisableTOTP) and returns err;
// other errors pass as they are.
func (s *Service) factorRefused(ctx context.Context, u *User, err error) error {
	if !errors.Is(err, ErrInvalidCode) {
		return err
	}
	return s.secondFactorFailed(ctx, u, codeReason(err), err)
}

// countAttempt refuses when l is spent and counts one attempt on it. It
// runs before the check it guards, so that parallel guesses all count; a
// success resets l.
func (s *Service) countAttempt(ctx context.Context, l rateLimit, u *User) error {
	if reason, err := s.checkLimits(ctx, l); err != nil {
		return s.rateLimitRefusal(ctx, reason, err, u.Email, u)
	}
	if reason, err := s.hitLimits(ctx, l); err != nil {
		return s.rateLimitRefusal(ctx, reason, err, u.Email, u)
	}
	return nil
}

// secondFactorLimit holds the codes tried for the user's second factor.
func (s *Service) secondFactorLimit(userID uuid.UUID) rateLimit {
	return rateLimit{counterKey("second-factor", userID.String()), s.cfg.RateLimits.SecondFactorPerAccount, ReasonSecondFactorAccount}
}

// sessionUser is the check of the operations on the caller's own second
// factor: they manage the account's credentials, so they take a session,
// never an API token.
func sessionUser(sess *Session) (*User, error) {
	if sess == nil {
		return nil, ErrNotAuthenticated
	}
	if err := requireActive(sess.User, bySession); err != nil {
		return nil, err
	}
	return sess.User, nil
}
