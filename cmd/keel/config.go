package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/smtpmail"
	"github.com/keel-dev/keel/tracing"
)

// config is the binary's configuration, read from environment variables
// (and a .env file) named as in the FastAPI full-stack template, plus
// keel's own KEEL_* variables. Every variable is described once, in
// settings; see loadConfig.
type config struct {
	DatabaseURL     string
	SecretKey       string
	SessionLifetime time.Duration
	FrontendHost    string
	CORSOrigins     []string // BACKEND_CORS_ORIGINS only; see AllCORSOrigins
	Environment     string
	ProjectName     string

	SMTPHost           string
	SMTPPort           int
	SMTPTLS            bool
	SMTPSSL            bool
	SMTPUser           string
	SMTPPassword       string
	EmailsFromEmail    string
	EmailsFromName     string
	ResetTokenLifetime time.Duration
	EmailTemplatesDir  string // "" for smtpmail's built-in templates

	EmailVerification         keel.VerificationMode
	VerificationTokenLifetime time.Duration
	TOTPKeys                  [][]byte

	FirstSuperuser         string
	FirstSuperuserPassword string

	Addr                string
	TrustedProxies      []netip.Prefix
	RateLimits          bool
	LoginAccount        keel.Limit
	LoginDevice         keel.Limit
	LoginAddress        keel.Limit
	RecoveryAddress     keel.Limit
	RecoveryAccount     keel.Limit
	VerificationAddress keel.Limit
	VerificationAccount keel.Limit
	SecondFactor        keel.Limit
	AuditRetention      time.Duration
	LogLevel            slog.Level
	LogFormat           string
	Migrate             bool
	MaxBodyBytes        int64
	ShutdownTimeout     time.Duration
	// CompletionTimeout bounds a write request that runs on after its
	// client went away (httpapi.Config.CompletionTimeout).
	CompletionTimeout time.Duration
	PprofAddr         string // "" when off
	MetricsAddr       string // "" when off
	// The OpenTelemetry SDK's variables keel reads itself (the SDK reads
	// the rest): tracing is on when an endpoint is set.
	OTLPEndpoint       string // OTEL_EXPORTER_OTLP_ENDPOINT, the collector's base URL
	OTLPTracesEndpoint string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the full URL of its traces
	OTelServiceName    string // "" means PROJECT_NAME
	FrontendDir        string // absolute; "" when off
	MaxHashes          int    // 0: the cores (see procs)
	Procs              int    // GOMAXPROCS; 0: the cores + 1 (see procs)
	HashNice           int    // keel.Config.HashNice: -1 off

	MaxSessionsPerUser int
	APITokenMaxDays    int
	DeviceKey          string // "": kept in the database

	OIDCProviders    []oidcProvider // KEEL_OIDC_PROVIDERS, each with its KEEL_OIDC_<NAME>_* variables
	OIDCRedirectBase string         // "" when there are no providers
	LoginRedirectURL string
	WebAuthnRPID     string // "" when passkeys are off
	WebAuthnRPName   string
	WebAuthnOrigins  []string
}

// oidcProvider is one OpenID Connect provider of KEEL_OIDC_PROVIDERS.
type oidcProvider struct {
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
}

// CallbackURL is the provider's redirect URL, which the provider must
// have registered.
func (c config) CallbackURL(provider string) string {
	return c.OIDCRedirectBase + "/login/oidc/" + provider + "/callback"
}

// placeholder is the FastAPI template's placeholder secret; outside
// development keel refuses to start with it.
const placeholder = "changethis"

// Development reports whether ENVIRONMENT names a development deployment
// (local or development): then the private user route is on, session
// cookies lack Secure, and reset links are logged when there is no SMTP
// server. Anything else is production.
func (c config) Development() bool {
	switch strings.ToLower(c.Environment) {
	case "local", "development", "dev":
		return true
	}
	return false
}

// EmailsEnabled reports whether mail goes out over SMTP.
func (c config) EmailsEnabled() bool { return c.SMTPHost != "" }

// TracesURL is where spans go, as OpenTelemetry's variables say:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended; "" when tracing is
// off.
func (c config) TracesURL() string {
	switch {
	case c.OTLPTracesEndpoint != "":
		return c.OTLPTracesEndpoint
	case c.OTLPEndpoint != "":
		return strings.TrimRight(c.OTLPEndpoint, "/") + "/v1/traces"
	}
	return ""
}

// AllCORSOrigins are BACKEND_CORS_ORIGINS and FRONTEND_HOST, as in the
// template.
func (c config) AllCORSOrigins() []string {
	out := append([]string(nil), c.CORSOrigins...)
	for _, o := range out {
		if o == c.FrontendHost {
			return out
		}
	}
	return append(out, c.FrontendHost)
}

// setting is one environment variable: its name, the value used when it
// is unset or empty, what it means, and how it sets the config.
type setting struct {
	Name    string
	Default string // fed to parse when the variable is unset or empty
	// DefaultDoc replaces Default in the documentation, for defaults that
	// derive from other variables.
	DefaultDoc string
	Help       string
	Secret     bool // never printed
	parse      func(c *config, v string) error
	// provider, instead of parse, sets one provider of KEEL_OIDC_PROVIDERS:
	// the setting is read once per provider, with <NAME> in its name
	// replaced by the provider's name in upper case (- as _).
	provider func(p *oidcProvider, v string) error
}

// providerPlaceholder stands for a provider's name in the names of the
// per-provider settings.
const providerPlaceholder = "<NAME>"

// providerVariable is the name of a per-provider setting for one provider.
func providerVariable(name, provider string) string {
	return strings.ReplaceAll(name, providerPlaceholder, strings.ToUpper(strings.ReplaceAll(provider, "-", "_")))
}

// settings is the one description of every variable: loadConfig reads
// them, `keel serve -help` and `keel env` print them, and `keel env
// -markdown` writes the README's table.
func settings() []setting {
	return []setting{
		{Name: "DATABASE_URL", Default: "sqlite://./keel.db",
			Help: "Where data lives: postgres://user:pass@host:5432/db?sslmode=..., sqlite://./relative.db, sqlite:///absolute/path.db, or memory: (in-process, lost at exit).",
			parse: func(c *config, v string) (err error) {
				c.DatabaseURL, err = parseDatabaseURL(v)
				return err
			}},
		{Name: "SECRET_KEY", Default: "",
			Help:   "Accepted for compatibility with the template's .env: keel's sessions are server-side and sign nothing with it. Outside development it may not be \"changethis\".",
			Secret: true,
			parse:  func(c *config, v string) error { c.SecretKey = v; return nil }},
		{Name: "ACCESS_TOKEN_EXPIRE_MINUTES", Default: "11520",
			Help: "Absolute lifetime of a session (login token) in minutes; 11520 is 8 days.",
			parse: func(c *config, v string) (err error) {
				c.SessionLifetime, err = positiveDuration(v, time.Minute, "minutes")
				return err
			}},
		{Name: "FRONTEND_HOST", Default: "http://localhost:5173",
			Help: "URL of the frontend: password-reset links point to {FRONTEND_HOST}/reset-password?token=..., and it is an allowed CORS origin.",
			parse: func(c *config, v string) (err error) {
				c.FrontendHost, err = parseOrigin(v, true)
				return err
			}},
		{Name: "BACKEND_CORS_ORIGINS", Default: "",
			Help: "More browser origins allowed to call the API, as a comma-separated list or a JSON list (http://localhost,https://example.com).",
			parse: func(c *config, v string) (err error) {
				c.CORSOrigins, err = parseCORSOrigins(v)
				return err
			}},
		{Name: "ENVIRONMENT", Default: "production",
			Help: "local or development: development mode (POST /api/v1/private/users/ on, cookies without Secure, reset links logged when there is no SMTP). staging, production or anything else: production. The default is production (the template's is local) so that no configuration is safe.",
			parse: func(c *config, v string) error {
				c.Environment = strings.ToLower(strings.TrimSpace(v))
				return nil
			}},
		{Name: "PROJECT_NAME", Default: "keel",
			Help:  "Name of the service, in emails and the API documentation.",
			parse: func(c *config, v string) error { c.ProjectName = strings.TrimSpace(v); return nil }},
		{Name: "SMTP_HOST", Default: "",
			Help:  "SMTP server for emails. Unset: no mail is sent; emails are logged (reset links only in development).",
			parse: func(c *config, v string) error { c.SMTPHost = strings.TrimSpace(v); return nil }},
		{Name: "SMTP_PORT", Default: "587",
			Help: "SMTP server port.",
			parse: func(c *config, v string) (err error) {
				c.SMTPPort, err = parsePort(v)
				return err
			}},
		{Name: "SMTP_TLS", Default: "true",
			Help: "Require STARTTLS: the connection is encrypted before anything is sent, or nothing is sent.",
			parse: func(c *config, v string) (err error) {
				c.SMTPTLS, err = parseBool(v)
				return err
			}},
		{Name: "SMTP_SSL", Default: "false",
			Help: "Speak TLS from the first byte (implicit TLS, usually port 465). Takes precedence over SMTP_TLS.",
			parse: func(c *config, v string) (err error) {
				c.SMTPSSL, err = parseBool(v)
				return err
			}},
		{Name: "SMTP_USER", Default: "",
			Help:  "SMTP user name; set it to authenticate (over TLS only).",
			parse: func(c *config, v string) error { c.SMTPUser = v; return nil }},
		{Name: "SMTP_PASSWORD", Default: "", Secret: true,
			Help:  "SMTP password.",
			parse: func(c *config, v string) error { c.SMTPPassword = v; return nil }},
		{Name: "EMAILS_FROM_EMAIL", Default: "",
			Help: "Sender address of emails; required with SMTP_HOST.",
			parse: func(c *config, v string) (err error) {
				c.EmailsFromEmail, err = parseEmail(v)
				return err
			}},
		{Name: "EMAILS_FROM_NAME", Default: "", DefaultDoc: "PROJECT_NAME",
			Help:  "Sender name of emails.",
			parse: func(c *config, v string) error { c.EmailsFromName = strings.TrimSpace(v); return nil }},
		{Name: "EMAIL_RESET_TOKEN_EXPIRE_HOURS", Default: "1",
			Help: "Hours a password-reset link works (the template's default is 48; keel's is 1, as OWASP advises).",
			parse: func(c *config, v string) (err error) {
				c.ResetTokenLifetime, err = positiveDuration(v, time.Hour, "hours")
				return err
			}},
		{Name: "KEEL_EMAIL_VERIFICATION", Default: "off",
			Help: "off (the template's behaviour), optional (sign-up mails a verification link; users show is_verified; an email change waits for the new address to confirm it) or required (as optional, and an unverified address cannot log in). required needs SMTP_HOST outside development.",
			parse: func(c *config, v string) (err error) {
				c.EmailVerification, err = keel.ParseVerificationMode(strings.ToLower(strings.TrimSpace(v)))
				if err != nil {
					return fmt.Errorf("%q is not off, optional or required", v)
				}
				return nil
			}},
		{Name: "KEEL_VERIFICATION_TOKEN_EXPIRE_HOURS", Default: "48",
			Help: "Hours a verification or email-change link works.",
			parse: func(c *config, v string) (err error) {
				c.VerificationTokenLifetime, err = positiveDuration(v, time.Hour, "hours")
				return err
			}},
		{Name: "KEEL_TOTP_KEYS", Default: "", Secret: true,
			Help: "Turns two-factor authentication (TOTP) on: comma-separated keys of 32 bytes in base64 (openssl rand -base64 32) that encrypt TOTP secrets in the database. The first encrypts; all decrypt, so a new key goes first and an old one stays while users enrolled under it remain. Keep it out of the database and its backups. Unset: users cannot enrol.",
			parse: func(c *config, v string) (err error) {
				c.TOTPKeys, err = parseKeys(v)
				return err
			}},
		{Name: "KEEL_EMAIL_TEMPLATES_DIR", Default: "",
			Help: "A directory of email templates laid over the built-in ones (see \"Email templates\"): reset_password, test_email, verify_email, email_change and email_change_notice (each .txt and .html), and subjects.txt; a file replaces the built-in template of its name, and every template must parse at start. Unset: the built-in templates.",
			parse: func(c *config, v string) error {
				c.EmailTemplatesDir = strings.TrimSpace(v)
				if c.EmailTemplatesDir == "" {
					return nil
				}
				_, err := parseEmailTemplates(c.EmailTemplatesDir)
				return err
			}},
		{Name: "FIRST_SUPERUSER", Default: "",
			Help: "Email of a superuser created at start when no user has it (never changed afterwards). Unset: none is created.",
			parse: func(c *config, v string) (err error) {
				c.FirstSuperuser, err = parseEmail(v)
				return err
			}},
		{Name: "FIRST_SUPERUSER_PASSWORD", Default: "", Secret: true,
			Help: fmt.Sprintf("Password of FIRST_SUPERUSER; required with it. Must pass keel's password rules (%d to %d characters, not common or otherwise easy to guess). \"changethis\" (the template's .env) is refused outside development; in development it is accepted with a warning, as the template does.",
				keel.MinPasswordLength, keel.MaxPasswordLength),
			parse: func(c *config, v string) error { c.FirstSuperuserPassword = v; return nil }},

		{Name: "KEEL_ADDR", Default: ":8000",
			Help: "Address the HTTP server listens on (host:port; :8000 is every interface). keel serve -addr overrides it.",
			parse: func(c *config, v string) (err error) {
				c.Addr, err = parseAddr(v)
				return err
			}},
		{Name: "KEEL_FRONTEND_DIR", Default: "",
			Help: "Serve the built single-page app in this directory (it must hold index.html, e.g. the template's frontend/dist) at /, beside the API: files under /assets/ are cached for a year, other paths that name no file get index.html. Unset: / serves nothing.",
			parse: func(c *config, v string) (err error) {
				if v = strings.TrimSpace(v); v == "" {
					return nil
				}
				c.FrontendDir, err = filepath.Abs(v)
				return err
			}},
		{Name: "KEEL_TRUSTED_PROXIES", Default: "",
			Help: "Comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For is believed. Unset: the client address is the connection's.",
			parse: func(c *config, v string) (err error) {
				c.TrustedProxies, err = parsePrefixes(v)
				return err
			}},
		{Name: "KEEL_RATE_LIMITS", Default: "on",
			Help: "Rate limits on failed logins and password recovery: on or off.",
			parse: func(c *config, v string) (err error) {
				c.RateLimits, err = parseBool(v)
				return err
			}},
		{Name: "KEEL_RATE_LIMIT_LOGIN_ACCOUNT", Default: "10/15m",
			Help:  "Failed logins allowed per account from clients that have not logged in to it before (no device cookie of it), as count/window. Past it such clients are locked out of the account until the window ends or keel unlock; its owner's browsers are not.",
			parse: func(c *config, v string) (err error) { c.LoginAccount, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_LOGIN_DEVICE", Default: "10/15m",
			Help:  "Failed logins allowed per account from one client that has logged in to it before (it presents the account's device cookie), as count/window; such a client is held to this instead of KEEL_RATE_LIMIT_LOGIN_ACCOUNT.",
			parse: func(c *config, v string) (err error) { c.LoginDevice, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_LOGIN_ADDRESS", Default: "100/15m",
			Help:  "Failed logins allowed per client address, as count/window.",
			parse: func(c *config, v string) (err error) { c.LoginAddress, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_RECOVERY_ADDRESS", Default: "10/1h",
			Help:  "Password-recovery requests allowed per client address, as count/window.",
			parse: func(c *config, v string) (err error) { c.RecoveryAddress, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_RECOVERY_ACCOUNT", Default: "3/1h",
			Help:  "Password-recovery requests allowed per account and client address, as count/window.",
			parse: func(c *config, v string) (err error) { c.RecoveryAccount, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_VERIFICATION_ADDRESS", Default: "10/1h",
			Help:  "Verification-link requests allowed per client address, as count/window.",
			parse: func(c *config, v string) (err error) { c.VerificationAddress, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_VERIFICATION_ACCOUNT", Default: "3/1h",
			Help:  "Verification-link requests allowed per account and client address, and email changes per account, as count/window.",
			parse: func(c *config, v string) (err error) { c.VerificationAccount, err = parseLimit(v); return err }},
		{Name: "KEEL_RATE_LIMIT_SECOND_FACTOR", Default: "5/15m",
			Help:  "Two-factor codes tried per account, as count/window.",
			parse: func(c *config, v string) (err error) { c.SecondFactor, err = parseLimit(v); return err }},
		{Name: "KEEL_MAX_SESSIONS_PER_USER", Default: strconv.Itoa(keel.DefaultMaxSessionsPerUser),
			Help: "Live sessions one user may have; a login past it ends the user's least recently used session.",
			parse: func(c *config, v string) (err error) {
				c.MaxSessionsPerUser, err = positiveInt(v)
				return err
			}},
		{Name: "KEEL_API_TOKEN_MAX_DAYS", Default: strconv.Itoa(int(keel.DefaultMaxAPITokenLifetime / (24 * time.Hour))),
			Help: fmt.Sprintf("The longest a personal API token may be made to work, in days (1 to %d).", int(keel.DefaultMaxAPITokenLifetime/(24*time.Hour))),
			parse: func(c *config, v string) error {
				n, err := positiveInt(v)
				if err == nil && time.Duration(n)*24*time.Hour > keel.DefaultMaxAPITokenLifetime {
					err = fmt.Errorf("%d is more than %d days", n, int(keel.DefaultMaxAPITokenLifetime/(24*time.Hour)))
				}
				c.APITokenMaxDays = n
				return err
			}},
		{Name: "KEEL_DEVICE_KEY", Default: "", Secret: true,
			Help: fmt.Sprintf("Key that signs the device cookies which spare a user's own browsers an account's lockout: at least %d characters (e.g. openssl rand -base64 32), the same in every process. Unset: a random key made on first start and kept in the database, which every process on it then shares.", keel.DeviceKeyLength),
			parse: func(c *config, v string) error {
				if v != "" && len(v) < keel.DeviceKeyLength {
					return fmt.Errorf("it has %d characters, want at least %d", len(v), keel.DeviceKeyLength)
				}
				c.DeviceKey = v
				return nil
			}},
		{Name: "KEEL_AUDIT_RETENTION_DAYS", Default: "90",
			Help: "Days the audit log keeps a security event (logins, password changes, account changes); older events are deleted by the hourly clean-up.",
			parse: func(c *config, v string) (err error) {
				c.AuditRetention, err = positiveDuration(v, 24*time.Hour, "days")
				return err
			}},
		{Name: "KEEL_LOG_LEVEL", Default: "info",
			Help: "Least level logged: debug, info, warn or error.",
			parse: func(c *config, v string) error {
				switch strings.ToLower(strings.TrimSpace(v)) {
				case "debug":
					c.LogLevel = slog.LevelDebug
				case "info":
					c.LogLevel = slog.LevelInfo
				case "warn", "warning":
					c.LogLevel = slog.LevelWarn
				case "error":
					c.LogLevel = slog.LevelError
				default:
					return fmt.Errorf("%q is not debug, info, warn or error", v)
				}
				return nil
			}},
		{Name: "KEEL_LOG_FORMAT", Default: "text",
			Help: "Log format: text or json.",
			parse: func(c *config, v string) error {
				c.LogFormat = strings.ToLower(strings.TrimSpace(v))
				if c.LogFormat != "text" && c.LogFormat != "json" {
					return fmt.Errorf("%q is not text or json", v)
				}
				return nil
			}},
		{Name: "KEEL_MIGRATE", Default: "true",
			Help: "Apply database migrations when serve starts.",
			parse: func(c *config, v string) (err error) {
				c.Migrate, err = parseBool(v)
				return err
			}},
		{Name: "KEEL_MAX_BODY_BYTES", Default: "1048576",
			Help: "Largest request body accepted, in bytes; larger ones answer 413.",
			parse: func(c *config, v string) error {
				n, err := positiveInt(v)
				c.MaxBodyBytes = int64(n)
				return err
			}},
		{Name: "KEEL_GOMAXPROCS", Default: "", DefaultDoc: "cores + 1",
			Help: "How many goroutines run Go code at once (Go's GOMAXPROCS). The default, one more than the cores Go finds (CPUs or the container's CPU limit), keeps a processor free for other requests while password hashes occupy the cores; a GOMAXPROCS variable in the environment is respected as is.",
			parse: func(c *config, v string) (err error) {
				if strings.TrimSpace(v) == "" {
					return nil
				}
				c.Procs, err = positiveInt(v)
				if err == nil && c.Procs > maxProcs {
					// Go would silently use its own maximum instead.
					return fmt.Errorf("%q is more than Go's maximum of %d", v, maxProcs)
				}
				return err
			}},
		{Name: "KEEL_MAX_CONCURRENT_HASHES", Default: "", DefaultDoc: "cores",
			Help: "How many password hashes (argon2id, 19 MiB each) run at once; the default is the cores Go finds (before KEEL_GOMAXPROCS). Fewer leaves more CPU for other requests while logins flood in, at the cost of logins per second.",
			parse: func(c *config, v string) (err error) {
				if strings.TrimSpace(v) == "" {
					return nil
				}
				c.MaxHashes, err = positiveInt(v)
				return err
			}},
		{Name: "KEEL_HASH_NICE", Default: "10",
			Help: "Linux: the nice value (1-19) of the threads that hash passwords, so that under a flood of logins other requests get the CPU first; without other work hashing still gets all of it. 0: hash at keel's own priority.",
			parse: func(c *config, v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 0 || n > 19 {
					return fmt.Errorf("%q is not a nice value from 0 (off) to 19", v)
				}
				c.HashNice = n
				if n == 0 {
					c.HashNice = -1
				}
				return nil
			}},
		{Name: "KEEL_PPROF_ADDR", Default: "",
			Help: "Serve Go's net/http/pprof profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060, apart from the API. Unset: off. Only loopback hosts are accepted: profiles reveal internals.",
			parse: func(c *config, v string) (err error) {
				c.PprofAddr, err = parseLoopbackAddr(v)
				return err
			}},
		{Name: "KEEL_OIDC_PROVIDERS", Default: "",
			Help: "Comma-separated names of OpenID Connect providers users may sign in with (lower-case letters, digits, - and _; e.g. google,corp), each configured by the KEEL_OIDC_<NAME>_* variables. Unset: none.",
			parse: func(c *config, v string) (err error) {
				c.OIDCProviders, err = parseProviderNames(v)
				return err
			}},
		{Name: "KEEL_OIDC_<NAME>_ISSUER", Default: "",
			Help:     "The provider's issuer URL (e.g. https://accounts.google.com); its discovery document names its endpoints and keys. Required for each provider.",
			provider: func(p *oidcProvider, v string) (err error) { p.Issuer, err = parseIssuer(v); return err }},
		{Name: "KEEL_OIDC_<NAME>_CLIENT_ID", Default: "",
			Help:     "keel's client id at the provider. Required for each provider.",
			provider: func(p *oidcProvider, v string) error { p.ClientID = strings.TrimSpace(v); return nil }},
		{Name: "KEEL_OIDC_<NAME>_CLIENT_SECRET", Default: "", Secret: true,
			Help:     "keel's client secret at the provider. Required for each provider.",
			provider: func(p *oidcProvider, v string) error { p.ClientSecret = v; return nil }},
		{Name: "KEEL_OIDC_<NAME>_SCOPES", Default: "email profile",
			Help: "Scopes asked of the provider besides openid, separated by spaces or commas.",
			provider: func(p *oidcProvider, v string) error {
				p.Scopes = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
				return nil
			}},
		{Name: "KEEL_OIDC_REDIRECT_BASE_URL", Default: "",
			Help: "The API's public URL as browsers reach it, e.g. https://api.example.com/api/v1: each provider sends the browser back to {this}/login/oidc/{name}/callback, the redirect URL to register at the provider. Required with KEEL_OIDC_PROVIDERS.",
			parse: func(c *config, v string) (err error) {
				if strings.TrimSpace(v) == "" {
					return nil
				}
				c.OIDCRedirectBase, err = parseOrigin(v, true)
				return err
			}},
		{Name: "KEEL_OIDC_LOGIN_REDIRECT_URL", Default: "", DefaultDoc: "{FRONTEND_HOST}/login/oidc",
			Help: "The frontend page a provider sign-in ends at: keel sends the browser there, and only there, with code=<login code> (for POST /api/v1/login/oidc/token) or error=<word>&error_description=<message> in the URL's fragment.",
			parse: func(c *config, v string) (err error) {
				if strings.TrimSpace(v) == "" {
					return nil
				}
				c.LoginRedirectURL, err = parseOrigin(v, true)
				return err
			}},
		{Name: "KEEL_WEBAUTHN_RP_ID", Default: "",
			Help: "Passkeys: the relying-party id, the domain passkeys are bound to (e.g. example.com, valid for its subdomains too). Unset: passkeys are off.",
			parse: func(c *config, v string) error {
				v = strings.ToLower(strings.TrimSpace(v))
				if v != "" && (strings.ContainsAny(v, ":/ ") || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".")) {
					return fmt.Errorf("%q is not a domain such as example.com", v)
				}
				c.WebAuthnRPID = v
				return nil
			}},
		{Name: "KEEL_WEBAUTHN_ORIGINS", Default: "", DefaultDoc: "FRONTEND_HOST",
			Help: "Passkeys: the origins (comma-separated, scheme://host[:port]) whose pages may register passkeys and sign in with them; each must be the relying-party id or a subdomain of it.",
			parse: func(c *config, v string) (err error) {
				c.WebAuthnOrigins, err = parseCORSOrigins(v)
				return err
			}},
		{Name: "KEEL_WEBAUTHN_RP_NAME", Default: "", DefaultDoc: "PROJECT_NAME",
			Help:  "Passkeys: the name authenticators show for this service.",
			parse: func(c *config, v string) error { c.WebAuthnRPName = strings.TrimSpace(v); return nil }},
		{Name: "KEEL_COMPLETION_TIMEOUT", Default: "30s",
			Help: "How long a write request (POST, PUT, PATCH, DELETE) may run on after its client went away: an accepted sign-up, item or password change completes instead of being rolled back.",
			parse: func(c *config, v string) error {
				d, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil || d <= 0 {
					return fmt.Errorf("%q is not a positive duration such as 30s", v)
				}
				c.CompletionTimeout = d
				return nil
			}},
		{Name: "KEEL_METRICS_ADDR", Default: "",
			Help: "Serve Prometheus metrics at /metrics on this address (host:port, e.g. :9090), apart from the API so that they are never exposed with it: requests by route and status, logins by outcome, rate-limit refusals, sessions, password hashing, database pools, Go runtime. Unset: off.",
			parse: func(c *config, v string) (err error) {
				if v = strings.TrimSpace(v); v == "" {
					return nil
				}
				c.MetricsAddr, err = parseAddr(v)
				return err
			}},
		{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Default: "",
			Help: "Trace with OpenTelemetry: send spans over OTLP/HTTP to the collector at this base URL (http://collector:4318; keel posts to its /v1/traces). A span per request, named by its route and continuing the caller's traceparent, and one per database query inside it. The SDK's other OTEL_* variables (OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES, ...) apply, from the environment only. Unset: no tracing at all.",
			parse: func(c *config, v string) (err error) {
				c.OTLPEndpoint, err = parseOTLPEndpoint(v)
				return err
			}},
		{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Default: "",
			Help: "The full URL spans are posted to (http://collector:4318/v1/traces), instead of OTEL_EXPORTER_OTLP_ENDPOINT's; setting it turns tracing on too.",
			parse: func(c *config, v string) (err error) {
				c.OTLPTracesEndpoint, err = parseOTLPEndpoint(v)
				return err
			}},
		{Name: "OTEL_EXPORTER_OTLP_PROTOCOL", Default: "http/protobuf",
			Help: "keel sends spans over OTLP's http/protobuf only; another protocol (grpc) is refused rather than sent to a port that does not speak it.",
			parse: func(_ *config, v string) error {
				if p := strings.TrimSpace(v); p != "http/protobuf" {
					return fmt.Errorf("%q is not http/protobuf, the only OTLP protocol keel speaks", v)
				}
				return nil
			}},
		{Name: "OTEL_SERVICE_NAME", Default: "", DefaultDoc: "PROJECT_NAME",
			Help:  "The service's name in traces (service.name).",
			parse: func(c *config, v string) error { c.OTelServiceName = strings.TrimSpace(v); return nil }},
		{Name: "KEEL_SHUTDOWN_TIMEOUT", Default: "25s",
			Help: "How long serve waits for requests in flight after SIGINT or SIGTERM.",
			parse: func(c *config, v string) error {
				d, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil || d <= 0 {
					return fmt.Errorf("%q is not a positive duration such as 25s", v)
				}
				c.ShutdownTimeout = d
				return nil
			}},
	}
}

// lookupFunc finds a variable, like os.LookupEnv.
type lookupFunc func(name string) (string, bool)

// envLookup looks a variable up in the environment first and in the .env
// file's variables second; an empty value counts as unset, as in the
// template (env_ignore_empty), so the next source or the default applies.
func envLookup(environ lookupFunc, dotenv map[string]string) lookupFunc {
	return func(name string) (string, bool) {
		if v, ok := environ(name); ok && v != "" {
			return v, true
		}
		v, ok := dotenv[name]
		return v, ok && v != ""
	}
}

// loadConfig reads every setting through lookup, applies defaults, and
// checks the whole: each invalid value is an error naming its variable.
func loadConfig(lookup lookupFunc) (config, error) {
	var c config
	var errs []error
	for _, s := range settings() {
		if s.provider != nil {
			// KEEL_OIDC_PROVIDERS comes before the per-provider settings.
			for i := range c.OIDCProviders {
				name := providerVariable(s.Name, c.OIDCProviders[i].Name)
				v, ok := lookup(name)
				if !ok || v == "" {
					v = s.Default
				}
				if err := s.provider(&c.OIDCProviders[i], v); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", name, err))
				}
			}
			continue
		}
		v, ok := lookup(s.Name)
		if !ok || v == "" {
			v = s.Default
		}
		if err := s.parse(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if c.EmailsFromName == "" {
		c.EmailsFromName = c.ProjectName
	}
	if c.OTelServiceName == "" {
		c.OTelServiceName = c.ProjectName
	}
	if c.ProjectName == "" {
		errs = append(errs, errors.New("PROJECT_NAME: may not be blank"))
	}
	errs = append(errs, c.checkSignIn()...)
	if c.SMTPHost != "" && c.EmailsFromEmail == "" {
		errs = append(errs, errors.New("EMAILS_FROM_EMAIL: required when SMTP_HOST is set"))
	}
	if c.SMTPPassword != "" && c.SMTPUser == "" {
		errs = append(errs, errors.New("SMTP_USER: required when SMTP_PASSWORD is set"))
	}
	if c.EmailVerification == keel.VerificationRequired && !c.EmailsEnabled() && !c.Development() {
		errs = append(errs, errors.New("KEEL_EMAIL_VERIFICATION: required needs SMTP_HOST outside development: without mail nobody could verify, and so log in"))
	}
	if c.FirstSuperuser != "" && c.FirstSuperuserPassword == "" {
		errs = append(errs, errors.New("FIRST_SUPERUSER_PASSWORD: required when FIRST_SUPERUSER is set"))
	}
	if c.FirstSuperuser == "" && c.FirstSuperuserPassword != "" {
		errs = append(errs, errors.New("FIRST_SUPERUSER: required when FIRST_SUPERUSER_PASSWORD is set"))
	}
	if !c.Development() {
		if c.SecretKey == placeholder {
			errs = append(errs, fmt.Errorf("SECRET_KEY: is %q; set a secret of your own outside development (ENVIRONMENT=%s)", placeholder, c.Environment))
		}
		if c.FirstSuperuserPassword != "" {
			if c.FirstSuperuserPassword == placeholder {
				errs = append(errs, fmt.Errorf("FIRST_SUPERUSER_PASSWORD: is %q; set a password of your own outside development (ENVIRONMENT=%s)", placeholder, c.Environment))
			} else if err := passwordLength(c.FirstSuperuserPassword); err != nil {
				errs = append(errs, fmt.Errorf("FIRST_SUPERUSER_PASSWORD: %w", err))
			}
		}
	}
	return c, errors.Join(errs...)
}

// checkSignIn completes and checks the provider and passkey settings.
func (c *config) checkSignIn() []error {
	var errs []error
	for _, p := range c.OIDCProviders {
		for _, req := range []struct{ suffix, value string }{{"ISSUER", p.Issuer}, {"CLIENT_ID", p.ClientID}, {"CLIENT_SECRET", p.ClientSecret}} {
			if req.value == "" {
				errs = append(errs, fmt.Errorf("%s: required for the provider %s", providerVariable("KEEL_OIDC_<NAME>_"+req.suffix, p.Name), p.Name))
			}
		}
	}
	if len(c.OIDCProviders) > 0 && c.OIDCRedirectBase == "" {
		errs = append(errs, errors.New("KEEL_OIDC_REDIRECT_BASE_URL: required when KEEL_OIDC_PROVIDERS is set"))
	}
	if c.LoginRedirectURL == "" {
		c.LoginRedirectURL = c.FrontendHost + "/login/oidc"
	}
	if c.WebAuthnRPName == "" {
		c.WebAuthnRPName = c.ProjectName
	}
	if len(c.WebAuthnOrigins) == 0 {
		c.WebAuthnOrigins = []string{c.FrontendHost}
	}
	if c.WebAuthnRPID != "" {
		for _, o := range c.WebAuthnOrigins {
			u, err := url.Parse(o)
			if err != nil || o == "*" || (u.Hostname() != c.WebAuthnRPID && !strings.HasSuffix(u.Hostname(), "."+c.WebAuthnRPID)) {
				errs = append(errs, fmt.Errorf("KEEL_WEBAUTHN_ORIGINS: %q is not on %s or a subdomain of it (KEEL_WEBAUTHN_RP_ID)", o, c.WebAuthnRPID))
			}
		}
	}
	return errs
}

// parseIssuer checks an issuer URL, kept exactly as given (a trailing
// slash included): the provider's discovery document must name the same.
func parseIssuer(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an issuer URL such as https://accounts.google.com", v)
	}
	return v, nil
}

// parseProviderNames reads KEEL_OIDC_PROVIDERS: distinct names of
// lower-case letters, digits, - and _.
func parseProviderNames(v string) ([]oidcProvider, error) {
	var out []oidcProvider
	seen := map[string]bool{}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !providerNameRE.MatchString(name) {
			return nil, fmt.Errorf("%q is not a provider name: 1 to 32 lower-case letters, digits, - or _", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%q is named twice", name)
		}
		seen[name] = true
		out = append(out, oidcProvider{Name: name})
	}
	return out, nil
}

var providerNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// parseEmailTemplates lays the templates of dir over smtpmail's built-in
// ones.
func parseEmailTemplates(dir string) (*smtpmail.Templates, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return smtpmail.ParseTemplates(os.DirFS(dir))
}

// passwordLength applies keel's length rule (in code points); whether a
// password is common is keel's to say (see checkPassword).
func passwordLength(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < keel.MinPasswordLength || n > keel.MaxPasswordLength {
		return fmt.Errorf("must be %d to %d characters long, not %d", keel.MinPasswordLength, keel.MaxPasswordLength, n)
	}
	return nil
}

func parseDatabaseURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "memory:":
	case strings.HasPrefix(v, "sqlite:") && len(v) > len("sqlite:"):
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			// The URL may hold a password: never repeat it.
			return "", errors.New("is not a valid postgres:// URL")
		}
	default:
		return "", errors.New("must be memory: or a postgres://, postgresql:// or sqlite: URL")
	}
	return v, nil
}

// parseLoopbackAddr checks a host:port address whose host is 127.0.0.1,
// ::1 or localhost ("" stays off).
func parseLoopbackAddr(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		return "", fmt.Errorf("%q is not a host:port address", v)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q is not a loopback address (127.0.0.1, ::1 or localhost)", v)
	}
	return v, nil
}

// parseOTLPEndpoint checks a collector's URL ("" stays off).
func parseOTLPEndpoint(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if err := tracing.CheckEndpointURL(v); err != nil {
		return "", fmt.Errorf("%q is not an http(s)://host[:port] URL", v)
	}
	return v, nil
}

// parseOrigin checks an http(s) URL without query; an origin (withPath
// false) has no path either. The trailing slash is dropped.
func parseOrigin(v string, withPath bool) (string, error) {
	v = strings.TrimRight(strings.TrimSpace(v), "/")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || (!withPath && u.Path != "") {
		what := "an http(s) URL"
		if !withPath {
			what = "an origin (http(s)://host[:port])"
		}
		return "", fmt.Errorf("%q is not %s", v, what)
	}
	return v, nil
}

func parseCORSOrigins(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var items []string
	if strings.HasPrefix(v, "[") {
		if err := json.Unmarshal([]byte(v), &items); err != nil {
			return nil, fmt.Errorf("is not a JSON list of strings: %w", err)
		}
	} else {
		items = strings.Split(v, ",")
	}
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if it == "*" {
			out = append(out, it)
			continue
		}
		o, err := parseOrigin(it, false)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func parseEmail(v string) (string, error) {
	v = keel.NormalizeEmail(v)
	if v == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		return "", fmt.Errorf("%q is not an email address", v)
	}
	return v, nil
}

// parseAddr checks a host:port listening address.
func parseAddr(v string) (string, error) {
	v = strings.TrimSpace(v)
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return "", fmt.Errorf("%q is not a host:port address", v)
	}
	return v, nil
}

// maxProcs is the most GOMAXPROCS Go accepts (runtime._MaxGomaxprocs).
const maxProcs = 1024

// positiveInt reads a whole number above 0; one too large for an int is
// refused as such, never wrapped or replaced.
func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is too large", v)
	}
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive whole number", v)
	}
	return n, nil
}

// positiveDuration reads a positive whole number of units, refusing one
// whose duration would overflow (which keel would take as unset and
// replace by its default).
func positiveDuration(v string, unit time.Duration, units string) (time.Duration, error) {
	n, err := positiveInt(v)
	if err != nil {
		return 0, err
	}
	if limit := int64(math.MaxInt64 / unit); int64(n) > limit {
		return 0, fmt.Errorf("%q is too large: at most %d %s", v, limit, units)
	}
	return time.Duration(n) * unit, nil
}

func parsePort(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", v)
	}
	return n, nil
}

// parseBool accepts what pydantic does: true/false, 1/0, yes/no, on/off,
// t/f, y/n, in any case.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	case "false", "0", "no", "off", "f", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false (or on/off, yes/no, 1/0)", v)
}

// parseLimit reads count/window, as 10/15m.
func parseLimit(v string) (keel.Limit, error) {
	n, w, ok := strings.Cut(strings.TrimSpace(v), "/")
	max, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || max <= 0 {
		return keel.Limit{}, fmt.Errorf("%q is not count/window, such as 10/15m", v)
	}
	window, err := time.ParseDuration(strings.TrimSpace(w))
	if err != nil || window <= 0 {
		return keel.Limit{}, fmt.Errorf("%q is not count/window, such as 10/15m", v)
	}
	return keel.Limit{Max: max, Window: window}, nil
}

// parseKeys reads comma-separated base64 (standard or URL alphabet,
// padded or not) keys of 32 bytes each.
func parseKeys(v string) ([][]byte, error) {
	var out [][]byte
	for i, s := range strings.Split(v, ",") {
		s = strings.TrimRight(strings.TrimSpace(s), "=")
		if s == "" {
			continue
		}
		k, err := base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			k, err = base64.RawURLEncoding.DecodeString(s)
		}
		if err != nil || len(k) != 32 {
			// Never repeat a key, even a broken one.
			return nil, fmt.Errorf("key %d is not 32 bytes in base64 (make one with: openssl rand -base64 32)", i+1)
		}
		out = append(out, k)
	}
	return out, nil
}

func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR (10.0.0.0/8) or an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// writeSettings prints the variables as a table for a terminal.
func writeSettings(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, s := range settings() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.defaultDoc(), s.Help)
	}
	return tw.Flush()
}

// writeSettingsMarkdown prints the variables as a Markdown table, the
// README's.
func writeSettingsMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| Variable | Default | Meaning |\n|---|---|---|\n")
	for _, s := range settings() {
		def := s.defaultDoc()
		if def != "(unset)" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Name, def, strings.ReplaceAll(s.Help, "|", `\|`))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s setting) defaultDoc() string {
	switch {
	case s.DefaultDoc != "":
		return s.DefaultDoc
	case s.Default == "":
		return "(unset)"
	}
	return s.Default
}
