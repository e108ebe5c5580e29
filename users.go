package keel

import (
	"time"

	"github.com/google/uuid"
)

// User is an account. PasswordHash never leaves keel: it has no JSON name
// and adapters build their own public shapes.
type User struct {
	ID          uuid.UUID
	Email       string  // trimmed and lower-cased
	FullName    *string // nil when not given
	IsActive    bool
	IsSuperuser bool
	// PasswordHash is a PHC string ($argon2id$...) or a bcrypt hash ($2a$...).
	PasswordHash string `json:"-"`
	// PasswordChangedAt voids reset tokens issued before it.
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}
