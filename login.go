package keel

import "context"

// LoginInput is an email and password, and what the client says of
// itself: its address, for the per-address rate limit and the session's
// record ("" when there is none, as in a CLI), its user agent, for the
// session's record, and the device token an earlier login gave it (see
// Session.DeviceToken), which exempts it from the account's lockout.
type LoginInput struct {
	Email       string
	Password    string
	ClientAddr  string
	UserAgent   string
	DeviceToken string
}

// Login checks an email and password and starts a new session. An unknown
// email and a wrong password give the same error (ErrIncorrectLogin) and
// cost the same time; ErrInactiveUser comes only after a correct password.
// Failed attempts count against per-address limits, and against the
// account's (RateLimits.LoginPerAccount) or, for a client that presents a
// device token of the account, against that device's
// (RateLimits.LoginPerDevice): strangers who lock the account out do not
// lock out its owner's devices (see devices.go). A locked-out client is
// refused with ErrTooManyRequests (with RetryAfter) before its password is
// checked, so the answer never tells whether it was right. A successful
// login gives the client a new device token in Session.DeviceToken. A
// bcrypt hash, or an argon2id hash with old parameters, is upgraded on
// success.
func (s *Service) Login(ctx context.Context, in LoginInput) (*Session, error) {
	email := NormalizeEmail(in.Email)
	var u *User
	if email != "" && len(email) <= 255 {
		found, err := s.store.UserByEmail(ctx, email)
		switch {
		case err == nil:
			u = found
		case ErrorCode(err) != NotFound:
			return nil, classify(err, Unavailable)
		}
	}
	guesses, byAddress := s.loginLimits(email, in.ClientAddr)
	nonce, trusted, err := s.trustedDevice(ctx, u, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	if trusted {
		guesses = s.deviceLimit(u.ID, nonce)
	}
	if err := s.checkLimits(ctx, append([]rateLimit{guesses}, byAddress...)...); err != nil {
		return nil, err
	}
	// Count the attempt before the password is checked: parallel guesses
	// all pass the check above, and would each be verified if they were
	// counted only once they had failed.
	if err := s.hitLimits(ctx, guesses); err != nil {
		return nil, err
	}
	hash := s.hasher.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	password := in.Password
	if n := runeLen(password); n < 1 || n > MaxPasswordLength {
		// Never hash an oversized input; spend the same time anyway.
		password, u = "", nil
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil || !ok {
		if err := s.hitLimits(ctx, byAddress...); err != nil && ErrorCode(err) != RateLimited {
			return nil, err
		}
		return nil, ErrIncorrectLogin
	}
	// The right password clears the count it was held to; a trusted
	// device's success leaves the account's lockout of strangers standing.
	s.resetCounter(ctx, guesses)
	if !u.IsActive {
		return nil, ErrInactiveUser
	}
	if rehash {
		s.upgradeHash(ctx, u, in.Password)
	}
	sess, err := s.startSession(ctx, u, in.ClientAddr, in.UserAgent)
	if err != nil {
		return nil, err
	}
	sess.DeviceToken = s.issueDeviceToken(ctx, u)
	return sess, nil
}

// upgradeHash re-hashes a password with the current parameters. Failure is
// logged, not fatal: the old hash still works.
func (s *Service) upgradeHash(ctx context.Context, u *User, password string) {
	newHash, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			cur, err := tx.User(ctx, u.ID)
			if err != nil {
				return err
			}
			if cur.PasswordHash != u.PasswordHash {
				return nil // changed meanwhile; keep the newer one
			}
			cur.PasswordHash = newHash
			if err := tx.UpdateUser(ctx, cur); err != nil {
				return err
			}
			u.PasswordHash = newHash
			return nil
		})
	}
	if err != nil {
		s.log.WarnContext(ctx, "keel: upgrading a password hash failed", "user_id", u.ID, "err", err)
	}
}
