package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/oidc"
	"github.com/keel-dev/keel/passkey"
	"github.com/keel-dev/keel/smtpmail"
	"github.com/keel-dev/keel/store/bunstore"
)

// newLogger makes the process's logger from KEEL_LOG_LEVEL and
// KEEL_LOG_FORMAT. Every line logged while serving a request carries its
// request_id (httpapi.LogHandler), and every duration is a number of
// milliseconds named <key>_ms, in text and JSON alike (slog would write
// "1.5ms" in text but nanoseconds in JSON).
func newLogger(c config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel, ReplaceAttr: durationsInMilliseconds}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(httpapi.LogHandler(h))
}

// durationsInMilliseconds turns a time.Duration attribute into <key>_ms,
// its milliseconds to the microsecond.
func durationsInMilliseconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key+"_ms", float64(a.Value.Duration().Microseconds())/1000)
	}
	return a
}

// isMemory reports whether DATABASE_URL asks for the in-process store.
func (c config) isMemory() bool { return c.DatabaseURL == "memory:" }

// migrator is what `keel migrate` needs of a store: bunstore has it,
// memstore (which has no schema) does not.
type migrator interface {
	Migrate(ctx context.Context) ([]bunstore.Migration, error)
	RollbackPlan(ctx context.Context) ([]bunstore.Migration, error)
	RollbackPlanned(ctx context.Context, plan []bunstore.Migration) ([]bunstore.Migration, error)
	MigrationStatus(ctx context.Context) ([]bunstore.Migration, error)
}

// migrateUp applies pending migrations when the store has any, logging
// what it applied.
func migrateUp(ctx context.Context, s keel.Store, log *slog.Logger) error {
	m, ok := s.(migrator)
	if !ok {
		return nil
	}
	applied, err := m.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	for _, mig := range applied {
		log.InfoContext(ctx, "applied migration", "migration", mig.String())
	}
	return nil
}

// newMailer is smtpmail over SMTP when SMTP_HOST is set, else the log
// mailer (reset links in the log only in development).
func newMailer(c config, log *slog.Logger) (keel.Mailer, error) {
	if !c.EmailsEnabled() {
		return &smtpmail.Log{Logger: log, FrontendHost: c.FrontendHost, Development: c.Development()}, nil
	}
	sc, err := smtpConfig(c)
	if err != nil {
		return nil, err
	}
	m, err := smtpmail.New(sc)
	if err != nil {
		return nil, fmt.Errorf("SMTP_HOST: %w", err)
	}
	return m, nil
}

// smtpConfig is the SMTP mailer's configuration: the SMTP_* and EMAILS_*
// settings, and the templates of KEEL_EMAIL_TEMPLATES_DIR over the
// built-in ones.
func smtpConfig(c config) (smtpmail.Config, error) {
	sc := smtpmail.Config{
		Host:         c.SMTPHost,
		Port:         c.SMTPPort,
		StartTLS:     c.SMTPTLS,
		SSL:          c.SMTPSSL,
		Username:     c.SMTPUser,
		Password:     c.SMTPPassword,
		From:         c.EmailsFromEmail,
		FromName:     c.EmailsFromName,
		FrontendHost: c.FrontendHost,
		ProjectName:  c.ProjectName,
	}
	if c.EmailTemplatesDir != "" {
		t, err := parseEmailTemplates(c.EmailTemplatesDir)
		if err != nil {
			return sc, fmt.Errorf("KEEL_EMAIL_TEMPLATES_DIR: %w", err)
		}
		sc.Templates = t
	}
	return sc, nil
}

// newService builds the keel.Service over the store; after are its after
// hooks (metrics' Count, when metrics are on).
func newService(c config, s keel.Store, log *slog.Logger, after ...keel.AfterHook) (*keel.Service, error) {
	mailer, err := newMailer(c, log)
	if err != nil {
		return nil, err
	}
	providers, passkeys, err := signIn(c)
	if err != nil {
		return nil, err
	}
	return keel.New(s, keel.Config{
		IdentityProviders:   providers,
		Passkeys:            passkeys,
		SessionLifetime:     c.SessionLifetime,
		ResetTokenLifetime:  c.ResetTokenLifetime,
		MaxSessionsPerUser:  c.MaxSessionsPerUser,
		MaxAPITokenLifetime: time.Duration(c.APITokenMaxDays) * 24 * time.Hour,
		DeviceKey:           deviceKey(c.DeviceKey),
		AuditRetention:      c.AuditRetention,
		RateLimits: keel.RateLimits{
			Disabled:           !c.RateLimits,
			LoginPerAccount:    c.LoginAccount,
			LoginPerDevice:     c.LoginDevice,
			LoginPerAddress:    c.LoginAddress,
			RecoveryPerAddress: c.RecoveryAddress,
			RecoveryPerAccount: c.RecoveryAccount,

			VerificationPerAddress: c.VerificationAddress,
			VerificationPerAccount: c.VerificationAccount,
			SecondFactorPerAccount: c.SecondFactor,
		},
		EmailVerification:         c.EmailVerification,
		VerificationTokenLifetime: c.VerificationTokenLifetime,
		TOTP:                      keel.TOTPConfig{Keys: c.TOTPKeys, Issuer: c.ProjectName},
		MaxConcurrentHashes:       c.MaxHashes,
		HashNice:                  c.HashNice,
		Hooks:                     keel.Hooks{After: after},
		Mailer:                    mailer,
		Logger:                    log,
	})
}

// signIn builds the OpenID Connect providers and the passkey relying
// party the configuration names (none, and nil, when it names none).
func signIn(c config) ([]keel.IdentityProvider, keel.PasskeyVerifier, error) {
	var providers []keel.IdentityProvider
	for _, p := range c.OIDCProviders {
		op, err := oidc.New(oidc.Config{
			Name:         p.Name,
			Issuer:       p.Issuer,
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			Scopes:       p.Scopes,
			RedirectURL:  c.CallbackURL(p.Name),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("KEEL_OIDC_PROVIDERS: %w", err)
		}
		providers = append(providers, op)
	}
	if c.WebAuthnRPID == "" {
		return providers, nil, nil
	}
	rp, err := passkey.New(passkey.Config{RPID: c.WebAuthnRPID, RPName: c.WebAuthnRPName, Origins: c.WebAuthnOrigins})
	if err != nil {
		return nil, nil, fmt.Errorf("KEEL_WEBAUTHN_RP_ID: %w", err)
	}
	return providers, rp, nil
}

// deviceKey is KEEL_DEVICE_KEY as keel takes it: nil when unset, so that
// keel keeps a key in the database.
func deviceKey(v string) []byte {
	if v == "" {
		return nil
	}
	return []byte(v)
}

// checkPassword reports whether a password passes keel's rules (length,
// not easy to guess) with svc.CheckPassword, worded for a log line or terminal:
// the failing rules' sentences, without keel's error code.
func checkPassword(svc *keel.Service, password string) error {
	err := svc.CheckPassword(password)
	if err == nil {
		return nil
	}
	var kerr *keel.Error
	if !errors.As(err, &kerr) || len(kerr.Fields) == 0 {
		return err
	}
	problems := make([]string, len(kerr.Fields))
	for i, f := range kerr.Fields {
		problems[i] = f.Message
	}
	return errors.New(strings.Join(problems, "; "))
}

// bootstrapSuperuser creates FIRST_SUPERUSER when no user has that email.
// It never changes an existing user, so it is safe at every start and
// from any number of replicas at once. Outside development a password
// that fails keel's rules stops the start (even when the user exists: the
// configuration is wrong); in development it is logged and no user is
// created, except for the template's placeholder (see placeholderSuperuser).
func bootstrapSuperuser(ctx context.Context, c config, svc *keel.Service, s keel.Store, log *slog.Logger) error {
	if c.FirstSuperuser == "" {
		return nil
	}
	placeholderPassword := c.Development() && c.FirstSuperuserPassword == placeholder
	if placeholderPassword {
		log.WarnContext(ctx, "FIRST_SUPERUSER_PASSWORD is \"changethis\", the FastAPI template's placeholder: anyone who knows the template can log in as the superuser. "+
			"It is accepted only because ENVIRONMENT="+c.Environment+" (development); change it before anyone else can reach this server",
			"email", c.FirstSuperuser)
	} else if err := checkPassword(svc, c.FirstSuperuserPassword); err != nil {
		if c.Development() {
			log.WarnContext(ctx, "FIRST_SUPERUSER_PASSWORD fails keel's password rules; no superuser is created", "problem", err.Error())
			return nil
		}
		return fmt.Errorf("FIRST_SUPERUSER_PASSWORD: %w", err)
	}
	var u *keel.User
	var err error
	if placeholderPassword {
		// Bootstrap would refuse the placeholder: it is a common password.
		switch _, err := s.UserByEmail(ctx, c.FirstSuperuser); {
		case err == nil:
			log.DebugContext(ctx, "the first superuser exists", "email", c.FirstSuperuser)
			return nil
		case keel.ErrorCode(err) != keel.NotFound:
			return fmt.Errorf("looking up FIRST_SUPERUSER: %w", err)
		}
		u, err = placeholderSuperuser(ctx, s, c.FirstSuperuser)
	} else {
		u, err = svc.Bootstrap(ctx, keel.SignUpInput{Email: c.FirstSuperuser, Password: c.FirstSuperuserPassword})
	}
	switch {
	case err == nil:
		log.InfoContext(ctx, "created the first superuser", "email", u.Email, "user_id", u.ID)
		return nil
	case errors.Is(err, keel.ErrEmailTaken): // from an earlier start, or another replica just now
		log.DebugContext(ctx, "the first superuser exists", "email", c.FirstSuperuser)
		return nil
	default:
		return fmt.Errorf("creating FIRST_SUPERUSER: %w", err)
	}
}

// placeholderSuperuser creates the superuser email with the password
// "changethis", as the FastAPI template does in development so that its
// stack starts unchanged. keel's rules refuse that password (it is too
// easy to guess), so keel.Service cannot create the account: it is
// written to the store with a bcrypt hash, which keel verifies and
// replaces with an argon2id hash at the first login. Only
// bootstrapSuperuser calls it, in development only.
func placeholderSuperuser(ctx context.Context, s keel.Store, email string) (*keel.User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(placeholder), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &keel.User{
		ID:                id,
		Email:             email,
		IsActive:          true,
		IsSuperuser:       true,
		PasswordHash:      string(hash),
		PasswordChangedAt: now,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	if err := s.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}
