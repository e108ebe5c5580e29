package keel

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// newResetToken returns a URL-safe token of 256 random bits and its hash.
func newResetToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", Wrap(err, Internal, "")
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is what keel keeps of a reset or API token: its SHA-256. The
// tokens are 256 random bits, so a fast hash is as good as a slow one.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// An API token is APITokenPrefix, 43 characters of 256 random bits
// (base64url) and 6 of a CRC-32 of them: a typo or a cut-off paste is
// refused without a lookup, and a scanner can check a match offline.
const (
	apiTokenSecretLength = 43
	apiTokenLength       = len(APITokenPrefix) + apiTokenSecretLength + 6
)

// newAPIToken returns a fresh token and its hash.
func newAPIToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", Wrap(err, Internal, "")
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	token = APITokenPrefix + secret + apiTokenChecksum(secret)
	return token, hashToken(token), nil
}

func apiTokenChecksum(secret string) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE([]byte(secret)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// wellFormedAPIToken reports whether token has the shape and checksum of
// a token keel made.
func wellFormedAPIToken(token string) bool {
	if len(token) != apiTokenLength || !strings.HasPrefix(token, APITokenPrefix) {
		return false
	}
	secret := token[len(APITokenPrefix) : len(APITokenPrefix)+apiTokenSecretLength]
	return token[len(APITokenPrefix)+apiTokenSecretLength:] == apiTokenChecksum(secret)
}
