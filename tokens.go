package keel

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// newResetToken returns a URL-safe token of 256 random bits and its hash.
func newResetToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", Wrap(err, Internal, "")
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashResetToken(token), nil
}

func hashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
