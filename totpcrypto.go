package keel

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters: those every authenticator app supports (RFC 6238's
// defaults, as Google Authenticator has them).
const (
	totpPeriod     = 30 // seconds per time step
	totpDigits     = otp.DigitsSix
	totpSkew       = 1  // steps either side of now whose codes are accepted, for clock drift
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommendation for SHA-1
	totpQRSize     = 256

	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
	// recoveryCodeBytes is each recovery code's entropy: 80 bits, far past
	// guessing online and past brute-forcing a stolen hash offline.
	recoveryCodeBytes = 10
)

// sealVersion is the first byte of a sealed secret, so the format can change.
const sealVersion = 1

// secretBox seals TOTP secrets with AES-256-GCM under keys the store never
// sees: a database dump alone does not give them away. The first key
// seals; every key opens, so a key can be replaced by putting the new one
// first and keeping the old one until the secrets it sealed are gone.
type secretBox struct {
	aeads []cipher.AEAD
}

func newSecretBox(keys [][]byte) (*secretBox, error) {
	b := &secretBox{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("keel: TOTP key %d is %d bytes, want 32 (AES-256)", i+1, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		b.aeads = append(b.aeads, aead)
	}
	return b, nil
}

func (b *secretBox) ready() bool { return b != nil && len(b.aeads) > 0 }

// seal encrypts secret for the user: the user's id is the additional
// data, so a sealed secret copied to another user's row does not open.
func (b *secretBox) seal(userID uuid.UUID, secret []byte) ([]byte, error) {
	aead := b.aeads[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(secret)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, Wrap(err, Internal, "")
	}
	return aead.Seal(out, out[1:], secret, userID[:]), nil
}

var errSealedSecret = errors.New("keel: the TOTP secret does not open with any configured key")

func (b *secretBox) open(userID uuid.UUID, sealed []byte) ([]byte, error) {
	for _, aead := range b.aeads {
		n := aead.NonceSize()
		if len(sealed) < 1+n || sealed[0] != sealVersion {
			break
		}
		if secret, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], userID[:]); err == nil {
			return secret, nil
		}
	}
	return nil, Wrap(errSealedSecret, Internal, "")
}

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// matchTOTP returns the time step, within totpSkew steps of now, whose
// code is code (the latest, should two steps share it). Every candidate is
// compared in constant time.
func matchTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	if len(code) != int(totpDigits) || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	cur := totpStep(now)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(b32, time.Unix((cur+d)*totpPeriod, 0), totpOpts)
		if err == nil && hmac.Equal([]byte(want), []byte(code)) {
			step, ok = cur+d, true
		}
	}
	return step, ok
}

// newTOTPKey makes a fresh secret and the key an authenticator app reads.
func newTOTPKey(issuer, account string) (secret []byte, key *otp.Key, err error) {
	secret = make([]byte, totpSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, nil, Wrap(err, Internal, "")
	}
	key, err = totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		Secret:      secret,
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, nil, Wrap(err, Internal, "")
	}
	return secret, key, nil
}

// qrPNG draws the key's otpauth:// URI as a QR code, a PNG image.
func qrPNG(key *otp.Key) ([]byte, error) {
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return nil, Wrap(err, Internal, "")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, Wrap(err, Internal, "")
	}
	return buf.Bytes(), nil
}

// recoveryEncoding is Crockford's base32 in lower case: no i, l, o or u
// to misread.
var recoveryEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newRecoveryCodes returns RecoveryCodeCount fresh codes, as the user sees
// them ("xxxx-xxxx-xxxx-xxxx"), and their hashes for the user.
func newRecoveryCodes(userID uuid.UUID) (codes, hashes []string, err error) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryCodeBytes)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, Wrap(err, Internal, "")
		}
		raw := recoveryEncoding.EncodeToString(b) // 16 characters
		codes = append(codes, raw[0:4]+"-"+raw[4:8]+"-"+raw[8:12]+"-"+raw[12:16])
		hashes = append(hashes, hashRecoveryCode(userID, raw))
	}
	return codes, hashes, nil
}

// normRecoveryCode undoes what a person does to a code when typing it:
// case, spaces, dashes, and the letters Crockford's base32 reads as
// digits.
func normRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'o':
			r = '0'
		case 'i', 'l':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hashRecoveryCode is the stored form of a (normalised) recovery code. The
// user's id goes into the hash, so equal codes of two users do not
// collide and a hash is worthless for another user.
func hashRecoveryCode(userID uuid.UUID, code string) string {
	h := sha256.New()
	h.Write(userID[:])
	h.Write([]byte(code))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
