package keel

import (
	"context"
	"errors"
	"time"
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
	tp, err := s.store.TOTP(ctx, u.ID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, nil
		}
		return nil, classify(err, Unavailable)
	}
	if tp.ConfirmedAt.IsZero() {
		return nil, nil
	}
	token, t, err := s.issueToken(ctx, u.ID, PurposeLoginChallenge, "", s.cfg.TOTP.ChallengeLifetime)
	if err != nil {
		return nil, err
	}
	return &Challenge{Token: token, ExpiresAt: t.ExpiresAt}, nil
}

// CompleteLogin turns a login Challenge and a second factor into a
// session. The challenge, the TOTP code's time step and a recovery code
// are each spent once, together, in one transaction. A challenge that is
// unknown, expired, used, superseded or void is ErrInvalidChallenge; a
// wrong or used code is ErrInvalidCode, counted against the account's
// second-factor limit and the address's login limit, and the challenge's
// third wrong code voids it.
func (s *Service) CompleteLogin(ctx context.Context, in SecondFactorInput) (*Session, error) {
	hash := tokenLookup(in.Challenge)
	if hash == "" {
		return nil, ErrInvalidChallenge
	}
	ch, err := s.store.OneTimeToken(ctx, PurposeLoginChallenge, hash)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, ErrInvalidChallenge.withCause(err)
		}
		return nil, classify(err, Unavailable)
	}
	if !ch.ExpiresAt.After(s.now()) {
		return nil, ErrInvalidChallenge
	}
	account := s.secondFactorLimit(ch.UserID)
	_, byAddress := s.loginLimits("", in.ClientAddr)
	if err := s.checkLimits(ctx, append([]rateLimit{account}, byAddress...)...); err != nil {
		return nil, err
	}
	if err := s.hitLimits(ctx, account); err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, ch.UserID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, ErrInvalidChallenge.withCause(err)
		}
		return nil, classify(err, Unavailable)
	}
	tp, err := s.confirmedTOTP(ctx, u.ID)
	if err != nil {
		if errors.Is(err, ErrTOTPNotEnabled) {
			return nil, ErrInvalidChallenge // removed meanwhile: log in again
		}
		return nil, err
	}
	proof, err := s.checkFactor(tp, in.Code, in.RecoveryCode)
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			if _, err := tx.ConsumeOneTimeToken(ctx, PurposeLoginChallenge, hash); err != nil {
				if ErrorCode(err) == NotFound {
					return ErrInvalidChallenge.withCause(err)
				}
				return err
			}
			return spendFactor(ctx, tx, u.ID, proof)
		})
	}
	if err != nil {
		if errors.Is(err, ErrInvalidCode) {
			s.failedSecondFactor(ctx, hash, byAddress)
			return nil, err
		}
		return nil, classify(err, Unavailable)
	}
	s.resetCounter(ctx, account)
	if !u.IsActive {
		return nil, ErrInactiveUser
	}
	return s.startSession(ctx, u)
}

// failedSecondFactor counts a wrong code against the client's address and
// the challenge, and voids the challenge at its last attempt.
func (s *Service) failedSecondFactor(ctx context.Context, challengeHash string, byAddress []rateLimit) {
	if err := s.hitLimits(ctx, byAddress...); err != nil && ErrorCode(err) != RateLimited {
		s.log.WarnContext(ctx, "keel: counting a failed second factor failed", "err", err)
	}
	attempts := rateLimit{counterKey("challenge", challengeHash), Limit{Max: maxChallengeAttempts - 1, Window: s.cfg.TOTP.ChallengeLifetime}}
	if err := s.hitLimits(ctx, attempts); ErrorCode(err) == RateLimited {
		if _, err := s.store.ConsumeOneTimeToken(ctx, PurposeLoginChallenge, challengeHash); err != nil && ErrorCode(err) != NotFound {
			s.log.WarnContext(ctx, "keel: voiding a login challenge failed", "err", err)
		}
	}
}
