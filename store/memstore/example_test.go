package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

func Example() {
	ctx := context.Background()
	s := memstore.New()
	defer s.Close()

	now := time.Date(2025, time.January, 2, 15, 4, 5, 0, time.UTC)
	name := "Ada Lovelace"
	ada := &keel.User{
		ID:        uuid.Must(uuid.NewV7()),
		Email:     "ada@example.com",
		FullName:  &name,
		IsActive:  true,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := s.CreateUser(ctx, ada); err != nil {
		fmt.Println(err)
		return
	}

	// The email is taken.
	dup := *ada
	dup.ID = uuid.Must(uuid.NewV7())
	err := s.CreateUser(ctx, &dup)
	fmt.Println("create again:", keel.ErrorCode(err))

	// A transaction whose fn fails leaves nothing behind.
	errAbort := errors.New("changed my mind")
	err = s.InTx(ctx, func(tx keel.Tx) error {
		for _, title := range []string{"Notes", "Engine"} {
			it := &keel.Item{ID: uuid.Must(uuid.NewV7()), Title: title, OwnerID: ada.ID, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateItem(ctx, it); err != nil {
				return err
			}
		}
		return errAbort
	})
	_, n, _ := s.ListItems(ctx, keel.ItemFilter{OwnerID: ada.ID}, keel.Page{Limit: 10})
	fmt.Println("rolled back:", errors.Is(err, errAbort), "items:", n)

	// A fixed-window rate-limit counter.
	for range 3 {
		_, _ = s.IncrementCounter(ctx, "login:ada@example.com", time.Minute, now)
	}
	c, _ := s.Counter(ctx, "login:ada@example.com", now)
	fmt.Println("attempts:", c.Count, "until", c.ResetAt.Format(time.TimeOnly))

	// Output:
	// create again: conflict
	// rolled back: true items: 0
	// attempts: 3 until 15:05:05
}
