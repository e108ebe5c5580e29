package bunstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
)

func Example() {
	ctx := context.Background()
	s, err := bunstore.Open(ctx, "sqlite::memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	applied, err := s.Migrate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("migrations applied:", len(applied) > 0)

	now := time.Now()
	u := &keel.User{
		ID:                uuid.Must(uuid.NewV7()),
		Email:             "alice@example.com",
		IsActive:          true,
		PasswordHash:      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA",
		PasswordChangedAt: now,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	if err := s.CreateUser(ctx, u); err != nil {
		log.Fatal(err)
	}
	got, err := s.UserByEmail(ctx, "alice@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", got.Email)

	u.ID = uuid.Must(uuid.NewV7())
	err = s.CreateUser(ctx, u)
	fmt.Println("same email again:", keel.ErrorCode(err), errors.Is(err, keel.ErrEmailTaken))

	// Output:
	// migrations applied: true
	// found: alice@example.com
	// same email again: conflict true
}
