package keel

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// limitKey is one rate-limit counter and the limit it is held to.
type limitKey struct {
	key   string
	limit Limit
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
// counting this attempt.
func (s *Service) checkLimits(ctx context.Context, keys ...limitKey) error {
	if s.cfg.RateLimits.Disabled {
		return nil
	}
	now := s.now()
	for _, k := range keys {
		c, err := s.store.Counter(ctx, k.key, now)
		if err != nil {
			return asCode(err, Unavailable)
		}
		if c.Count >= int64(k.limit.Max) {
			return rateLimited(c.ResetAt.Sub(now))
		}
	}
	return nil
}

// hitLimits counts one attempt on every counter and refuses when any is
// now over its limit.
func (s *Service) hitLimits(ctx context.Context, keys ...limitKey) error {
	if s.cfg.RateLimits.Disabled {
		return nil
	}
	now := s.now()
	var refuse error
	for _, k := range keys {
		c, err := s.store.IncrementCounter(ctx, k.key, k.limit.Window, now)
		if err != nil {
			return asCode(err, Unavailable)
		}
		if c.Count > int64(k.limit.Max) && refuse == nil {
			refuse = rateLimited(c.ResetAt.Sub(now))
		}
	}
	return refuse
}

func (s *Service) clearLimit(ctx context.Context, key string) {
	if s.cfg.RateLimits.Disabled {
		return
	}
	if err := s.store.DeleteCounter(ctx, key); err != nil {
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

func (s *Service) loginKeys(email, addr string) []limitKey {
	keys := []limitKey{{counterKey("login-account", email), s.cfg.RateLimits.LoginPerAccount}}
	if addr != "" {
		keys = append(keys, limitKey{counterKey("login-address", addr), s.cfg.RateLimits.LoginPerAddress})
	}
	return keys
}

func (s *Service) recoveryKeys(email, addr string) []limitKey {
	keys := []limitKey{{counterKey("recovery-account", email, addr), s.cfg.RateLimits.RecoveryPerAccount}}
	if addr != "" {
		keys = append(keys, limitKey{counterKey("recovery-address", addr), s.cfg.RateLimits.RecoveryPerAddress})
	}
	return keys
}
