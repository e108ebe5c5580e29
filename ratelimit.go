package keel

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/google/uuid"
)

// rateLimit is a Limit and the counter held to it, by the counter's key
// in the store.
type rateLimit struct {
	counter string
	limit   Limit
	reason  string // the Reason of the EventRateLimited it causes
}

// counterKey names a counter. The subject (an email, an address) is
// hashed: keys stay short however long the input, and the counters table
// holds no personal data.
func counterKey(kind string, subjects ...string) string {
	h := sha256.New()
	for _, s := range subjects {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return kind + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// checkLimits refuses when any counter has reached its limit, without
// counting this attempt. A refusal comes with the limit's reason.
func (s *Service) checkLimits(ctx context.Context, limits ...rateLimit) (reason string, err error) {
	if s.cfg.RateLimits.Disabled {
		return "", nil
	}
	now := s.now()
	for _, l := range limits {
		c, err := s.db(ctx).Counter(ctx, l.counter, now)
		if err != nil {
			return "", classify(err, Unavailable)
		}
		if c.Count >= int64(l.limit.Max) {
			return l.reason, rateLimited(c.ResetAt.Sub(now))
		}
	}
	return "", nil
}

// hitLimits counts one attempt on every counter and refuses when any is
// now over its limit. A refusal comes with the limit's reason.
func (s *Service) hitLimits(ctx context.Context, limits ...rateLimit) (reason string, err error) {
	if s.cfg.RateLimits.Disabled {
		return "", nil
	}
	now := s.now()
	var refuse error
	for _, l := range limits {
		c, err := s.db(ctx).IncrementCounter(ctx, l.counter, l.limit.Window, now)
		if err != nil {
			return "", classify(err, Unavailable)
		}
		if c.Count > int64(l.limit.Max) && refuse == nil {
			reason, refuse = l.reason, rateLimited(c.ResetAt.Sub(now))
		}
	}
	return reason, refuse
}

// rateLimitRefusal reports an EventRateLimited for err when a limit
// refused (for the email, and its account when known), and returns err:
// the refusal, a store failure, or the failure to report.
func (s *Service) rateLimitRefusal(ctx context.Context, reason string, err error, email string, u *User) error {
	if ErrorCode(err) != RateLimited {
		return err
	}
	e := s.newEvent(ctx, EventRateLimited, uuid.Nil, u)
	e.Email, e.Reason = email, reason
	return s.refusal(ctx, e, err)
}

// resetCounter starts l's counter afresh, as after a successful login.
// Failure is logged, not returned: the counter ends with its window.
func (s *Service) resetCounter(ctx context.Context, l rateLimit) {
	if s.cfg.RateLimits.Disabled {
		return
	}
	if err := s.db(ctx).DeleteCounter(ctx, l.counter); err != nil {
		s.log.WarnContext(ctx, "keel: clearing a rate-limit counter failed", "err", err)
	}
}

func rateLimited(retry time.Duration) error {
	if retry < time.Second {
		retry = time.Second
	}
	e := *ErrTooManyRequests
	e.RetryAfter = retry.Round(time.Second)
	return &e
}

// loginLimits hold failed logins: account, to the account with the email,
// and byAddress, from the client address (none when addr is "").
func (s *Service) loginLimits(email, addr string) (account rateLimit, byAddress []rateLimit) {
	account = rateLimit{counterKey("login-account", email), s.cfg.RateLimits.LoginPerAccount, ReasonLoginAccount}
	if addr != "" {
		byAddress = []rateLimit{{counterKey("login-address", addr), s.cfg.RateLimits.LoginPerAddress, ReasonLoginAddress}}
	}
	return account, byAddress
}

// deviceLimit holds failed logins to the user's account from the trusted
// device named by nonce (see devices.go).
func (s *Service) deviceLimit(userID uuid.UUID, nonce string) rateLimit {
	return rateLimit{counterKey("login-device", userID.String(), nonce), s.cfg.RateLimits.LoginPerDevice, ReasonLoginDevice}
}

// passwordChangeLimit holds wrong current passwords given to
// ChangePassword with the session.
func (s *Service) passwordChangeLimit(sess *Session) rateLimit {
	return rateLimit{counterKey("password-session", sess.tokenHash), s.cfg.RateLimits.LoginPerAccount, ReasonPasswordSession}
}

// recoveryLimits hold recovery requests for the email from the client
// address, and from the address (when addr is not "").
func (s *Service) recoveryLimits(email, addr string) []rateLimit {
	limits := []rateLimit{{counterKey("recovery-account", email, addr), s.cfg.RateLimits.RecoveryPerAccount, ReasonRecoveryAccount}}
	if addr != "" {
		limits = append(limits, rateLimit{counterKey("recovery-address", addr), s.cfg.RateLimits.RecoveryPerAddress, ReasonRecoveryAddress})
	}
	return limits
}
