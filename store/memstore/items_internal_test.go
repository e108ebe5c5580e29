package memstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

func TestNewestItemsMatchesASort(t *testing.T) {
	cmp := func(a, b *keel.Item) int { return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID) }
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, 2, 7, 100, 1000} {
		items := make([]*keel.Item, n)
		for i := range items {
			// Few distinct times, so ties fall back to the id.
			items[i] = &keel.Item{ID: uuid.New(), CreatedAt: base.Add(time.Duration(r.IntN(10)) * time.Second)}
		}
		want := slices.Clone(items)
		slices.SortFunc(want, cmp)
		for _, k := range []int{0, 1, 3, 20, n / 2, n - 1, n, n + 5} {
			if k < 0 {
				continue
			}
			t.Run(fmt.Sprintf("the %d newest of %d come in order", k, n), func(t *testing.T) {
				got := newestItems(slices.Clone(items), k)
				w := want[:min(k, n)]
				if len(got) < len(w) || !slices.Equal(got[:len(w)], w) {
					t.Errorf("got %d items, not the %d newest in order", len(got), len(w))
				}
			})
		}
	}
}
