package bunstore

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

// The row types map keel's domain types to the tables of the migrations.
// bun writes every time.Time as UTC with microseconds; rows read back are
// converted to UTC again, whatever zone the driver parsed them into.

type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID                uuid.UUID `bun:"id,pk"`
	Email             string    `bun:"email"`
	FullName          *string   `bun:"full_name"`
	IsActive          bool      `bun:"is_active"`
	IsSuperuser       bool      `bun:"is_superuser"`
	IsVerified        bool      `bun:"is_verified"`
	PasswordHash      string    `bun:"password_hash"`
	PasswordChangedAt time.Time `bun:"password_changed_at"`
	CreatedAt         time.Time `bun:"created_at"`
	UpdatedAt         time.Time `bun:"updated_at"`
}

func toUserRow(u *keel.User) *userRow {
	return &userRow{
		ID:                u.ID,
		Email:             u.Email,
		FullName:          cloneString(u.FullName),
		IsActive:          u.IsActive,
		IsSuperuser:       u.IsSuperuser,
		IsVerified:        u.IsVerified,
		PasswordHash:      u.PasswordHash,
		PasswordChangedAt: u.PasswordChangedAt,
		CreatedAt:         u.CreatedAt,
		UpdatedAt:         u.UpdatedAt,
	}
}

func (r *userRow) user() *keel.User {
	return &keel.User{
		ID:                r.ID,
		Email:             r.Email,
		FullName:          r.FullName,
		IsActive:          r.IsActive,
		IsSuperuser:       r.IsSuperuser,
		IsVerified:        r.IsVerified,
		PasswordHash:      r.PasswordHash,
		PasswordChangedAt: r.PasswordChangedAt.UTC(),
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
	}
}

type itemRow struct {
	bun.BaseModel `bun:"table:items,alias:i"`

	ID          uuid.UUID `bun:"id,pk"`
	Title       string    `bun:"title"`
	Description *string   `bun:"description"`
	OwnerID     uuid.UUID `bun:"owner_id"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func toItemRow(it *keel.Item) *itemRow {
	return &itemRow{
		ID:          it.ID,
		Title:       it.Title,
		Description: cloneString(it.Description),
		OwnerID:     it.OwnerID,
		CreatedAt:   it.CreatedAt,
		UpdatedAt:   it.UpdatedAt,
	}
}

func (r *itemRow) item() *keel.Item {
	return &keel.Item{
		ID:          r.ID,
		Title:       r.Title,
		Description: r.Description,
		OwnerID:     r.OwnerID,
		CreatedAt:   r.CreatedAt.UTC(),
		UpdatedAt:   r.UpdatedAt.UTC(),
	}
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	TokenHash  string    `bun:"token_hash,pk"`
	ID         uuid.UUID `bun:"id"`
	UserID     uuid.UUID `bun:"user_id"`
	Data       []byte    `bun:"data"`
	Expiry     time.Time `bun:"expiry"`
	CreatedAt  time.Time `bun:"created_at"`
	LastUsedAt time.Time `bun:"last_used_at"`
	ClientAddr string    `bun:"client_addr"`
	UserAgent  string    `bun:"user_agent"`

	// User is filled by FindSession's join.
	User *userRow `bun:"rel:belongs-to,join:user_id=id"`
}

func (r *sessionRow) record() *keel.SessionRecord {
	data := r.Data
	if data == nil {
		data = []byte{}
	}
	return &keel.SessionRecord{
		ID:         r.ID,
		TokenHash:  r.TokenHash,
		UserID:     r.UserID,
		Data:       data,
		Expiry:     r.Expiry.UTC(),
		CreatedAt:  r.CreatedAt.UTC(),
		LastUsedAt: r.LastUsedAt.UTC(),
		ClientAddr: r.ClientAddr,
		UserAgent:  r.UserAgent,
	}
}

func toSessionRow(rec *keel.SessionRecord) *sessionRow {
	data := rec.Data
	if data == nil {
		data = []byte{}
	}
	return &sessionRow{
		TokenHash:  rec.TokenHash,
		ID:         rec.ID,
		UserID:     rec.UserID,
		Data:       data,
		Expiry:     rec.Expiry,
		CreatedAt:  rec.CreatedAt,
		LastUsedAt: rec.LastUsedAt,
		ClientAddr: rec.ClientAddr,
		UserAgent:  rec.UserAgent,
	}
}

type resetTokenRow struct {
	bun.BaseModel `bun:"table:reset_tokens,alias:rt"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    uuid.UUID `bun:"user_id"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

func (r *resetTokenRow) token() *keel.ResetToken {
	return &keel.ResetToken{
		TokenHash: r.TokenHash,
		UserID:    r.UserID,
		CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(),
	}
}

type oneTimeTokenRow struct {
	bun.BaseModel `bun:"table:one_time_tokens,alias:ot"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    uuid.UUID `bun:"user_id"`
	Purpose   string    `bun:"purpose"`
	Email     string    `bun:"email"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

func toOneTimeTokenRow(t *keel.OneTimeToken) *oneTimeTokenRow {
	return &oneTimeTokenRow{
		TokenHash: t.TokenHash,
		UserID:    t.UserID,
		Purpose:   string(t.Purpose),
		Email:     t.Email,
		CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt,
	}
}

func (r *oneTimeTokenRow) token() *keel.OneTimeToken {
	return &keel.OneTimeToken{
		TokenHash: r.TokenHash,
		UserID:    r.UserID,
		Purpose:   keel.TokenPurpose(r.Purpose),
		Email:     r.Email,
		CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(),
	}
}

type totpRow struct {
	bun.BaseModel `bun:"table:totp,alias:tp"`

	UserID uuid.UUID `bun:"user_id,pk"`
	Secret []byte    `bun:"secret"`
	// A pending TOTP's confirmed_at is NULL.
	ConfirmedAt time.Time `bun:"confirmed_at,nullzero"`
	LastStep    int64     `bun:"last_step"`
	CreatedAt   time.Time `bun:"created_at"`
}

func toTOTPRow(t *keel.TOTP) *totpRow {
	secret := t.Secret
	if secret == nil {
		secret = []byte{} // the column is NOT NULL
	}
	return &totpRow{UserID: t.UserID, Secret: secret, ConfirmedAt: t.ConfirmedAt, LastStep: t.LastStep, CreatedAt: t.CreatedAt}
}

func (r *totpRow) totp() *keel.TOTP {
	secret := r.Secret
	if secret == nil {
		secret = []byte{}
	}
	t := &keel.TOTP{UserID: r.UserID, Secret: secret, LastStep: r.LastStep, CreatedAt: r.CreatedAt.UTC()}
	if !r.ConfirmedAt.IsZero() {
		t.ConfirmedAt = r.ConfirmedAt.UTC()
	}
	return t
}

type apiTokenRow struct {
	bun.BaseModel `bun:"table:api_tokens,alias:t"`

	ID        uuid.UUID `bun:"id,pk"`
	UserID    uuid.UUID `bun:"user_id"`
	Name      string    `bun:"name"`
	Scope     string    `bun:"scope"`
	TokenHash string    `bun:"token_hash"`
	CreatedAt time.Time `bun:"created_at"`
	// LastUsedAt is NULL until the token is first used.
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
	ExpiresAt  time.Time `bun:"expires_at"`

	// User is filled by FindAPIToken's join.
	User *userRow `bun:"rel:belongs-to,join:user_id=id"`
}

func toAPITokenRow(t *keel.APIToken) *apiTokenRow {
	return &apiTokenRow{
		ID:         t.ID,
		UserID:     t.UserID,
		Name:       t.Name,
		Scope:      string(t.Scope),
		TokenHash:  t.TokenHash,
		CreatedAt:  t.CreatedAt,
		LastUsedAt: t.LastUsedAt,
		ExpiresAt:  t.ExpiresAt,
	}
}

func (r *apiTokenRow) token() *keel.APIToken {
	t := &keel.APIToken{
		ID:        r.ID,
		UserID:    r.UserID,
		Name:      r.Name,
		Scope:     keel.Scope(r.Scope),
		TokenHash: r.TokenHash,
		CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(),
	}
	if !r.LastUsedAt.IsZero() {
		t.LastUsedAt = r.LastUsedAt.UTC()
	}
	return t
}

type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:rc"`

	UserID   uuid.UUID `bun:"user_id,pk"`
	CodeHash string    `bun:"code_hash,pk"`
}

type secretRow struct {
	bun.BaseModel `bun:"table:secrets,alias:sec"`

	Name  string `bun:"name,pk"`
	Value []byte `bun:"value"`
}

type counterRow struct {
	bun.BaseModel `bun:"table:counters,alias:c"`

	Key     string    `bun:"key,pk"`
	Count   int64     `bun:"count"`
	ResetAt time.Time `bun:"reset_at"`
}

func cloneString(s *string) *string {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

type identityRow struct {
	bun.BaseModel `bun:"table:identities,alias:idn"`

	ID        uuid.UUID `bun:"id,pk"`
	UserID    uuid.UUID `bun:"user_id"`
	Provider  string    `bun:"provider"`
	Subject   string    `bun:"subject"`
	Email     string    `bun:"email"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r *identityRow) identity() *keel.Identity {
	return &keel.Identity{
		ID:        r.ID,
		UserID:    r.UserID,
		Provider:  r.Provider,
		Subject:   r.Subject,
		Email:     r.Email,
		CreatedAt: r.CreatedAt.UTC(),
	}
}

type userHandleRow struct {
	bun.BaseModel `bun:"table:webauthn_user_handles,alias:wuh"`

	UserID uuid.UUID `bun:"user_id,pk"`
	Handle []byte    `bun:"handle"`
}

type passkeyRow struct {
	bun.BaseModel `bun:"table:passkeys,alias:pk"`

	ID             uuid.UUID `bun:"id,pk"`
	UserID         uuid.UUID `bun:"user_id"`
	CredentialID   []byte    `bun:"credential_id"`
	Name           string    `bun:"name"`
	PublicKey      []byte    `bun:"public_key"`
	Transports     string    `bun:"transports"` // comma-separated
	AAGUID         []byte    `bun:"aaguid"`
	SignCount      int64     `bun:"sign_count"`
	UserPresent    bool      `bun:"user_present"`
	UserVerified   bool      `bun:"user_verified"`
	BackupEligible bool      `bun:"backup_eligible"`
	BackupState    bool      `bun:"backup_state"`
	CreatedAt      time.Time `bun:"created_at"`
	LastUsedAt     time.Time `bun:"last_used_at,nullzero"`
}

func toPasskeyRow(p *keel.Passkey) *passkeyRow {
	return &passkeyRow{
		ID:             p.ID,
		UserID:         p.UserID,
		CredentialID:   nonNil(p.CredentialID),
		Name:           p.Name,
		PublicKey:      nonNil(p.PublicKey),
		Transports:     strings.Join(p.Transports, ","),
		AAGUID:         nonNil(p.AAGUID),
		SignCount:      int64(p.SignCount),
		UserPresent:    p.Flags.UserPresent,
		UserVerified:   p.Flags.UserVerified,
		BackupEligible: p.Flags.BackupEligible,
		BackupState:    p.Flags.BackupState,
		CreatedAt:      p.CreatedAt,
		LastUsedAt:     p.LastUsedAt,
	}
}

func (r *passkeyRow) passkey() *keel.Passkey {
	transports := []string{}
	if r.Transports != "" {
		transports = strings.Split(r.Transports, ",")
	}
	p := &keel.Passkey{
		ID:           r.ID,
		UserID:       r.UserID,
		CredentialID: r.CredentialID,
		Name:         r.Name,
		PublicKey:    r.PublicKey,
		Transports:   transports,
		AAGUID:       nonNil(r.AAGUID),
		SignCount:    uint32(r.SignCount),
		Flags: keel.PasskeyFlags{
			UserPresent:    r.UserPresent,
			UserVerified:   r.UserVerified,
			BackupEligible: r.BackupEligible,
			BackupState:    r.BackupState,
		},
		CreatedAt: r.CreatedAt.UTC(),
	}
	if !r.LastUsedAt.IsZero() {
		p.LastUsedAt = r.LastUsedAt.UTC()
	}
	return p
}

type authFlowRow struct {
	bun.BaseModel `bun:"table:auth_flows,alias:af"`

	KeyHash   string        `bun:"key_hash,pk"`
	Kind      string        `bun:"kind"`
	UserID    uuid.NullUUID `bun:"user_id"`
	Data      []byte        `bun:"data"`
	CreatedAt time.Time     `bun:"created_at"`
	ExpiresAt time.Time     `bun:"expires_at"`
}

func (r *authFlowRow) flow() *keel.AuthFlow {
	return &keel.AuthFlow{
		KeyHash:   r.KeyHash,
		Kind:      keel.AuthFlowKind(r.Kind),
		UserID:    r.UserID.UUID, // uuid.Nil when NULL
		Data:      nonNil(r.Data),
		CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(),
	}
}

// nonNil returns b, or an empty slice for nil: the columns are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// auditEventRow is an audit event. The user ids are NULL for uuid.Nil and
// refer to no table: events outlive their users. Detail is JSON (jsonb on
// PostgreSQL), NULL when empty.
type auditEventRow struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`

	ID         uuid.UUID         `bun:"id,pk"`
	Kind       keel.EventKind    `bun:"kind"`
	CreatedAt  time.Time         `bun:"created_at"`
	ActorID    uuid.UUID         `bun:"actor_id,nullzero"`
	UserID     uuid.UUID         `bun:"user_id,nullzero"`
	ClientAddr string            `bun:"client_addr"`
	UserAgent  string            `bun:"user_agent"`
	RequestID  string            `bun:"request_id"`
	Detail     map[string]string `bun:"detail"`
}

func toAuditEventRow(e *keel.AuditEvent) *auditEventRow {
	r := &auditEventRow{
		ID:         e.ID,
		Kind:       e.Kind,
		CreatedAt:  e.CreatedAt,
		ActorID:    e.ActorID,
		UserID:     e.UserID,
		ClientAddr: e.ClientAddr,
		UserAgent:  e.UserAgent,
		RequestID:  e.RequestID,
	}
	if len(e.Detail) > 0 {
		r.Detail = e.Detail
	}
	return r
}

func (r *auditEventRow) event() *keel.AuditEvent {
	e := &keel.AuditEvent{
		ID:         r.ID,
		Kind:       r.Kind,
		CreatedAt:  r.CreatedAt.UTC(),
		ActorID:    r.ActorID,
		UserID:     r.UserID,
		ClientAddr: r.ClientAddr,
		UserAgent:  r.UserAgent,
		RequestID:  r.RequestID,
	}
	if len(r.Detail) > 0 {
		e.Detail = r.Detail
	}
	return e
}
