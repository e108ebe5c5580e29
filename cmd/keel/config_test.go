package main

import (
	"bytes"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

// env is a lookupFunc over a map.
func env(m map[string]string) lookupFunc {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestNoConfigurationStartsSafely(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"the database is a SQLite file in the working directory", c.DatabaseURL, "sqlite://./keel.db"},
		{"sessions last 8 days", c.SessionLifetime, 8 * 24 * time.Hour},
		{"reset links last 1 hour", c.ResetTokenLifetime, time.Hour},
		{"the frontend is the template's dev server", c.FrontendHost, "http://localhost:5173"},
		{"the mode is production", c.Development(), false},
		{"no superuser is configured", c.FirstSuperuser, ""},
		{"no superuser password is configured", c.FirstSuperuserPassword, ""},
		{"mail is not sent", c.EmailsEnabled(), false},
		{"SMTP would use port 587", c.SMTPPort, 587},
		{"SMTP would require STARTTLS", c.SMTPTLS, true},
		{"the sender name is the project's", c.EmailsFromName, "keel"},
		{"the server listens on :8000", c.Addr, ":8000"},
		{"no proxy is trusted", len(c.TrustedProxies), 0},
		{"rate limits are on", c.RateLimits, true},
		{"failed logins per account are limited to 10 in 15 minutes", c.LoginAccount, keel.Limit{Max: 10, Window: 15 * time.Minute}},
		{"failed logins per address are limited to 100 in 15 minutes", c.LoginAddress, keel.Limit{Max: 100, Window: 15 * time.Minute}},
		{"recovery per address is limited to 10 an hour", c.RecoveryAddress, keel.Limit{Max: 10, Window: time.Hour}},
		{"recovery per account is limited to 3 an hour", c.RecoveryAccount, keel.Limit{Max: 3, Window: time.Hour}},
		{"audit events are kept 90 days", c.AuditRetention, 90 * 24 * time.Hour},
		{"the log level is info", c.LogLevel, slog.LevelInfo},
		{"the log format is text", c.LogFormat, "text"},
		{"migrations run at start", c.Migrate, true},
		{"bodies are limited to 1 MiB", c.MaxBodyBytes, int64(1 << 20)},
		{"the only CORS origin is the frontend", c.AllCORSOrigins(), []string{"http://localhost:5173"}},
		{"metrics are off", c.MetricsAddr, ""},
		{"tracing is off", c.TracesURL(), ""},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if !reflect.DeepEqual(ch.got, ch.want) {
				t.Errorf("got %v, want %v", ch.got, ch.want)
			}
		})
	}
}

func TestConfigReadsEveryVariable(t *testing.T) {
	templates := t.TempDir()
	c, err := loadConfig(env(map[string]string{
		"DATABASE_URL":                     "postgres://keel:pw@127.0.0.1:5432/keel?sslmode=disable",
		"SECRET_KEY":                       "s3cr3t",
		"ACCESS_TOKEN_EXPIRE_MINUTES":      "60",
		"FRONTEND_HOST":                    "https://dashboard.example.com/",
		"BACKEND_CORS_ORIGINS":             "https://a.example.com, https://b.example.com/",
		"ENVIRONMENT":                      "Staging",
		"PROJECT_NAME":                     "Acme",
		"SMTP_HOST":                        "smtp.example.com",
		"SMTP_PORT":                        "465",
		"SMTP_TLS":                         "False",
		"SMTP_SSL":                         "yes",
		"SMTP_USER":                        "mailer",
		"SMTP_PASSWORD":                    "mailpw",
		"EMAILS_FROM_EMAIL":                "NoReply@Example.com",
		"EMAIL_RESET_TOKEN_EXPIRE_HOURS":   "48",
		"FIRST_SUPERUSER":                  "Admin@Example.com",
		"FIRST_SUPERUSER_PASSWORD":         "a long enough pass",
		"KEEL_ADDR":                        "127.0.0.1:9000",
		"KEEL_TRUSTED_PROXIES":             "10.0.0.0/8, 192.168.1.7, ::1",
		"KEEL_RATE_LIMITS":                 "off",
		"KEEL_RATE_LIMIT_LOGIN_ACCOUNT":    "5/1m",
		"KEEL_RATE_LIMIT_LOGIN_DEVICE":     "7/2m",
		"KEEL_RATE_LIMIT_LOGIN_ADDRESS":    "50/10m",
		"KEEL_RATE_LIMIT_RECOVERY_ADDRESS": "20/2h",
		"KEEL_RATE_LIMIT_RECOVERY_ACCOUNT": "1/24h",
		"KEEL_AUDIT_RETENTION_DAYS":        "365",
		"KEEL_LOG_LEVEL":                   "WARN",
		"KEEL_LOG_FORMAT":                  "json",
		"KEEL_MIGRATE":                     "0",
		"KEEL_MAX_BODY_BYTES":              "4096",
		"KEEL_SHUTDOWN_TIMEOUT":            "5s",
		"KEEL_COMPLETION_TIMEOUT":          "1m",
		"KEEL_EMAIL_TEMPLATES_DIR":         templates,
		"KEEL_PPROF_ADDR":                  "127.0.0.1:6060",
		"KEEL_MAX_CONCURRENT_HASHES":       "1",
		"KEEL_GOMAXPROCS":                  "6",
		"KEEL_HASH_NICE":                   "0",
		"KEEL_FRONTEND_DIR":                "/srv/frontend/dist/",
		"KEEL_METRICS_ADDR":                ":9090",
		"OTEL_EXPORTER_OTLP_ENDPOINT":      "https://collector.example.com:4318/",
		"OTEL_EXPORTER_OTLP_PROTOCOL":      "http/protobuf",
		"OTEL_SERVICE_NAME":                "acme-auth",
		"KEEL_MAX_SESSIONS_PER_USER":       "20",
		"KEEL_API_TOKEN_MAX_DAYS":          "90",
		"KEEL_DEVICE_KEY":                  "0123456789abcdef0123456789abcdef",

		"KEEL_EMAIL_VERIFICATION":              "Required",
		"KEEL_VERIFICATION_TOKEN_EXPIRE_HOURS": "24",
		"KEEL_TOTP_KEYS":                       "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=, AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI",
		"KEEL_RATE_LIMIT_VERIFICATION_ADDRESS": "7/3h",
		"KEEL_RATE_LIMIT_VERIFICATION_ACCOUNT": "2/2h",
		"KEEL_RATE_LIMIT_SECOND_FACTOR":        "4/10m",
		"KEEL_OIDC_PROVIDERS":                  "google, corp-sso",
		"KEEL_OIDC_GOOGLE_ISSUER":              "https://accounts.google.com",
		"KEEL_OIDC_GOOGLE_CLIENT_ID":           "google-client",
		"KEEL_OIDC_GOOGLE_CLIENT_SECRET":       "google-secret",
		"KEEL_OIDC_CORP_SSO_ISSUER":            "https://sso.corp.example/realms/staff/",
		"KEEL_OIDC_CORP_SSO_CLIENT_ID":         "keel",
		"KEEL_OIDC_CORP_SSO_CLIENT_SECRET":     "corp-secret",
		"KEEL_OIDC_CORP_SSO_SCOPES":            "email,groups",
		"KEEL_OIDC_REDIRECT_BASE_URL":          "https://api.example.com/api/v1/",
		"KEEL_OIDC_LOGIN_REDIRECT_URL":         "https://dashboard.example.com/sso",
		"KEEL_WEBAUTHN_RP_ID":                  "Example.com",
		"KEEL_WEBAUTHN_ORIGINS":                "https://dashboard.example.com,https://example.com",
		"KEEL_WEBAUTHN_RP_NAME":                "Acme Inc.",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		DatabaseURL:            "postgres://keel:pw@127.0.0.1:5432/keel?sslmode=disable",
		SecretKey:              "s3cr3t",
		SessionLifetime:        time.Hour,
		FrontendHost:           "https://dashboard.example.com",
		CORSOrigins:            []string{"https://a.example.com", "https://b.example.com"},
		Environment:            "staging",
		ProjectName:            "Acme",
		SMTPHost:               "smtp.example.com",
		SMTPPort:               465,
		SMTPTLS:                false,
		SMTPSSL:                true,
		SMTPUser:               "mailer",
		SMTPPassword:           "mailpw",
		EmailsFromEmail:        "noreply@example.com",
		EmailsFromName:         "Acme",
		ResetTokenLifetime:     48 * time.Hour,
		EmailTemplatesDir:      templates,
		FirstSuperuser:         "admin@example.com",
		FirstSuperuserPassword: "a long enough pass",
		Addr:                   "127.0.0.1:9000",
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128"),
		},
		RateLimits:        false,
		LoginAccount:      keel.Limit{Max: 5, Window: time.Minute},
		LoginDevice:       keel.Limit{Max: 7, Window: 2 * time.Minute},
		LoginAddress:      keel.Limit{Max: 50, Window: 10 * time.Minute},
		RecoveryAddress:   keel.Limit{Max: 20, Window: 2 * time.Hour},
		RecoveryAccount:   keel.Limit{Max: 1, Window: 24 * time.Hour},
		AuditRetention:    365 * 24 * time.Hour,
		LogLevel:          slog.LevelWarn,
		LogFormat:         "json",
		Migrate:           false,
		MaxBodyBytes:      4096,
		ShutdownTimeout:   5 * time.Second,
		CompletionTimeout: time.Minute,
		PprofAddr:         "127.0.0.1:6060",
		MaxHashes:         1,
		Procs:             6,
		HashNice:          -1,
		FrontendDir:       "/srv/frontend/dist",
		MetricsAddr:       ":9090",
		OTLPEndpoint:      "https://collector.example.com:4318/",
		OTelServiceName:   "acme-auth",

		MaxSessionsPerUser: 20,
		APITokenMaxDays:    90,
		DeviceKey:          "0123456789abcdef0123456789abcdef",

		EmailVerification:         keel.VerificationRequired,
		VerificationTokenLifetime: 24 * time.Hour,
		TOTPKeys:                  [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)},
		VerificationAddress:       keel.Limit{Max: 7, Window: 3 * time.Hour},
		VerificationAccount:       keel.Limit{Max: 2, Window: 2 * time.Hour},
		SecondFactor:              keel.Limit{Max: 4, Window: 10 * time.Minute},
		OIDCProviders: []oidcProvider{
			{Name: "google", Issuer: "https://accounts.google.com", ClientID: "google-client", ClientSecret: "google-secret", Scopes: []string{"email", "profile"}},
			{Name: "corp-sso", Issuer: "https://sso.corp.example/realms/staff/", ClientID: "keel", ClientSecret: "corp-secret", Scopes: []string{"email", "groups"}},
		},
		OIDCRedirectBase: "https://api.example.com/api/v1",
		LoginRedirectURL: "https://dashboard.example.com/sso",
		WebAuthnRPID:     "example.com",
		WebAuthnRPName:   "Acme Inc.",
		WebAuthnOrigins:  []string{"https://dashboard.example.com", "https://example.com"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c, want)
	}
	if got := c.AllCORSOrigins(); !reflect.DeepEqual(got, []string{"https://a.example.com", "https://b.example.com", "https://dashboard.example.com"}) {
		t.Errorf("AllCORSOrigins = %v", got)
	}
}

// brokenTemplates is a directory whose reset_password.html does not parse.
func brokenTemplates(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reset_password.html"), []byte(`{{.Link`), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInvalidValuesFailNamingTheVariable(t *testing.T) {
	tests := []struct {
		name, variable, value string
	}{
		{"an unknown database scheme fails", "DATABASE_URL", "mysql://localhost/keel"},
		{"a bare sqlite: fails", "DATABASE_URL", "sqlite:"},
		{"a session lifetime of zero fails", "ACCESS_TOKEN_EXPIRE_MINUTES", "0"},
		{"a session lifetime that is no number fails", "ACCESS_TOKEN_EXPIRE_MINUTES", "8d"},
		{"a frontend without scheme fails", "FRONTEND_HOST", "localhost:5173"},
		{"a frontend with a query fails", "FRONTEND_HOST", "https://x.example.com/?a=1"},
		{"a CORS origin with a path fails", "BACKEND_CORS_ORIGINS", "https://x.example.com/app"},
		{"a broken JSON CORS list fails", "BACKEND_CORS_ORIGINS", `["https://x.example.com"`},
		{"an SMTP port out of range fails", "SMTP_PORT", "70000"},
		{"an SMTP_TLS that is no boolean fails", "SMTP_TLS", "maybe"},
		{"an SMTP_SSL that is no boolean fails", "SMTP_SSL", "2"},
		{"a sender that is no address fails", "EMAILS_FROM_EMAIL", "noreply"},
		{"a reset lifetime of -1 fails", "EMAIL_RESET_TOKEN_EXPIRE_HOURS", "-1"},
		{"a first superuser that is no address fails", "FIRST_SUPERUSER", "admin"},
		{"an address without port fails", "KEEL_ADDR", "localhost"},
		{"a pprof address that is not loopback fails", "KEEL_PPROF_ADDR", "0.0.0.0:6060"},
		{"a pprof address without port fails", "KEEL_PPROF_ADDR", "127.0.0.1"},
		{"zero concurrent hashes fail", "KEEL_MAX_CONCURRENT_HASHES", "0"},
		{"a GOMAXPROCS of zero fails", "KEEL_GOMAXPROCS", "0"},
		{"a nice value above 19 fails", "KEEL_HASH_NICE", "20"},
		{"a negative nice value fails", "KEEL_HASH_NICE", "-5"},
		{"a GOMAXPROCS that is no number fails", "KEEL_GOMAXPROCS", "many"},
		{"a proxy that is no CIDR fails", "KEEL_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"rate limits neither on nor off fail", "KEEL_RATE_LIMITS", "sometimes"},
		{"a limit without window fails", "KEEL_RATE_LIMIT_LOGIN_ACCOUNT", "10"},
		{"a limit of zero fails", "KEEL_RATE_LIMIT_RECOVERY_ACCOUNT", "0/1h"},
		{"a limit with a bad window fails", "KEEL_RATE_LIMIT_LOGIN_ADDRESS", "10/soon"},
		{"a device limit of zero fails", "KEEL_RATE_LIMIT_LOGIN_DEVICE", "0/15m"},
		{"a session cap of zero fails", "KEEL_MAX_SESSIONS_PER_USER", "0"},
		{"a token lifetime past 365 days fails", "KEEL_API_TOKEN_MAX_DAYS", "366"},
		{"a token lifetime of zero fails", "KEEL_API_TOKEN_MAX_DAYS", "0"},
		{"a device key under 32 characters fails", "KEEL_DEVICE_KEY", "too short a key"},
		{"an audit retention of zero days fails", "KEEL_AUDIT_RETENTION_DAYS", "0"},
		{"an audit retention that is a duration, not days, fails", "KEEL_AUDIT_RETENTION_DAYS", "90d"},
		{"an unknown log level fails", "KEEL_LOG_LEVEL", "verbose"},
		{"an unknown log format fails", "KEEL_LOG_FORMAT", "xml"},
		{"a KEEL_MIGRATE that is no boolean fails", "KEEL_MIGRATE", "later"},
		{"a body limit that is no number fails", "KEEL_MAX_BODY_BYTES", "1MB"},
		{"a shutdown timeout that is no duration fails", "KEEL_SHUTDOWN_TIMEOUT", "25"},
		{"a completion timeout that is no duration fails", "KEEL_COMPLETION_TIMEOUT", "30"},
		{"a completion timeout of zero fails", "KEEL_COMPLETION_TIMEOUT", "0s"},
		{"a templates directory that does not exist fails", "KEEL_EMAIL_TEMPLATES_DIR", "/nonexistent/keel-templates"},
		{"a templates directory with a template that does not parse fails", "KEEL_EMAIL_TEMPLATES_DIR", brokenTemplates(t)},
		{"a metrics address without port fails", "KEEL_METRICS_ADDR", "localhost"},
		{"a collector without scheme fails", "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
		{"a collector over another scheme fails", "OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://collector:4317"},
		{"a traces URL without host fails", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http:///v1/traces"},
		{"OTLP over gRPC fails", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(map[string]string{tt.variable: tt.value}))
			if err == nil {
				t.Fatalf("%s=%q was accepted", tt.variable, tt.value)
			}
			if !strings.HasPrefix(err.Error(), tt.variable+": ") {
				t.Errorf("the error does not name %s: %v", tt.variable, err)
			}
		})
	}
}

func TestNumbersTooLargeAreRefusedNotReplaced(t *testing.T) {
	tests := []struct {
		name, variable, value, wantErr string
	}{
		{"a session lifetime whose minutes overflow a duration is refused", "ACCESS_TOKEN_EXPIRE_MINUTES", "99999999999999", "at most 153722867 minutes"},
		{"a session lifetime beyond an int is refused", "ACCESS_TOKEN_EXPIRE_MINUTES", "99999999999999999999", "too large"},
		{"the longest session lifetime a duration holds is accepted", "ACCESS_TOKEN_EXPIRE_MINUTES", "153722867", ""},
		{"one minute more is refused", "ACCESS_TOKEN_EXPIRE_MINUTES", "153722868", "too large"},
		{"a reset lifetime whose hours overflow a duration is refused", "EMAIL_RESET_TOKEN_EXPIRE_HOURS", "2562048", "at most 2562047 hours"},
		{"an audit retention whose days overflow a duration is refused", "KEEL_AUDIT_RETENTION_DAYS", "106752", "at most 106751 days"},
		{"a body limit beyond an int64 is refused", "KEEL_MAX_BODY_BYTES", "9223372036854775808", "too large"},
		{"more hashes than an int holds are refused", "KEEL_MAX_CONCURRENT_HASHES", "99999999999999999999", "too large"},
		{"a GOMAXPROCS above Go's maximum is refused", "KEEL_GOMAXPROCS", "1025", "more than Go's maximum of 1024"},
		{"Go's maximum GOMAXPROCS is accepted", "KEEL_GOMAXPROCS", "1024", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(env(map[string]string{tt.variable: tt.value}))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr == "":
				if c.SessionLifetime <= 0 || c.ResetTokenLifetime <= 0 {
					t.Errorf("a lifetime wrapped: %v, %v", c.SessionLifetime, c.ResetTokenLifetime)
				}
			case err == nil:
				t.Fatalf("%s=%s was accepted (session lifetime %v)", tt.variable, tt.value, c.SessionLifetime)
			case !strings.HasPrefix(err.Error(), tt.variable+": ") || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("got %v, want an error naming %s and saying %q", err, tt.variable, tt.wantErr)
			}
		})
	}
}

func TestDatabaseURLErrorsNeverRepeatThePassword(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"DATABASE_URL": "postgres://u:hunter2@host:port/db"}))
	if err == nil {
		t.Fatal("a URL with a bad port was accepted")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error repeats the password: %v", err)
	}
}

func TestProductionRefusesPlaceholdersAndWeakPasswords(t *testing.T) {
	admin := map[string]string{"FIRST_SUPERUSER": "admin@example.com"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string // the variable named, or "" for success
	}{
		{"production refuses SECRET_KEY=changethis", with(nil, "SECRET_KEY", "changethis"), "SECRET_KEY"},
		{"staging refuses SECRET_KEY=changethis", with(nil, "SECRET_KEY", "changethis", "ENVIRONMENT", "staging"), "SECRET_KEY"},
		{"an unknown environment counts as production", with(nil, "SECRET_KEY", "changethis", "ENVIRONMENT", "qa"), "SECRET_KEY"},
		{"local allows SECRET_KEY=changethis", with(nil, "SECRET_KEY", "changethis", "ENVIRONMENT", "local"), ""},
		{"development allows SECRET_KEY=changethis", with(nil, "SECRET_KEY", "changethis", "ENVIRONMENT", "development"), ""},
		{"production refuses FIRST_SUPERUSER_PASSWORD=changethis", with(admin, "FIRST_SUPERUSER_PASSWORD", "changethis"), "FIRST_SUPERUSER_PASSWORD"},
		{"local allows FIRST_SUPERUSER_PASSWORD=changethis", with(admin, "FIRST_SUPERUSER_PASSWORD", "changethis", "ENVIRONMENT", "local"), ""},
		{"production refuses a password of 7 characters", with(admin, "FIRST_SUPERUSER_PASSWORD", "abcdefg"), "FIRST_SUPERUSER_PASSWORD"},
		{"production refuses a password of 129 code points", with(admin, "FIRST_SUPERUSER_PASSWORD", strings.Repeat("é", 129)), "FIRST_SUPERUSER_PASSWORD"},
		{"production accepts 128 code points of 2 bytes each", with(admin, "FIRST_SUPERUSER_PASSWORD", strings.Repeat("é", 128)), ""},
		{"production accepts 8 characters", with(admin, "FIRST_SUPERUSER_PASSWORD", "abcdefgh"), ""},
		{"a superuser without password fails", admin, "FIRST_SUPERUSER_PASSWORD"},
		{"a superuser password without superuser fails", with(nil, "FIRST_SUPERUSER_PASSWORD", "a long enough pass"), "FIRST_SUPERUSER"},
		{"SMTP without a sender fails", with(nil, "SMTP_HOST", "smtp.example.com"), "EMAILS_FROM_EMAIL"},
		{"an SMTP password without user fails", with(nil, "SMTP_PASSWORD", "pw"), "SMTP_USER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(tt.vars))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("accepted; want an error naming %s", tt.wantErr)
			case tt.wantErr != "" && !strings.HasPrefix(err.Error(), tt.wantErr+": "):
				t.Errorf("the error does not name %s: %v", tt.wantErr, err)
			}
			if err != nil && tt.vars["FIRST_SUPERUSER_PASSWORD"] != "" && strings.Contains(err.Error(), tt.vars["FIRST_SUPERUSER_PASSWORD"]) && tt.vars["FIRST_SUPERUSER_PASSWORD"] != placeholder {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}

func TestEnvironmentModes(t *testing.T) {
	tests := []struct {
		environment string
		development bool
	}{
		{"local", true}, {"development", true}, {"LOCAL", true},
		{"staging", false}, {"production", false}, {"", false}, {"anything", false},
	}
	for _, tt := range tests {
		t.Run("ENVIRONMENT="+tt.environment+" is development "+map[bool]string{true: "yes", false: "no"}[tt.development], func(t *testing.T) {
			c, err := loadConfig(env(map[string]string{"ENVIRONMENT": tt.environment}))
			if err != nil {
				t.Fatal(err)
			}
			if c.Development() != tt.development {
				t.Errorf("Development() = %v", c.Development())
			}
		})
	}
}

func TestCORSOrigins(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"a comma list is split and trimmed", " http://localhost , https://example.com ", []string{"http://localhost", "https://example.com"}},
		{"a JSON list is read", `["http://localhost:8080", "https://example.com/"]`, []string{"http://localhost:8080", "https://example.com"}},
		{"empty items are skipped", "http://localhost,,", []string{"http://localhost"}},
		{"a star is kept", "*", []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(env(map[string]string{"BACKEND_CORS_ORIGINS": tt.value}))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.CORSOrigins, tt.want) {
				t.Errorf("got %q, want %q", c.CORSOrigins, tt.want)
			}
		})
	}
}

func TestDotenv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	err := os.WriteFile(path, []byte("# the template's .env\nPROJECT_NAME=\"From File\"\nSMTP_PORT=2525\nKEEL_ADDR=:7000\nENVIRONMENT=local\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	dotenv, err := readDotenv(path, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(envLookup(env(map[string]string{
		"SMTP_PORT": "25", // the environment wins
		"KEEL_ADDR": "",   // empty counts as unset: the file's value applies
	}), dotenv))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"a value only in the file is read, unquoted", c.ProjectName, "From File"},
		{"the environment wins over the file", c.SMTPPort, 25},
		{"an empty environment value yields to the file", c.Addr, ":7000"},
		{"the file sets the mode", c.Development(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	t.Run("the environment is not changed", func(t *testing.T) {
		if _, ok := os.LookupEnv("PROJECT_NAME"); ok {
			t.Error("reading the file set PROJECT_NAME in the process environment")
		}
	})
	t.Run("a missing default file is fine", func(t *testing.T) {
		m, err := readDotenv(filepath.Join(dir, "absent.env"), false)
		if err != nil || m != nil {
			t.Errorf("got %v, %v", m, err)
		}
	})
	t.Run("a missing file named explicitly fails", func(t *testing.T) {
		if _, err := readDotenv(filepath.Join(dir, "absent.env"), true); err == nil {
			t.Error("no error")
		}
	})
}

func TestSignInSettings(t *testing.T) {
	base := map[string]string{"FRONTEND_HOST": "https://app.example.com", "PROJECT_NAME": "Acme"}
	with := func(vars map[string]string) map[string]string {
		out := maps.Clone(base)
		maps.Copy(out, vars)
		return out
	}
	provider := map[string]string{"KEEL_OIDC_PROVIDERS": "corp", "KEEL_OIDC_CORP_ISSUER": "https://sso.example.com",
		"KEEL_OIDC_CORP_CLIENT_ID": "c", "KEEL_OIDC_CORP_CLIENT_SECRET": "s", "KEEL_OIDC_REDIRECT_BASE_URL": "https://api.example.com/api/v1"}

	t.Run("by default there are no providers, passkeys are off, and the defaults derive from FRONTEND_HOST and PROJECT_NAME", func(t *testing.T) {
		c, err := loadConfig(env(base))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.OIDCProviders) != 0 || c.WebAuthnRPID != "" || c.LoginRedirectURL != "https://app.example.com/login/oidc" ||
			c.WebAuthnRPName != "Acme" || !slices.Equal(c.WebAuthnOrigins, []string{"https://app.example.com"}) {
			t.Errorf("config = %+v", c)
		}
	})
	t.Run("a provider's callback is under the redirect base URL", func(t *testing.T) {
		c, err := loadConfig(env(with(provider)))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.CallbackURL("corp"); got != "https://api.example.com/api/v1/login/oidc/corp/callback" {
			t.Errorf("CallbackURL = %s", got)
		}
	})
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"a provider without an issuer is refused, naming its variable", with(map[string]string{"KEEL_OIDC_PROVIDERS": "corp-sso", "KEEL_OIDC_REDIRECT_BASE_URL": "https://api.example.com"}), "KEEL_OIDC_CORP_SSO_ISSUER: required"},
		{"a provider without a client secret is refused", with(map[string]string{"KEEL_OIDC_PROVIDERS": "corp", "KEEL_OIDC_CORP_ISSUER": "https://sso.example.com", "KEEL_OIDC_CORP_CLIENT_ID": "c", "KEEL_OIDC_REDIRECT_BASE_URL": "https://api.example.com"}), "KEEL_OIDC_CORP_CLIENT_SECRET: required"},
		{"providers without a redirect base URL are refused", with(map[string]string{"KEEL_OIDC_PROVIDERS": "corp", "KEEL_OIDC_CORP_ISSUER": "https://sso.example.com", "KEEL_OIDC_CORP_CLIENT_ID": "c", "KEEL_OIDC_CORP_CLIENT_SECRET": "s"}), "KEEL_OIDC_REDIRECT_BASE_URL: required"},
		{"a provider name with capitals is refused", with(map[string]string{"KEEL_OIDC_PROVIDERS": "Corp"}), "KEEL_OIDC_PROVIDERS"},
		{"a provider named twice is refused", with(map[string]string{"KEEL_OIDC_PROVIDERS": "corp,corp"}), "named twice"},
		{"an issuer that is not a URL is refused", with(map[string]string{"KEEL_OIDC_PROVIDERS": "corp", "KEEL_OIDC_CORP_ISSUER": "sso.example.com"}), "KEEL_OIDC_CORP_ISSUER"},
		{"a login redirect URL with a fragment is refused", with(map[string]string{"KEEL_OIDC_LOGIN_REDIRECT_URL": "https://app.example.com/#x"}), "KEEL_OIDC_LOGIN_REDIRECT_URL"},
		{"a passkey origin off the relying-party id is refused", with(map[string]string{"KEEL_WEBAUTHN_RP_ID": "example.com", "KEEL_WEBAUTHN_ORIGINS": "https://example.com.evil.test"}), "KEEL_WEBAUTHN_ORIGINS"},
		{"FRONTEND_HOST off the relying-party id is refused as the default origin", with(map[string]string{"KEEL_WEBAUTHN_RP_ID": "other.example"}), "KEEL_WEBAUTHN_ORIGINS"},
		{"a relying-party id that is a URL is refused", with(map[string]string{"KEEL_WEBAUTHN_RP_ID": "https://example.com"}), "KEEL_WEBAUTHN_RP_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestEverySettingIsDocumented(t *testing.T) {
	seen := map[string]bool{}
	var md, text bytes.Buffer
	if err := writeSettingsMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := writeSettings(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings() {
		t.Run(s.Name+" is described once, in both tables", func(t *testing.T) {
			if seen[s.Name] {
				t.Errorf("%s is in the table twice", s.Name)
			}
			seen[s.Name] = true
			if s.Help == "" || (s.parse == nil) == (s.provider == nil) {
				t.Errorf("%s lacks help or a parser", s.Name)
			}
			if !strings.Contains(md.String(), "| `"+s.Name+"` |") {
				t.Errorf("the Markdown table lacks %s", s.Name)
			}
			if !strings.Contains(text.String(), s.Name+" ") {
				t.Errorf("the text table lacks %s", s.Name)
			}
		})
	}
	for _, name := range []string{
		"DATABASE_URL", "SECRET_KEY", "ACCESS_TOKEN_EXPIRE_MINUTES", "FRONTEND_HOST", "BACKEND_CORS_ORIGINS",
		"ENVIRONMENT", "PROJECT_NAME", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_SSL", "SMTP_USER",
		"SMTP_PASSWORD", "EMAILS_FROM_EMAIL", "EMAILS_FROM_NAME", "EMAIL_RESET_TOKEN_EXPIRE_HOURS",
		"FIRST_SUPERUSER", "FIRST_SUPERUSER_PASSWORD", "KEEL_ADDR", "KEEL_TRUSTED_PROXIES", "KEEL_RATE_LIMITS",
		"KEEL_LOG_LEVEL", "KEEL_LOG_FORMAT", "KEEL_MIGRATE", "KEEL_MAX_BODY_BYTES",
	} {
		if !seen[name] {
			t.Errorf("%s is not a setting", name)
		}
	}
}

func TestTracesURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no endpoint is no tracing", nil, ""},
		{"the base endpoint gets /v1/traces", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318/v1/traces"},
		{"a base endpoint's path is kept", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.example.com/tenant-1/"}, "https://otlp.example.com/tenant-1/v1/traces"},
		{"the traces endpoint is used as it is", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/custom"}, "http://collector:4318/custom"},
		{"the traces endpoint wins over the base", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://base:4318",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/v1/traces",
		}, "http://traces:4318/v1/traces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.TracesURL(); got != tc.want {
				t.Fatalf("TracesURL = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("the service is named after the project unless OTEL_SERVICE_NAME says otherwise", func(t *testing.T) {
		c, err := loadConfig(env(map[string]string{"PROJECT_NAME": "Acme"}))
		if err != nil || c.OTelServiceName != "Acme" {
			t.Fatalf("service name %q, %v", c.OTelServiceName, err)
		}
	})
}
