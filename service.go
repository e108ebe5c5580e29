package keel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/google/uuid"
)

// Service is keel's API: users, items and authentication over a Store.
// It is safe for concurrent use. Make one with New and share it.
type Service struct {
	store     Store
	cfg       Config
	validator *validator.Validate
	hasher    *hasher
	sessions  *sessionManager
	log       *slog.Logger
	totpBox   *secretBox // seals TOTP secrets; not ready without a key

	mailing sync.WaitGroup // emails being sent in the background
	after   *afterHooks    // delivers committed events to Config.Hooks.After
	audit   *auditor       // records events in the audit log

	deviceKeyMu sync.Mutex
	deviceKey   []byte // Config.DeviceKey, or the store's once loaded (see devices.go)
}

// New returns a Service over the store. cfg's zero fields take their
// defaults (see Config).
func New(store Store, cfg Config) (*Service, error) {
	if store == nil {
		return nil, errors.New("keel: New needs a Store")
	}
	cfg = cfg.withDefaults()
	names := map[string]bool{}
	for _, p := range cfg.IdentityProviders {
		if p == nil || p.Name() == "" || names[p.Name()] {
			return nil, errors.New("keel: every identity provider needs a name of its own")
		}
		names[p.Name()] = true
	}
	if cfg.DeviceKey != nil && len(cfg.DeviceKey) < DeviceKeyLength {
		return nil, fmt.Errorf("keel: Config.DeviceKey has %d bytes, want at least %d", len(cfg.DeviceKey), DeviceKeyLength)
	}
	h, err := newHasher(cfg.Argon2, cfg.MaxConcurrentHashes, cfg.HashNice)
	if err != nil {
		return nil, err
	}
	if cfg.EmailVerification < VerificationOff || cfg.EmailVerification > VerificationRequired {
		return nil, fmt.Errorf("keel: Config.EmailVerification %v is not a mode", cfg.EmailVerification)
	}
	if cfg.EmailVerification != VerificationOff {
		if _, ok := cfg.Mailer.(VerificationMailer); !ok {
			return nil, errors.New("keel: Config.EmailVerification needs a Mailer that is a VerificationMailer too")
		}
	}
	box, err := newSecretBox(cfg.TOTP.Keys)
	if err != nil {
		return nil, err
	}
	s := &Service{store: store, cfg: cfg, hasher: h, log: cfg.Logger, totpBox: box, deviceKey: bytes.Clone(cfg.DeviceKey)}
	s.validator = newValidator()
	s.sessions = newSessionManager(s)
	s.after = newAfterHooks(cfg.Hooks.After, cfg.Hooks.Queue, cfg.Logger)
	s.audit = newAuditor(cfg.Logger)
	return s, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Ready reports whether the store answers: nil, or an Unavailable error.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return classify(err, Unavailable)
	}
	return nil
}

// Close stops delivering events to the after hooks and waits until the
// events already committed have reached them and the emails being sent in
// the background are done, or ctx ends. It does not close the Store,
// which the caller owns. Call it once, when the Service's work is done:
// events of operations that commit after it are logged and dropped.
func (s *Service) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.mailing.Wait(); close(done) }()
	hooksErr := s.after.close(ctx)
	select {
	case <-done:
		return hooksErr
	case <-ctx.Done():
		return errors.Join(hooksErr, ctx.Err())
	}
}

// PurgeExpired deletes expired sessions, reset tokens, provider sign-ins
// and passkey ceremonies never finished, and rate-limit counters from the
// store, and the audit events older than Config.AuditRetention, and
// returns how many rows went.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	now := s.now()
	n, err := s.store.DeleteExpired(ctx, now)
	if err != nil {
		return n, err
	}
	if s.cfg.AuditRetention > 0 {
		m, err := s.store.DeleteAuditEventsBefore(ctx, now.Add(-s.cfg.AuditRetention))
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// RunPurger calls PurgeExpired every interval until ctx ends. Run it in
// its own goroutine; cancel ctx to stop it. Failures are logged and retried
// at the next tick.
func (s *Service) RunPurger(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Hour
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.PurgeExpired(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "keel: purging expired rows failed", "err", err)
			} else if n > 0 {
				s.log.DebugContext(ctx, "keel: purged expired rows", "rows", n)
			}
		}
	}
}

// now is the clock, in UTC and at the microsecond precision every store keeps.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// classify keeps an *Error as it is and gives any other error (a context
// error, a bare driver error) a code: its own where ErrorCode finds one,
// def otherwise.
func classify(err error, def Code) error {
	if v, ok := vetoed(err); ok {
		return v
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if c := ErrorCode(err); c != Internal {
		def = c
	}
	return &Error{Code: def, Err: err}
}
