package keel

import (
	"log/slog"
	"runtime"
	"time"
)

// Config tunes a Service. The zero value of every field means its
// documented default, so Config{} is a working, safe configuration.
type Config struct {
	// SessionLifetime is the absolute lifetime of a session. Default 8 days.
	SessionLifetime time.Duration
	// IdleTimeout ends a session unused for this long. Default 0: none.
	// With an idle timeout every authenticated call writes the session's
	// new expiry to the store.
	IdleTimeout time.Duration
	// ResetTokenLifetime is how long a password-reset token works. Default 1 hour.
	ResetTokenLifetime time.Duration
	// MaxSessionsPerUser bounds one user's live sessions: a login beyond
	// it ends the user's least recently used session. Default 100.
	MaxSessionsPerUser int
	// MaxAPITokenLifetime is the longest a personal API token may be made
	// to work, rounded down to whole days. Default (and greatest) 365 days;
	// at least 1 day.
	MaxAPITokenLifetime time.Duration
	// DeviceKey signs the device tokens that exempt a client an account
	// has logged in from before from that account's lockout (see
	// RateLimits.LoginPerDevice): at least DeviceKeyLength random bytes,
	// the same in every process that shares the store. Default: a key
	// made on first use and kept in the store (SecretStore), which every
	// process on the store then shares.
	DeviceKey []byte

	// Argon2 are the parameters new password hashes are made with. Default
	// (and minimum accepted) m=19456 KiB, t=2, p=1, OWASP's recommendation.
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds how many password hashes run at once, and so
	// the memory hashing takes (Argon2.Memory × this). Default GOMAXPROCS.
	MaxConcurrentHashes int
	// HashNice is the nice value (1-19) of the OS threads that hash
	// passwords, on Linux: under a flood of logins other requests get the
	// CPU first, while without other work hashing gets all of it. Run with
	// GOMAXPROCS above MaxConcurrentHashes (cmd/keel does) so that other
	// requests find a free P while the hashes run. Default 10; -1 hashes at
	// the process's priority. No effect outside Linux.
	HashNice int

	// DefaultPageLimit is the page size when a list call gives none. Default 100.
	DefaultPageLimit int
	// MaxPageLimit is the largest page a list call may ask for. Default 100.
	MaxPageLimit int

	// RateLimits bound failed logins and recovery requests. On by default.
	RateLimits RateLimits

	// EmailVerification is whether users prove that they read their
	// address's mail: VerificationOff (the default, the FastAPI
	// template's behaviour), VerificationOptional or VerificationRequired.
	// Other than off, Mailer must implement VerificationMailer too.
	EmailVerification VerificationMode
	// VerificationTokenLifetime is how long a verification or email-change
	// link works. Default 48 hours.
	VerificationTokenLifetime time.Duration
	// TOTP configures two-factor authentication. Users can enrol once a
	// key is set (TOTP.Keys).
	TOTP TOTPConfig
	// AuditRetention is how long the audit log keeps an event:
	// PurgeExpired deletes older ones. Default 90 days; negative keeps
	// every event.
	AuditRetention time.Duration

	// Hooks react to account events: before hooks inside the operation's
	// transaction (they may veto it), after hooks once it has committed.
	// See Hooks for their guarantees.
	Hooks Hooks

	// Mailer delivers password-reset and test emails, and, when it is a
	// VerificationMailer too, verification and email-change emails.
	// Without one, RequestPasswordReset and SendTestEmail report
	// Unavailable.
	Mailer Mailer
	// IdentityProviders are the OpenID Connect providers users may sign in
	// with (see oidc.New), each under its own Name. Default none.
	IdentityProviders []IdentityProvider
	// Passkeys runs the WebAuthn ceremonies of passkeys (see passkey.New).
	// Default nil: passkeys are off, and their calls answer
	// ErrPasskeysDisabled.
	Passkeys PasskeyVerifier

	// Logger receives keel's own log lines (never a password, token or
	// hash). Default: discard.
	Logger *slog.Logger
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
}

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// RateLimits configures the fixed-window limits keel applies. The counters
// live in the Store, so replicas that share a store share the limits.
type RateLimits struct {
	// Disabled turns every limit off (for tests and benchmarks).
	Disabled bool
	// LoginPerAccount limits failed logins for one email from untrusted
	// clients: those without a device token of the account (see
	// Config.DeviceKey). Past it, untrusted clients are locked out of the
	// account until the window ends, or a superuser or an operator unlocks
	// it (Service.Unlock, Service.UnlockEmail). It also bounds wrong
	// current passwords given to ChangePassword with one session. Default
	// 10 per 15 minutes.
	LoginPerAccount Limit
	// LoginPerDevice limits failed logins to one account from one trusted
	// client, a client with a device token of the account: it counts
	// instead of LoginPerAccount, so strangers who lock the account out
	// never lock out its owner's devices. Default 10 per 15 minutes.
	LoginPerDevice Limit
	// LoginPerAddress limits failed logins from one client address.
	// Default 100 per 15 minutes.
	LoginPerAddress Limit
	// RecoveryPerAddress limits recovery requests from one client address.
	// Default 10 per hour.
	RecoveryPerAddress Limit
	// RecoveryPerAccount limits recovery requests for one email from one
	// client address. Keyed on the pair so that someone flooding an account
	// from elsewhere never locks its owner out of recovery. Default 3 per hour.
	RecoveryPerAccount Limit
	// VerificationPerAddress limits requests for verification emails
	// from one client address. Default 10 per hour.
	VerificationPerAddress Limit
	// VerificationPerAccount limits verification emails for one email
	// from one client address, and email-change requests of one account.
	// Default 3 per hour.
	VerificationPerAccount Limit
	// SecondFactorPerAccount limits the codes tried for one account's
	// second factor. Default 5 per 15 minutes.
	SecondFactorPerAccount Limit
}

// Limit allows Max events per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Defaults.
const (
	DefaultSessionLifetime     = 8 * 24 * time.Hour
	DefaultResetTokenLifetime  = time.Hour
	DefaultPageLimit           = 100
	DefaultMaxSessionsPerUser  = 100
	DefaultMaxAPITokenLifetime = 365 * 24 * time.Hour
	DefaultAuditRetention      = 90 * 24 * time.Hour

	DefaultVerificationTokenLifetime = 48 * time.Hour
)

// defaultArgon2 are OWASP's recommended argon2id parameters.
func defaultArgon2() Argon2Params { return Argon2Params{Memory: 19456, Time: 2, Threads: 1} }

func (c Config) withDefaults() Config {
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = DefaultSessionLifetime
	}
	if c.IdleTimeout < 0 {
		c.IdleTimeout = 0
	}
	if c.ResetTokenLifetime <= 0 {
		c.ResetTokenLifetime = DefaultResetTokenLifetime
	}
	if c.MaxSessionsPerUser <= 0 {
		c.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	switch {
	case c.MaxAPITokenLifetime <= 0, c.MaxAPITokenLifetime > DefaultMaxAPITokenLifetime:
		c.MaxAPITokenLifetime = DefaultMaxAPITokenLifetime
	case c.MaxAPITokenLifetime < 24*time.Hour:
		c.MaxAPITokenLifetime = 24 * time.Hour
	}
	def := defaultArgon2()
	if c.Argon2.Memory == 0 {
		c.Argon2.Memory = def.Memory
	}
	if c.Argon2.Time == 0 {
		c.Argon2.Time = def.Time
	}
	if c.Argon2.Threads == 0 {
		c.Argon2.Threads = def.Threads
	}
	switch {
	case c.HashNice == 0:
		c.HashNice = 10
	case c.HashNice > 19:
		c.HashNice = 19
	}
	if c.MaxConcurrentHashes <= 0 {
		c.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = DefaultAuditRetention
	}
	if c.DefaultPageLimit <= 0 {
		c.DefaultPageLimit = DefaultPageLimit
	}
	if c.MaxPageLimit <= 0 {
		c.MaxPageLimit = DefaultPageLimit
	}
	if c.DefaultPageLimit > c.MaxPageLimit {
		c.DefaultPageLimit = c.MaxPageLimit
	}
	rl := &c.RateLimits
	rl.LoginPerAccount = rl.LoginPerAccount.or(10, 15*time.Minute)
	rl.LoginPerDevice = rl.LoginPerDevice.or(10, 15*time.Minute)
	rl.LoginPerAddress = rl.LoginPerAddress.or(100, 15*time.Minute)
	rl.RecoveryPerAddress = rl.RecoveryPerAddress.or(10, time.Hour)
	rl.RecoveryPerAccount = rl.RecoveryPerAccount.or(3, time.Hour)
	rl.VerificationPerAddress = rl.VerificationPerAddress.or(10, time.Hour)
	rl.VerificationPerAccount = rl.VerificationPerAccount.or(3, time.Hour)
	rl.SecondFactorPerAccount = rl.SecondFactorPerAccount.or(5, 15*time.Minute)
	if c.VerificationTokenLifetime <= 0 {
		c.VerificationTokenLifetime = DefaultVerificationTokenLifetime
	}
	if c.TOTP.Issuer == "" {
		c.TOTP.Issuer = "keel"
	}
	if c.TOTP.ChallengeLifetime <= 0 {
		c.TOTP.ChallengeLifetime = DefaultChallengeLifetime
	}
	if c.Hooks.Queue <= 0 {
		c.Hooks.Queue = DefaultEventQueue
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (l Limit) or(max int, window time.Duration) Limit {
	if l.Max <= 0 {
		l.Max = max
	}
	if l.Window <= 0 {
		l.Window = window
	}
	return l
}
