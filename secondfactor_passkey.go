package keel

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
)

// A passkey is a second factor too: a login Challenge (from Login, or from
// a provider or passkey sign-in of a user with TOTP) may be completed with
// one of the user's passkeys instead of a TOTP or recovery code.

// ReasonPasskeyFactor is the Reason of EventSecondFactorSucceeded when a
// passkey completed the challenge.
const ReasonPasskeyFactor = "passkey"

// ErrNoPasskeys: the challenged user has no passkey to complete the
// challenge with.
var ErrNoPasskeys = &Error{Code: NotFound, Message: "the user has no passkey"}

// PasskeySecondFactorInput completes a login Challenge with a passkey: the
// challenge's token, the ceremony BeginPasskeySecondFactor began for it,
// the browser's answer, and the client's address for the per-address limit
// ("" when there is none).
type PasskeySecondFactorInput struct {
	Challenge  string          `json:"challenge" required:"true"`
	Ceremony   string          `json:"ceremony" required:"true"`
	Credential json.RawMessage `json:"credential" required:"true" nullable:"false"`
	ClientAddr string          `json:"-"`
}

// challengedUser returns the user of a pending login challenge, without
// spending it, and the challenge's hash. A challenge that is unknown,
// expired, used, superseded or void is ErrInvalidChallenge.
func (s *Service) challengedUser(ctx context.Context, challenge string) (*User, string, error) {
	hash := tokenLookup(challenge)
	if hash == "" {
		return nil, "", ErrInvalidChallenge
	}
	ch, err := s.db(ctx).OneTimeToken(ctx, PurposeLoginChallenge, hash)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, "", ErrInvalidChallenge.withCause(err)
		}
		return nil, "", classify(err, Unavailable)
	}
	if !ch.ExpiresAt.After(s.now()) {
		return nil, "", ErrInvalidChallenge
	}
	u, err := s.db(ctx).User(ctx, ch.UserID)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, "", ErrInvalidChallenge.withCause(err)
		}
		return nil, "", classify(err, Unavailable)
	}
	return u, hash, nil
}

// BeginPasskeySecondFactor starts a ceremony with one of the passkeys of
// the user a login Challenge is for. The challenge stays pending.
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, challenge string) (*PasskeyCeremony, error) {
	pv, err := s.passkeys()
	if err != nil {
		return nil, err
	}
	u, _, err := s.challengedUser(ctx, challenge)
	if err != nil {
		return nil, s.secondFactorFailed(ctx, nil, ReasonInvalidChallenge, err)
	}
	registered, err := s.db(ctx).ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	if len(registered) == 0 {
		return nil, ErrNoPasskeys
	}
	handle, err := s.db(ctx).UserHandle(ctx, u.ID)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	pu := passkeyUser(u, handle)
	options, state, err := pv.BeginLogin(&pu, registered)
	if err != nil {
		return nil, classify(err, Internal)
	}
	return s.startCeremony(ctx, FlowPasskeySecondFactor, u.ID, options, state)
}

// CompleteLoginWithPasskey turns a login Challenge and an answer to the
// ceremony begun for it into a session, as CompleteLogin does with a code:
// the passkey must be one of the challenged user's (another user's is
// refused), and the challenge and the ceremony are each spent once.
// Refused answers count against the account's second-factor limit and the
// address's login limit (EventSecondFactorFailed).
func (s *Service) CompleteLoginWithPasskey(ctx context.Context, in PasskeySecondFactorInput) (*Session, error) {
	if err := s.notInTx(ctx, "CompleteLoginWithPasskey"); err != nil {
		return nil, err
	}
	pv, err := s.passkeys()
	if err != nil {
		return nil, err
	}
	ctx = withClientAddr(ctx, in.ClientAddr)
	u, hash, err := s.challengedUser(ctx, in.Challenge)
	if err != nil {
		if errors.Is(err, ErrInvalidChallenge) {
			return nil, s.secondFactorFailed(ctx, nil, ReasonInvalidChallenge, err)
		}
		return nil, err
	}
	account := s.secondFactorLimit(u.ID)
	_, byAddress := s.loginLimits("", in.ClientAddr)
	if reason, err := s.checkLimits(ctx, append([]rateLimit{account}, byAddress...)...); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, u.Email, u)
	}
	if reason, err := s.hitLimits(ctx, account); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, u.Email, u)
	}
	if _, err := s.verifyPasskey(ctx, pv, FlowPasskeySecondFactor, in.Ceremony, u.ID, in.Credential); err != nil {
		if ErrorCode(err) != Unauthenticated {
			return nil, err
		}
		if _, lerr := s.hitLimits(ctx, byAddress...); lerr != nil && ErrorCode(lerr) != RateLimited {
			return nil, lerr
		}
		reason := ReasonPasskeyRefused
		if errors.Is(err, ErrInvalidCeremony) {
			reason = ReasonInvalidState
		}
		return nil, s.secondFactorFailed(ctx, u, reason, err)
	}
	if !u.IsActive {
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Method, e.Reason = "passkey", ReasonInactiveUser
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
		e := s.newEvent(ctx, EventSecondFactorSucceeded, u.ID, u)
		e.Method, e.Reason = "passkey", ReasonPasskeyFactor
		if err := s.emit(ctx, tx, e); err != nil {
			return err
		}
		if sess, err = s.startSession(ctx, tx, u); err != nil {
			return err
		}
		e = s.newEvent(ctx, EventLoginSucceeded, u.ID, u)
		e.Method = "passkey"
		return s.emit(ctx, tx, e)
	})
	switch {
	case errors.Is(err, ErrInvalidChallenge):
		return nil, s.secondFactorFailed(ctx, u, ReasonInvalidChallenge, err)
	case err != nil:
		if v, ok := vetoed(err); ok {
			return nil, v
		}
		return nil, classify(err, Internal)
	}
	s.resetCounter(ctx, account)
	sess.DeviceToken = s.issueDeviceToken(ctx, u)
	return sess, nil
}
