package keel

import (
	"time"

	"github.com/google/uuid"
)

// Item is a user-owned resource.
type Item struct {
	ID          uuid.UUID
	Title       string
	Description *string // nil when not given
	OwnerID     uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
