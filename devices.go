package keel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/google/uuid"
)

// Device tokens keep a lockout from being turned against an account's
// owner, after OWASP's "Slow Down Online Guessing Attacks with Device
// Cookies". Every successful login hands the client a device token: a
// random nonce and an HMAC of it and the user's ID under the Service's
// device key. A login that presents a valid device token of the account
// it logs in to is from a trusted client: its failures count against that
// device alone (RateLimits.LoginPerDevice), and the account's lockout does
// not apply to it. Every other login is untrusted and counts against the
// account (RateLimits.LoginPerAccount): ten wrong guesses from anywhere
// lock out untrusted clients, never a browser the owner has logged in
// with. Both still count against the client address. A lockout refuses
// before the password is checked, so no answer tells whether it was right.

// DeviceKeyLength is the least length of Config.DeviceKey.
const DeviceKeyLength = 32

// deviceKeySecret names the device key in the store's secrets.
const deviceKeySecret = "device-key"

// loadDeviceKey returns the key device tokens are signed with: Config.DeviceKey,
// or the store's, made on first use and shared by every process on the
// store.
func (s *Service) loadDeviceKey(ctx context.Context) ([]byte, error) {
	s.deviceKeyMu.Lock()
	defer s.deviceKeyMu.Unlock()
	if s.deviceKey != nil {
		return s.deviceKey, nil
	}
	fresh := make([]byte, DeviceKeyLength)
	if _, err := rand.Read(fresh); err != nil {
		return nil, Wrap(err, Internal, "")
	}
	// Straight on the store, never in a transaction that could roll back
	// a key this Service goes on using (Login, the only caller, refuses to
	// run inside one).
	key, err := s.store.LoadOrStoreSecret(ctx, deviceKeySecret, fresh)
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	if len(key) < DeviceKeyLength {
		return nil, Wrap(errors.New("keel: the stored device key is too short"), Internal, "")
	}
	s.deviceKey = key
	return key, nil
}

// The parts of a device token: a nonce that names the device, and the MAC.
const (
	deviceNonceLength = 16
	deviceMACLength   = sha256.Size
)

// newDeviceToken returns a fresh device token of the user's.
func newDeviceToken(key []byte, userID uuid.UUID) (string, error) {
	b := make([]byte, deviceNonceLength, deviceNonceLength+deviceMACLength)
	if _, err := rand.Read(b); err != nil {
		return "", Wrap(err, Internal, "")
	}
	b = append(b, deviceMAC(key, userID, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// verifyDeviceToken returns the nonce of token when it is a device token
// keel made for the user, and false otherwise (another account's, forged,
// altered, or not one at all).
func verifyDeviceToken(key []byte, userID uuid.UUID, token string) (nonce string, ok bool) {
	if base64.RawURLEncoding.DecodedLen(len(token)) != deviceNonceLength+deviceMACLength {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != deviceNonceLength+deviceMACLength {
		return "", false
	}
	n, mac := b[:deviceNonceLength], b[deviceNonceLength:]
	if !hmac.Equal(mac, deviceMAC(key, userID, n)) {
		return "", false
	}
	return string(n), true
}

func deviceMAC(key []byte, userID uuid.UUID, nonce []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("keel device token\x00"))
	m.Write(userID[:])
	m.Write(nonce)
	return m.Sum(nil)
}

// trustedDevice returns the nonce of the login's device token when the
// token is one keel made for u; ok is false for an untrusted client.
func (s *Service) trustedDevice(ctx context.Context, u *User, token string) (nonce string, ok bool, err error) {
	if u == nil || token == "" {
		return "", false, nil
	}
	key, err := s.loadDeviceKey(ctx)
	if err != nil {
		return "", false, err
	}
	nonce, ok = verifyDeviceToken(key, u.ID, token)
	return nonce, ok, nil
}

// issueDeviceToken gives a client that just logged in as u a device token.
// Failure is logged, not returned: the login stands, and the client stays
// untrusted.
func (s *Service) issueDeviceToken(ctx context.Context, u *User) string {
	key, err := s.loadDeviceKey(ctx)
	if err == nil {
		var token string
		if token, err = newDeviceToken(key, u.ID); err == nil {
			return token
		}
	}
	s.log.WarnContext(ctx, "keel: issuing a device token failed", "user_id", u.ID, "err", err)
	return ""
}

// Unlock lifts the lockout of the user's account: its failed logins from
// untrusted clients are forgotten, so that its owner can log in from a new
// client at once. Superuser only. A device locked out by its own failures
// stays so until its window ends.
func (s *Service) Unlock(ctx context.Context, actor *User, userID uuid.UUID) error {
	if err := requireSuperuser(actor, toWrite); err != nil {
		return err
	}
	u, err := s.db(ctx).User(ctx, userID)
	if err != nil {
		return userError(err)
	}
	return s.unlock(ctx, actor.ID, u, u.Email)
}

// UnlockEmail lifts the lockout of the account with the email, with no
// acting user: for an operator's command line (keel unlock), whose
// authority is running the program. An email no account has is not an
// error.
func (s *Service) UnlockEmail(ctx context.Context, email string) error {
	email = NormalizeEmail(email)
	var u *User
	if email != "" && len(email) <= 255 {
		found, err := s.db(ctx).UserByEmail(ctx, email)
		switch {
		case err == nil:
			u = found
		case ErrorCode(err) != NotFound:
			return classify(err, Unavailable)
		}
	}
	return s.unlock(ctx, uuid.Nil, u, email)
}

// unlock forgets the failed logins of the email (whose account is u, nil
// when none has it) and emits EventLockoutLifted, by the actor.
func (s *Service) unlock(ctx context.Context, actorID uuid.UUID, u *User, email string) error {
	account, _ := s.loginLimits(email, "")
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.DeleteCounter(ctx, account.counter); err != nil {
			return err
		}
		e := s.newEvent(ctx, EventLockoutLifted, actorID, u)
		e.Email = email
		return s.emit(ctx, tx, e)
	})
	if err != nil {
		return classify(err, Unavailable)
	}
	return nil
}
