package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

func testItems(t *testing.T, newStore newStoreFunc) {
	t.Run("a created item reads back with every field", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			description *string
		}{
			{"with a description", ptr("Something to keep")},
			{"with an empty description", ptr("")},
			{"without a description", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				owner := mustCreateUser(t, s, NewUser())
				mustCreateItem(t, s, NewItem(owner.ID)) // a neighbour
				it := NewItem(owner.ID)
				it.Title = "Title ✓"
				it.Description = tc.description
				it.UpdatedAt = it.CreatedAt.Add(time.Millisecond)
				mustCreateItem(t, s, it)
				checkItem(t, "Item", mustItem(t, s, it.ID), it)
			})
		}
	})

	t.Run("CreateItem with a missing owner is NotFound and creates nothing", func(t *testing.T) {
		s := newStore(t)
		mustCreateUser(t, s, NewUser())
		it := NewItem(NewID())
		wantCode(t, "CreateItem", s.CreateItem(t.Context(), it), keel.NotFound)
		_, err := s.Item(t.Context(), it.ID)
		wantCode(t, "Item after a failed CreateItem", err, keel.NotFound)
	})

	// A store may run concurrent writes together (bunstore groups them in
	// one SQLite transaction): each still gets its own result, and a
	// failing one takes none of its neighbours down.
	t.Run("concurrent CreateItems each get their own result beside failing neighbours", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		const n = 48
		items := make([]*keel.Item, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			items[i] = NewItem(owner.ID)
			if i%3 == 1 {
				items[i].OwnerID = NewID() // a missing owner
			}
			wg.Go(func() { errs[i] = s.CreateItem(t.Context(), items[i]) })
		}
		wg.Wait()
		good := 0
		for i, it := range items {
			_, err := s.Item(t.Context(), it.ID)
			if it.OwnerID != owner.ID {
				wantCode(t, fmt.Sprintf("CreateItem %d with a missing owner", i), errs[i], keel.NotFound)
				wantCode(t, fmt.Sprintf("Item %d after its failed CreateItem", i), err, keel.NotFound)
				continue
			}
			good++
			if errs[i] != nil {
				t.Errorf("CreateItem %d: %v", i, errs[i])
				continue
			}
			if err != nil {
				t.Errorf("Item %d after its CreateItem: %v", i, err)
			}
		}
		for _, f := range []keel.ItemFilter{{OwnerID: owner.ID}, {}} {
			got, total, err := s.ListItems(t.Context(), f, keel.Page{Limit: n + 1})
			wantNoError(t, "ListItems", err)
			if total != good || len(got) != good {
				t.Errorf("ListItems(%+v): %d items, count %d, want %d and %d", f, len(got), total, good, good)
			}
		}
	})

	t.Run("missing items are NotFound", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		mustCreateItem(t, s, NewItem(owner.ID)) // the store is not empty
		missing := NewItem(owner.ID)
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Item with an unknown id", func() error { _, err := s.Item(t.Context(), missing.ID); return err }},
			{"UpdateItem of an unknown id", func() error { return s.UpdateItem(t.Context(), missing) }},
			{"DeleteItem of an unknown id", func() error { return s.DeleteItem(t.Context(), missing.ID) }},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.call(), keel.NotFound) })
		}
		_, err := s.Item(t.Context(), missing.ID)
		wantCode(t, "Item after a failed UpdateItem", err, keel.NotFound)
	})

	// The contract: UpdateItem replaces Title, Description and UpdatedAt;
	// OwnerID and CreatedAt stay whatever the caller passes.
	t.Run("UpdateItem replaces title, description and UpdatedAt and keeps owner and CreatedAt", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			before     *string
			after      *string
			otherOwner bool
		}{
			{"when a description is set", nil, ptr("new"), false},
			{"when a description is cleared", ptr("old"), nil, false},
			{"when a description is changed", ptr("old"), ptr("new"), false},
			{"when the caller passes another owner", ptr("old"), ptr("new"), true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				owner := mustCreateUser(t, s, NewUser())
				other := mustCreateUser(t, s, NewUser())
				it := NewItem(owner.ID)
				it.Description = tc.before
				mustCreateItem(t, s, it)
				neighbour := mustCreateItem(t, s, NewItem(owner.ID))

				upd := &keel.Item{
					ID:          it.ID,
					Title:       "Renamed",
					Description: tc.after,
					OwnerID:     owner.ID,
					CreatedAt:   it.CreatedAt.Add(-24 * time.Hour),
					UpdatedAt:   it.UpdatedAt.Add(time.Hour),
				}
				if tc.otherOwner {
					upd.OwnerID = other.ID
				}
				wantNoError(t, "UpdateItem", s.UpdateItem(t.Context(), upd))

				want := *upd
				want.OwnerID = it.OwnerID
				want.CreatedAt = it.CreatedAt
				checkItem(t, "Item after UpdateItem", mustItem(t, s, it.ID), &want)
				checkItem(t, "the neighbour", mustItem(t, s, neighbour.ID), neighbour)
			})
		}
	})

	t.Run("DeleteItem removes only that item", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		it := mustCreateItem(t, s, NewItem(owner.ID))
		keep := mustCreateItem(t, s, NewItem(owner.ID))
		wantNoError(t, "DeleteItem", s.DeleteItem(t.Context(), it.ID))
		_, err := s.Item(t.Context(), it.ID)
		wantCode(t, "Item after DeleteItem", err, keel.NotFound)
		wantCode(t, "a second DeleteItem", s.DeleteItem(t.Context(), it.ID), keel.NotFound)
		checkItem(t, "the other item", mustItem(t, s, keep.ID), keep)
		checkUser(t, "the owner", mustUser(t, s, owner.ID), owner)
		_, total, err := s.ListItems(t.Context(), keel.ItemFilter{OwnerID: owner.ID}, keel.Page{Limit: 10})
		wantNoError(t, "ListItems", err)
		if total != 1 {
			t.Errorf("ListItems count = %d, want 1", total)
		}
	})

	t.Run("ListItems filters by owner, returns pages newest first and counts every match", func(t *testing.T) {
		s := newStore(t)
		mustCreateUser(t, s, NewUser()) // a user without items
		alice, bob, stamps := seedListItems(t, s)
		all := keel.ItemFilter{}
		runListItems(t, s, stamps, []listItemsCase{
			{"the zero filter selects every item in order", all, keel.Page{Limit: 100}, []int{0, 1, 2, 3, 4, 5, 6}, 7},
			{"the zero filter pages from the start", all, keel.Page{Offset: 0, Limit: 2}, []int{0, 1}, 7},
			{"the zero filter pages through a CreatedAt tie by ID", all, keel.Page{Offset: 2, Limit: 2}, []int{2, 3}, 7},
			{"the zero filter's last page is short", all, keel.Page{Offset: 5, Limit: 5}, []int{5, 6}, 7},
			{"the zero filter past the end is empty", all, keel.Page{Offset: 7, Limit: 5}, nil, 7},
			{"an owner filter keeps only that owner's items", keel.ItemFilter{OwnerID: alice.ID}, keel.Page{Limit: 100}, []int{0, 2, 3, 5}, 4},
			{"an owner filter pages within the owner's items", keel.ItemFilter{OwnerID: alice.ID}, keel.Page{Offset: 1, Limit: 2}, []int{2, 3}, 4},
			{"another owner's filter keeps only theirs", keel.ItemFilter{OwnerID: bob.ID}, keel.Page{Limit: 100}, []int{1, 4, 6}, 3},
			{"an owner filter past the end is empty but counts", keel.ItemFilter{OwnerID: bob.ID}, keel.Page{Offset: 3, Limit: 2}, nil, 3},
			{"an unknown owner has no items", keel.ItemFilter{OwnerID: NewID()}, keel.Page{Limit: 100}, nil, 0},
		})
	})

	t.Run("ListItems after a cursor returns only the items strictly after it", func(t *testing.T) {
		s := newStore(t)
		alice, _, stamps := seedListItems(t, s)
		after := func(i int) *keel.Cursor { return &keel.Cursor{CreatedAt: stamps[i].CreatedAt, ID: stamps[i].ID} }
		all, mine := keel.ItemFilter{}, keel.ItemFilter{OwnerID: alice.ID}
		runListItems(t, s, stamps, []listItemsCase{
			{"after the newest item comes the rest", all, keel.Page{After: after(0), Limit: 100}, []int{1, 2, 3, 4, 5, 6}, 7},
			{"after the first of a CreatedAt tie come the rest of the tie, by ID", all, keel.Page{After: after(1), Limit: 2}, []int{2, 3}, 7},
			{"after the middle of a tie comes its last", all, keel.Page{After: after(2), Limit: 1}, []int{3}, 7},
			{"after the last of a tie come the older items", all, keel.Page{After: after(3), Limit: 100}, []int{4, 5, 6}, 7},
			{"a microsecond older counts as older", all, keel.Page{After: after(4), Limit: 100}, []int{5, 6}, 7},
			{"after the oldest item nothing is left, but the count is the total", all, keel.Page{After: after(6), Limit: 5}, nil, 7},
			{"the offset applies after the cursor", all, keel.Page{After: after(0), Offset: 2, Limit: 2}, []int{3, 4}, 7},
			{"an owner filter keeps only that owner's items after the cursor", mine, keel.Page{After: after(0), Limit: 100}, []int{2, 3, 5}, 4},
			{"an owner filter after another owner's item starts at the next of its own", mine, keel.Page{After: after(1), Limit: 100}, []int{2, 3, 5}, 4},
			{"an owner filter after its last item is empty but counts", mine, keel.Page{After: after(5), Limit: 100}, nil, 4},
			{"a cursor between stored items works", all, keel.Page{After: &keel.Cursor{CreatedAt: stamps[3].CreatedAt.Add(-time.Second), ID: NewID()}, Limit: 100}, []int{4, 5, 6}, 7},
			{"a cursor newer than every item returns all of them", all, keel.Page{After: &keel.Cursor{CreatedAt: Now().Add(time.Hour), ID: NewID()}, Limit: 100}, []int{0, 1, 2, 3, 4, 5, 6}, 7},
		})
	})

	t.Run("walking the pages by cursor yields every item once, in order", func(t *testing.T) {
		s := newStore(t)
		alice := mustCreateUser(t, s, NewUser())
		bob := mustCreateUser(t, s, NewUser())
		// 23 items each, in runs that share a CreatedAt, so that pages
		// start and end inside ties.
		base := Now().Add(-time.Hour)
		var wantAll, wantAlice []uuid.UUID
		for i := range 46 {
			owner := alice.ID
			if i%2 == 1 {
				owner = bob.ID
			}
			it := NewItem(owner)
			it.CreatedAt = base.Add(time.Duration(i/5) * time.Millisecond)
			mustCreateItem(t, s, it)
		}
		every, _, err := s.ListItems(t.Context(), keel.ItemFilter{}, keel.Page{Limit: 100})
		wantNoError(t, "ListItems", err)
		for _, it := range every {
			wantAll = append(wantAll, it.ID)
			if it.OwnerID == alice.ID {
				wantAlice = append(wantAlice, it.ID)
			}
		}
		for _, tc := range []struct {
			name   string
			filter keel.ItemFilter
			want   []uuid.UUID
		}{
			{"with the zero filter", keel.ItemFilter{}, wantAll},
			{"with an owner filter", keel.ItemFilter{OwnerID: alice.ID}, wantAlice},
		} {
			for _, limit := range []int{1, 3, 5, 7, 23, 100} {
				t.Run(fmt.Sprintf("%s, %d a page", tc.name, limit), func(t *testing.T) {
					var got []uuid.UUID
					var after *keel.Cursor
					for range len(tc.want) + 2 {
						items, total, err := s.ListItems(t.Context(), tc.filter, keel.Page{After: after, Limit: limit})
						wantNoError(t, "ListItems", err)
						if total != len(tc.want) {
							t.Errorf("ListItems count = %d, want %d on every page", total, len(tc.want))
						}
						got = append(got, itemIDs(items)...)
						if len(items) < limit {
							break
						}
						c := keel.CursorOf(items[len(items)-1])
						after = &c
					}
					checkIDs(t, "the pages walked by cursor", got, tc.want)
				})
			}
		}
	})

	t.Run("ListItems returns full items", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		it := NewItem(owner.ID)
		it.Description = nil
		mustCreateItem(t, s, it)
		got, _, err := s.ListItems(t.Context(), keel.ItemFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListItems", err)
		if len(got) != 1 {
			t.Fatalf("ListItems returned %d items, want 1", len(got))
		}
		checkItem(t, "ListItems", got[0], it)
	})
}

func testCascades(t *testing.T, newStore newStoreFunc) {
	t.Run("DeleteUser removes the user's items, sessions, reset tokens and API tokens and leaves other users' alone", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		now := Now()
		gone := mustCreateUser(t, s, NewUser())
		kept := mustCreateUser(t, s, NewUser())
		goneItems := []*keel.Item{mustCreateItem(t, s, NewItem(gone.ID)), mustCreateItem(t, s, NewItem(gone.ID))}
		keptItem := mustCreateItem(t, s, NewItem(kept.ID))
		goneSessions := []*keel.SessionRecord{
			mustCreateSession(t, s, NewSession(gone.ID, now.Add(time.Hour))),
			mustCreateSession(t, s, NewSession(gone.ID, now.Add(2*time.Hour))),
		}
		keptSession := mustCreateSession(t, s, NewSession(kept.ID, now.Add(time.Hour)))
		goneToken := mustCreateResetToken(t, s, NewResetToken(gone.ID, now, now.Add(time.Hour)))
		keptToken := mustCreateResetToken(t, s, NewResetToken(kept.ID, now, now.Add(time.Hour)))
		goneAPIToken := mustCreateAPIToken(t, s, NewAPIToken(gone.ID, now, now.Add(time.Hour)))
		keptAPIToken := mustCreateAPIToken(t, s, NewAPIToken(kept.ID, now, now.Add(time.Hour)))

		wantNoError(t, "DeleteUser", s.DeleteUser(ctx, gone.ID))

		for _, it := range goneItems {
			_, err := s.Item(ctx, it.ID)
			wantCode(t, "Item of the deleted user", err, keel.NotFound)
		}
		_, total, err := s.ListItems(ctx, keel.ItemFilter{OwnerID: gone.ID}, keel.Page{Limit: 10})
		wantNoError(t, "ListItems of the deleted user", err)
		if total != 0 {
			t.Errorf("ListItems of the deleted user: count = %d, want 0", total)
		}
		for _, sess := range goneSessions {
			_, _, err := s.FindSession(ctx, sess.TokenHash, now)
			wantCode(t, "FindSession of the deleted user", err, keel.NotFound)
			wantCode(t, "UpdateSession of the deleted user", s.UpdateSession(ctx, sess.TokenHash, []byte("x"), now.Add(time.Hour)), keel.NotFound)
		}
		n, err := s.DeleteUserSessions(ctx, gone.ID, "")
		wantNoError(t, "DeleteUserSessions of the deleted user", err)
		if n != 0 {
			t.Errorf("DeleteUserSessions of the deleted user = %d, want 0", n)
		}
		_, err = s.ConsumeResetToken(ctx, goneToken.TokenHash)
		wantCode(t, "ConsumeResetToken of the deleted user", err, keel.NotFound)
		_, _, err = s.FindAPIToken(ctx, goneAPIToken.TokenHash, now)
		wantCode(t, "FindAPIToken of the deleted user", err, keel.NotFound)
		n, err = s.DeleteUserAPITokens(ctx, gone.ID)
		wantNoError(t, "DeleteUserAPITokens of the deleted user", err)
		if n != 0 {
			t.Errorf("DeleteUserAPITokens of the deleted user = %d, want 0", n)
		}

		checkUser(t, "the other user", mustUser(t, s, kept.ID), kept)
		checkItem(t, "the other user's item", mustItem(t, s, keptItem.ID), keptItem)
		gotSess, gotUser, err := s.FindSession(ctx, keptSession.TokenHash, now)
		wantNoError(t, "FindSession of the other user", err)
		checkSession(t, "the other user's session", gotSess, keptSession)
		checkUser(t, "the other user's session's user", gotUser, kept)
		gotTok, err := s.ConsumeResetToken(ctx, keptToken.TokenHash)
		wantNoError(t, "ConsumeResetToken of the other user", err)
		checkResetToken(t, "the other user's reset token", gotTok, keptToken)
		gotAPIToken, _, err := s.FindAPIToken(ctx, keptAPIToken.TokenHash, now)
		wantNoError(t, "FindAPIToken of the other user", err)
		checkAPIToken(t, "the other user's API token", gotAPIToken, keptAPIToken)
	})
}

// seedListItems stores the seven items of the list tests: stamps (newest
// first, with a CreatedAt tie) inserted out of order, owned by alice
// (0, 2, 3, 5) and bob (1, 4, 6).
func seedListItems(t *testing.T, s keel.Store) (alice, bob *keel.User, stamps []stamp) {
	t.Helper()
	alice = mustCreateUser(t, s, NewUser())
	bob = mustCreateUser(t, s, NewUser())
	stamps = newestFirst()
	owners := []uuid.UUID{alice.ID, bob.ID, alice.ID, alice.ID, bob.ID, alice.ID, bob.ID}
	for _, i := range insertionOrder {
		it := NewItem(owners[i])
		it.ID, it.CreatedAt = stamps[i].ID, stamps[i].CreatedAt
		mustCreateItem(t, s, it)
	}
	return alice, bob, stamps
}

// listItemsCase is one ListItems call and what it must return: the
// indexes (into the stamps) of the page, in order, and the total count.
type listItemsCase struct {
	name      string
	filter    keel.ItemFilter
	page      keel.Page
	want      []int
	wantTotal int
}

func runListItems(t *testing.T, s keel.Store, stamps []stamp, cases []listItemsCase) {
	t.Helper()
	ids := stampIDs(stamps)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListItems(t.Context(), tc.filter, tc.page)
			wantNoError(t, "ListItems", err)
			checkIDs(t, "ListItems", itemIDs(got), pick(ids, tc.want...))
			if total != tc.wantTotal {
				t.Errorf("ListItems count = %d, want %d", total, tc.wantTotal)
			}
		})
	}
}
