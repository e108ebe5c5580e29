package keel

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Challenge is the error Login returns, after a correct password, for a
// user with a second factor: no session yet. CompleteLogin turns Token and
// a code into the session. Token works once, until ExpiresAt, and is
// void after a few wrong codes or a newer login. errors.Is(err,
// ErrSecondFactorRequired) holds for it; get it with errors.As.
type Challenge struct {
	Token     string
	ExpiresAt time.Time
}

func (c *Challenge) Error() string { return ErrSecondFactorRequired.Error() }

// Unwrap makes ErrorCode and errors.Is see ErrSecondFactorRequired.
func (c *Challenge) Unwrap() error { return ErrSecondFactorRequired }

// SecondFactorInput completes a login: the Challenge's token and a TOTP
// code or a recovery code, and the client's address for the per-address
// limit ("" when there is none).
type SecondFactorInput struct {
	Challenge    string `json:"challenge" required:"true"`
	Code         string `json:"code" description:"A six-digit TOTP code; give this or recovery_code."`
	RecoveryCode string `json:"recovery_code" description:"An unused recovery code; give this or code."`
	ClientAddr   string `json:"-"`
}

// challenge returns a Challenge for u when u has a confirmed second
// factor, and nil when it has none. A store that cannot tell is an error,
// never "none".
func (s *Service) challenge(ctx context.Context, u *User) (*Challenge, error) {
	tp, err := s.db(ctx).TOTP(ctx, u.ID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, nil
		}
		return nil, classify(err, Unavailable)
	}
	if tp.ConfirmedAt.IsZero() {
		return nil, nil
	}
	var ch *Challenge
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		token, t, err := s.issueToken(ctx, tx, u.ID, PurposeLoginChallenge, "", s.cfg.TOTP.ChallengeLifetime)
		if err != nil {
			return err
		}
		ch = &Challenge{Token: token, ExpiresAt: t.ExpiresAt}
		return s.emit(ctx, tx, s.newEvent(ctx, EventLoginChallenged, u.ID, u))
	})
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	return ch, nil
}

// CompleteLogin turns a login Challenge and a second factor into a
// session (with a device token, as Login gives). The challenge, the TOTP code's time step and a recovery code
// are each spent once, together, in one transaction. A challenge that is
// unknown, expired, used, superseded or void is ErrInvalidChallenge; a
// wrong or used code is ErrInvalidCode, counted against the account's
// second-factor limit and the address's login limit, and the challenge's
// third wrong code voids it. Its counters must count even when a
// transaction rolls back, so it refuses to run inside Service.InTx.
func (s *Service) CompleteLogin(ctx context.Context, in SecondFactorInput) (*Session, error) {
	if err := s.notInTx(ctx, "CompleteLogin"); err != nil {
		return nil, err
	}
	ctx = withClientAddr(ctx, in.ClientAddr)
	hash := tokenLookup(in.Challenge)
	if hash == "" {
		return nil, s.secondFactorFailed(ctx, nil, ReasonInvalidChallenge, ErrInvalidChallenge)
	}
	ch, err := s.db(ctx).OneTimeToken(ctx, PurposeLoginChallenge, hash)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, s.secondFactorFailed(ctx, nil, ReasonInvalidChallenge, ErrInvalidChallenge.withCause(err))
		}
		return nil, classify(err, Unavailable)
	}
	u, err := s.db(ctx).User(ctx, ch.UserID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, s.secondFactorFailed(ctx, nil, ReasonInvalidChallenge, ErrInvalidChallenge.withCause(err))
		}
		return nil, classify(err, Unavailable)
	}
	if !ch.ExpiresAt.After(s.now()) {
		return nil, s.secondFactorFailed(ctx, u, ReasonInvalidChallenge, ErrInvalidChallenge)
	}
	account := s.secondFactorLimit(u.ID)
	_, byAddress := s.loginLimits("", in.ClientAddr)
	if reason, err := s.checkLimits(ctx, append([]rateLimit{account}, byAddress...)...); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, u.Email, u)
	}
	if reason, err := s.hitLimits(ctx, account); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, u.Email, u)
	}
	tp, err := s.confirmedTOTP(ctx, u.ID)
	if err != nil {
		if errors.Is(err, ErrTOTPNotEnabled) { // removed meanwhile: log in again
			return nil, s.secondFactorFailed(ctx, u, ReasonSecondFactorRemoved, ErrInvalidChallenge)
		}
		return nil, err
	}
	proof, err := s.checkFactor(tp, in.Code, in.RecoveryCode)
	if err != nil {
		return nil, s.codeRefused(ctx, u, hash, byAddress, err)
	}
	if !u.IsActive {
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Reason = ReasonInactiveUser
		return nil, s.refusal(ctx, e, ErrInactiveUser)
	}
	var sess *Session
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.ConsumeOneTimeToken(ctx, PurposeLoginChallenge, hash); err != nil {
			if ErrorCode(err) == NotFound { // used meanwhile
				return ErrInvalidChallenge.withCause(err)
			}
			return err
		}
		if err := s.spendFactor(ctx, tx, u, proof); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventSecondFactorSucceeded, u.ID, u)
		e.Reason = proof.reason()
		if err := s.emit(ctx, tx, e); err != nil {
			return err
		}
		sess, err = s.startSession(ctx, tx, u)
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventLoginSucceeded, u.ID, u))
	})
	switch {
	case errors.Is(err, ErrInvalidCode):
		return nil, s.codeRefused(ctx, u, hash, byAddress, err)
	case errors.Is(err, ErrInvalidChallenge):
		return nil, s.secondFactorFailed(ctx, u, ReasonInvalidChallenge, err)
	case errors.Is(err, ErrTOTPNotEnabled): // removed meanwhile: log in again
		return nil, s.secondFactorFailed(ctx, u, ReasonSecondFactorRemoved, ErrInvalidChallenge.withCause(err))
	case err != nil:
		return nil, classify(err, Internal)
	}
	s.resetCounter(ctx, account)
	// Only now has the client proved it is the account's: its device
	// token, as Login gives one, spares it the account's lockout.
	sess.DeviceToken = s.issueDeviceToken(ctx, u)
	return sess, nil
}

// codeRefused answers a wrong or used code given for a challenge: it
// counts against the client's address and the challenge, voids the
// challenge at its last attempt, and is reported. Input errors (no code,
// two codes) pass as they are.
func (s *Service) codeRefused(ctx context.Context, u *User, challengeHash string, byAddress []rateLimit, err error) error {
	if !errors.Is(err, ErrInvalidCode) {
		return err
	}
	if _, err := s.hitLimits(ctx, byAddress...); err != nil && ErrorCode(err) != RateLimited {
		return err
	}
	attempts := rateLimit{counterKey("challenge", challengeHash), Limit{Max: maxChallengeAttempts - 1, Window: s.cfg.TOTP.ChallengeLifetime}, ReasonSecondFactorAccount}
	if _, err := s.hitLimits(ctx, attempts); ErrorCode(err) == RateLimited {
		if _, err := s.db(ctx).ConsumeOneTimeToken(ctx, PurposeLoginChallenge, challengeHash); err != nil && ErrorCode(err) != NotFound {
			s.log.WarnContext(ctx, "keel: voiding a login challenge failed", "err", err)
		}
	}
	return s.secondFactorFailed(ctx, u, codeReason(err), err)
}

// secondFactorFailed reports a refused code or challenge (u is nil when
// no account is known) and returns err, or the failure to report it.
func (s *Service) secondFactorFailed(ctx context.Context, u *User, reason string, err error) error {
	e := s.newEvent(ctx, EventSecondFactorFailed, uuid.Nil, u)
	e.Reason = reason
	return s.refusal(ctx, e, err)
}
