package keel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keel-dev/keel/internal/priority"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// hasher makes and checks password hashes. It bounds how many run at once:
// argon2id takes Argon2.Memory KiB per hash, so an unbounded flood of logins
// would exhaust memory.
type hasher struct {
	params Argon2Params
	slots  chan struct{}
	nice   int // the hashing threads' nice value; < 1: the process's
	// dummy is a real hash of a random password, verified when a login names
	// an unknown email so that it costs the same as a wrong password.
	dummy string

	// What HashStats reports of the callers that found every slot taken.
	waiting      atomic.Int64
	waitCount    atomic.Int64
	waitDuration atomic.Int64 // nanoseconds
}

// HashStats describes the password hasher's slots (Config.MaxConcurrentHashes)
// as sql.DBStats describes a connection pool: how many are taken, and how
// often and how long callers waited for one. A growing WaitDuration means
// logins queue for the CPU.
type HashStats struct {
	MaxConcurrent int // the slots: Config.MaxConcurrentHashes
	InFlight      int // hashes being computed now
	Waiting       int // callers waiting for a slot now

	WaitCount    int64         // callers that waited for a slot, in all
	WaitDuration time.Duration // how long they waited, in all (those that gave up included)
}

// HashStats returns the password hasher's statistics. It is cheap: a few
// atomic loads, for a metrics scrape.
func (s *Service) HashStats() HashStats {
	h := s.hasher
	return HashStats{
		MaxConcurrent: cap(h.slots),
		InFlight:      len(h.slots),
		Waiting:       int(h.waiting.Load()),
		WaitCount:     h.waitCount.Load(),
		WaitDuration:  time.Duration(h.waitDuration.Load()),
	}
}

func newHasher(p Argon2Params, concurrency, nice int) (*hasher, error) {
	if p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1 {
		return nil, fmt.Errorf("keel: argon2 parameters m=%d t=%d p=%d are out of range", p.Memory, p.Time, p.Threads)
	}
	h := &hasher{params: p, slots: make(chan struct{}, concurrency), nice: nice}
	var secret [32]byte
	rand.Read(secret[:])
	dummy, err := h.hashNow(base64.RawStdEncoding.EncodeToString(secret[:]))
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	// Every slot is taken: wait, and count the wait (HashStats).
	start := time.Now()
	h.waiting.Add(1)
	defer func() {
		h.waiting.Add(-1)
		h.waitCount.Add(1)
		h.waitDuration.Add(int64(time.Since(start)))
	}()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return Wrap(ctx.Err(), Unavailable, "password hashing is busy")
	}
}

func (h *hasher) release() { <-h.slots }

// compute runs f, one hash of ~20 ms of CPU, on a thread at h.nice (see
// package priority), so that under a flood of logins other requests go
// first.
func (h *hasher) compute(f func()) { priority.Run(h.nice, f) }

// Hash makes a PHC string for the password with the current parameters.
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNow(password)
}

func (h *hasher) hashNow(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", Wrap(err, Internal, "")
	}
	p := h.params
	var key []byte
	h.compute(func() { key = argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32) })
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify checks the password against a stored hash (argon2id PHC or
// bcrypt; "" for an account without a password, which nothing matches). needsRehash is true when the hash is not argon2id with the
// current parameters, so the caller can upgrade it after a good login.
func (h *hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if encoded == "" {
		// An account without a password (made through a provider) matches
		// none, after the time a wrong password takes.
		_, _, err := h.Verify(ctx, password, h.dummy)
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := decodeArgon2id(encoded)
		if err != nil {
			return false, false, err
		}
		var got []byte
		h.compute(func() { got = argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key))) })
		ok := subtle.ConstantTimeCompare(got, key) == 1
		return ok, p != h.params, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		var err error
		h.compute(func() { err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) })
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, Wrap(err, Internal, "")
		}
	default:
		return false, false, Errorf(Internal, "unknown password hash format")
	}
}

// decodeArgon2id parses and validates a PHC string; argon2 panics on zero
// parameters, so values read back from storage are checked before use.
func decodeArgon2id(s string) (Argon2Params, []byte, []byte, error) {
	bad := func(why string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, Errorf(Internal, "malformed argon2id hash: %s", why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return bad("shape")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return bad("version")
	}
	var p Argon2Params
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return bad("parameters")
	}
	// Bounds: 4 GiB of memory or 1000 passes would be a denial of service,
	// and zero values panic inside argon2.
	if threads < 1 || threads > 255 || p.Time < 1 || p.Time > 1000 || p.Memory < 8*threads || p.Memory > 4<<20 {
		return bad("parameters out of range")
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("salt")
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return bad("key")
	}
	return p, salt, key, nil
}
