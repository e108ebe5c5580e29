package keel

import (
	"bytes"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSecretBox(t *testing.T) {
	alice, bob := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	secret := []byte("twenty bytes secret!")
	box, err := newSecretBox([][]byte{testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.seal(alice, secret)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a sealed secret does not contain the secret", func(t *testing.T) {
		if bytes.Contains(sealed, secret) {
			t.Errorf("sealed %x holds the secret in the clear", sealed)
		}
	})
	t.Run("sealing twice gives two different ciphertexts", func(t *testing.T) {
		again, err := box.seal(alice, secret)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(again, sealed) {
			t.Error("two seals are equal: the nonce is not fresh")
		}
	})
	t.Run("it opens for its user", func(t *testing.T) {
		got, err := box.open(alice, sealed)
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("open = %q, %v; want %q", got, err, secret)
		}
	})
	t.Run("it does not open for another user", func(t *testing.T) {
		if _, err := box.open(bob, sealed); err == nil {
			t.Error("a secret moved to another user's row opened")
		}
	})
	t.Run("it does not open once a byte changed", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		if _, err := box.open(alice, bad); err == nil {
			t.Error("a tampered secret opened")
		}
	})
	t.Run("it does not open with another key", func(t *testing.T) {
		other, _ := newSecretBox([][]byte{testKey(2)})
		if _, err := other.open(alice, sealed); err == nil {
			t.Error("the secret opened with a key that did not seal it")
		}
	})
	t.Run("after a key rotation old secrets open and new ones are sealed with the new key", func(t *testing.T) {
		rotated, err := newSecretBox([][]byte{testKey(2), testKey(1)})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := rotated.open(alice, sealed); err != nil || !bytes.Equal(got, secret) {
			t.Errorf("open of an old secret = %q, %v", got, err)
		}
		fresh, err := rotated.seal(alice, secret)
		if err != nil {
			t.Fatal(err)
		}
		onlyNew, _ := newSecretBox([][]byte{testKey(2)})
		if _, err := onlyNew.open(alice, fresh); err != nil {
			t.Errorf("a new secret does not open with the new key alone: %v", err)
		}
	})
	t.Run("keys that are not 32 bytes are refused", func(t *testing.T) {
		for _, n := range []int{0, 16, 31, 33, 64} {
			if _, err := newSecretBox([][]byte{make([]byte, n)}); err == nil {
				t.Errorf("a %d-byte key was accepted", n)
			}
		}
	})
}

func TestMatchTOTP(t *testing.T) {
	secret := []byte("12345678901234567890") // RFC 6238's SHA-1 test secret
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	now := time.Unix(59*30*1_000_000+7, 0)
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(b32, at, totpOpts)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("RFC 6238's test vector gives its code", func(t *testing.T) {
		// RFC 6238 appendix B: T = 59 s, SHA-1, 8 digits 94287082; six digits keep the last six.
		if got := code(time.Unix(59, 0)); got != "287082" {
			t.Errorf("code at 59 s = %s, want 287082", got)
		}
	})
	for _, tc := range []struct {
		name    string
		at      time.Time
		ok      bool
		stepOff int64
	}{
		{"the current step's code matches the current step", now, true, 0},
		{"the previous step's code matches (clock drift)", now.Add(-30 * time.Second), true, -1},
		{"the next step's code matches (clock drift)", now.Add(30 * time.Second), true, 1},
		{"a code two steps old does not match", now.Add(-60 * time.Second), false, 0},
		{"a code two steps ahead does not match", now.Add(60 * time.Second), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := matchTOTP(secret, code(tc.at), now)
			if ok != tc.ok {
				t.Fatalf("match = %v, want %v", ok, tc.ok)
			}
			if ok && step != totpStep(now)+tc.stepOff {
				t.Errorf("step = %d, want %d", step, totpStep(now)+tc.stepOff)
			}
		})
	}
	for _, bad := range []string{"", "12345", "1234567", "12345a", " 12345", "１２３４５６"} {
		t.Run("a malformed code "+strings.TrimSpace(bad)+" does not match", func(t *testing.T) {
			if _, ok := matchTOTP(secret, bad, now); ok {
				t.Errorf("%q matched", bad)
			}
		})
	}
}

func TestRecoveryCodes(t *testing.T) {
	user, other := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	codes, hashes, err := newRecoveryCodes(user)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("there are RecoveryCodeCount distinct codes in groups of four", func(t *testing.T) {
		if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
			t.Fatalf("%d codes and %d hashes, want %d", len(codes), len(hashes), RecoveryCodeCount)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if len(c) != 19 || strings.Count(c, "-") != 3 {
				t.Errorf("code %q is not xxxx-xxxx-xxxx-xxxx", c)
			}
			if seen[c] {
				t.Errorf("code %q repeats", c)
			}
			seen[c] = true
		}
	})
	t.Run("a code typed with other case, spaces or look-alike letters hashes the same", func(t *testing.T) {
		c := codes[0]
		for _, typed := range []string{c, strings.ToUpper(c), strings.ReplaceAll(c, "-", " "), strings.ReplaceAll(strings.ReplaceAll(c, "0", "O"), "1", "l")} {
			if got := hashRecoveryCode(user, normRecoveryCode(typed)); got != hashes[0] {
				t.Errorf("%q hashes to %s, want %s", typed, got, hashes[0])
			}
		}
	})
	t.Run("the hash depends on the user", func(t *testing.T) {
		if hashRecoveryCode(other, normRecoveryCode(codes[0])) == hashes[0] {
			t.Error("two users' hashes of one code are equal")
		}
	})
}
