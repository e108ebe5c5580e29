package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// testItemCounts checks that ListItems' count stays exact however the
// store keeps it (a count of rows, or counters kept with every write).
func testItemCounts(t *testing.T, newStore newStoreFunc) {
	// wantCount fails t unless ListItems counts want items for f, on a page
	// that cannot tell the total by itself (it is full and not the last).
	wantCount := func(t *testing.T, s keel.ItemStore, what string, f keel.ItemFilter, want int) {
		t.Helper()
		_, total, err := s.ListItems(t.Context(), f, keel.Page{Limit: 1})
		wantNoError(t, what, err)
		if total != want {
			t.Errorf("%s: count = %d, want %d", what, total, want)
		}
		all, _, err := s.ListItems(t.Context(), f, keel.Page{Limit: want + 10})
		wantNoError(t, what, err)
		if len(all) != want {
			t.Errorf("%s: %d items listed, want %d", what, len(all), want)
		}
	}

	t.Run("counts stay exact under concurrent creates and deletes of one owner's items", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		for range 3 {
			mustCreateItem(t, s, NewItem(other.ID))
		}
		const workers, creates, deletes = 8, 12, 5
		old := make([]*keel.Item, workers*deletes)
		for i := range old {
			old[i] = mustCreateItem(t, s, NewItem(owner.ID))
		}
		errs := make(chan error, workers*(creates+deletes))
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range creates {
					errs <- s.CreateItem(t.Context(), NewItem(owner.ID))
					if i < deletes {
						errs <- s.DeleteItem(t.Context(), old[w*deletes+i].ID)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			wantNoError(t, "a concurrent CreateItem or DeleteItem", err)
		}
		mine := len(old) + workers*creates - workers*deletes
		wantCount(t, s, "the owner's items", keel.ItemFilter{OwnerID: owner.ID}, mine)
		wantCount(t, s, "the other owner's items", keel.ItemFilter{OwnerID: other.ID}, 3)
		wantCount(t, s, "every item", keel.ItemFilter{}, mine+3)
	})

	t.Run("counts follow creates and deletes inside a transaction, and its rollback", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		first := mustCreateItem(t, s, NewItem(owner.ID))
		mustCreateItem(t, s, NewItem(owner.ID))
		mine := keel.ItemFilter{OwnerID: owner.ID}
		errRollback := errors.New("roll back")
		err := s.InTx(t.Context(), func(tx keel.Tx) error {
			for range 3 {
				if err := tx.CreateItem(t.Context(), NewItem(owner.ID)); err != nil {
					return err
				}
			}
			if err := tx.DeleteItem(t.Context(), first.ID); err != nil {
				return err
			}
			wantCount(t, tx, "inside the transaction", mine, 4)
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want fn's error", err)
		}
		wantCount(t, s, "after the rollback", mine, 2)
		wantNoError(t, "InTx", s.InTx(t.Context(), func(tx keel.Tx) error {
			return tx.CreateItem(t.Context(), NewItem(owner.ID))
		}))
		wantCount(t, s, "after a commit", mine, 3)
	})

	t.Run("deleting every item and the owner leaves no count behind", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		kept := mustCreateUser(t, s, NewUser())
		items := []*keel.Item{mustCreateItem(t, s, NewItem(owner.ID)), mustCreateItem(t, s, NewItem(owner.ID))}
		mustCreateItem(t, s, NewItem(kept.ID))
		for _, it := range items {
			wantNoError(t, "DeleteItem", s.DeleteItem(t.Context(), it.ID))
		}
		wantCount(t, s, "after deleting every item", keel.ItemFilter{OwnerID: owner.ID}, 0)
		mustCreateItem(t, s, NewItem(owner.ID))
		mustCreateItem(t, s, NewItem(owner.ID))
		wantCount(t, s, "after creating again", keel.ItemFilter{OwnerID: owner.ID}, 2)
		wantNoError(t, "DeleteUser", s.DeleteUser(t.Context(), owner.ID))
		wantCount(t, s, "after deleting the owner", keel.ItemFilter{OwnerID: owner.ID}, 0)
		wantCount(t, s, "every item after deleting the owner", keel.ItemFilter{}, 1)
		wantCount(t, s, "an unknown owner", keel.ItemFilter{OwnerID: uuid.New()}, 0)
	})
}
