package keel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

func TestCursor(t *testing.T) {
	t.Run("a cursor reads back as the same position", func(t *testing.T) {
		c := keel.Cursor{CreatedAt: time.Date(2025, 6, 1, 12, 30, 0, 123456000, time.UTC), ID: uuid.Must(uuid.NewV7())}
		s := c.String()
		if strings.ContainsAny(s, "+/=") || len(s) != 34 {
			t.Errorf("cursor %q is not 34 characters of unpadded base64url", s)
		}
		got, err := keel.ParseCursor(s)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(c.CreatedAt) || got.CreatedAt.Location() != time.UTC || got.ID != c.ID {
			t.Errorf("ParseCursor(%q) = %+v, want %+v", s, got, c)
		}
	})
	t.Run("a time before 1970 survives", func(t *testing.T) {
		c := keel.Cursor{CreatedAt: time.Date(1960, 1, 1, 0, 0, 0, 1000, time.UTC), ID: uuid.Must(uuid.NewV7())}
		got, err := keel.ParseCursor(c.String())
		if err != nil || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("ParseCursor = %+v, %v, want %+v", got, err, c)
		}
	})
	valid := keel.Cursor{CreatedAt: time.Now(), ID: uuid.Must(uuid.NewV7())}.String()
	for _, tc := range []struct{ name, in string }{
		{"not base64", "not a cursor!"},
		{"padded base64", valid + "=="},
		{"too short", valid[:20]},
		{"too long", valid + "AA"},
		{"an unknown version", "Ag" + valid[2:]},
		{"empty", ""},
	} {
		t.Run("a malformed cursor is an Invalid error on the cursor field: "+tc.name, func(t *testing.T) {
			_, err := keel.ParseCursor(tc.in)
			wantCursorError(t, err)
		})
	}
}

func wantCursorError(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, keel.Invalid)
	var ke *keel.Error
	if !errors.As(err, &ke) || len(ke.Fields) != 1 || ke.Fields[0].Field != "cursor" {
		t.Fatalf("err = %#v, want one field error on cursor", err)
	}
}

func TestItemsPageByCursor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")
	bob := e.signUp(t, "bob@example.com")
	for i := range 7 {
		if i%2 == 0 {
			e.clock.Advance(time.Second) // pairs share a CreatedAt
		}
		owner := ada
		if i%3 == 2 {
			owner = bob
		}
		if _, err := e.svc.CreateItem(ctx, owner, keel.CreateItemInput{Title: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	walk := func(t *testing.T, actor *keel.User, limit int) (titles []string, counts []int) {
		t.Helper()
		opts := keel.ListOptions{Limit: limit}
		for range 20 {
			p, err := e.svc.ItemsPage(ctx, actor, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				titles = append(titles, it.Title)
			}
			counts = append(counts, p.Count)
			if len(p.Items) < limit && p.Next != "" {
				t.Errorf("a short page of %d (limit %d) has a next cursor", len(p.Items), limit)
			}
			if p.Next == "" {
				return titles, counts
			}
			opts.Cursor = p.Next
		}
		t.Fatal("the walk did not end")
		return nil, nil
	}
	for _, tc := range []struct {
		name  string
		actor *keel.User
		limit int
		want  string
		count int
	}{
		{"a superuser walks every item by cursor", root, 2, "g,f,e,d,c,b,a", 7},
		{"a superuser walks with a limit that divides the total", root, 7, "g,f,e,d,c,b,a", 7},
		{"a user walks only its own items", ada, 2, "g,e,d,b,a", 5},
		{"a user walks one item at a time", ada, 1, "g,e,d,b,a", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			titles, counts := walk(t, tc.actor, tc.limit)
			// Items come in pairs that share a CreatedAt; within a pair
			// the later (the larger UUIDv7) comes first.
			if got := strings.Join(titles, ","); got != tc.want {
				t.Errorf("titles = %s, want %s", got, tc.want)
			}
			for _, n := range counts {
				if n != tc.count {
					t.Errorf("counts = %v, want %d on every page", counts, tc.count)
					break
				}
			}
		})
	}
	t.Run("a user's cursor over someone else's items still shows only its own", func(t *testing.T) {
		p, err := e.svc.ItemsPage(ctx, root, keel.ListOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		p2, err := e.svc.ItemsPage(ctx, bob, keel.ListOptions{Cursor: p.Next})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p2.Items {
			if it.OwnerID != bob.ID {
				t.Fatalf("bob sees %+v", it)
			}
		}
		if len(p2.Items) != 2 || p2.Count != 2 {
			t.Errorf("bob's page after the newest item: %d items, count %d; want 2, 2", len(p2.Items), p2.Count)
		}
	})
	t.Run("Items takes a cursor too", func(t *testing.T) {
		p, err := e.svc.ItemsPage(ctx, root, keel.ListOptions{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		items, n, err := e.svc.Items(ctx, root, keel.ListOptions{Cursor: p.Next, Limit: 1})
		if err != nil || n != 7 || len(items) != 1 || items[0].Title != "d" {
			t.Fatalf("Items after the first 3 = %v, %d, %v", items, n, err)
		}
	})
	t.Run("a malformed cursor is an Invalid error on the cursor field", func(t *testing.T) {
		_, err := e.svc.ItemsPage(ctx, ada, keel.ListOptions{Cursor: "garbage"})
		wantCursorError(t, err)
	})
	t.Run("users are not paged by cursor", func(t *testing.T) {
		p, err := e.svc.ItemsPage(ctx, root, keel.ListOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.svc.Users(ctx, root, keel.ListOptions{Cursor: p.Next})
		wantCursorError(t, err)
	})
}

// A huge cursor is refused as Malformed before it is decoded. (How much
// of it an answer echoes is the adapter's to bound: httpapi echoes 64
// bytes of any rejected value.)
func TestAHugeCursorIsRefused(t *testing.T) {
	huge := strings.Repeat("A", 100000)
	_, err := keel.ParseCursor(huge)
	var e *keel.Error
	if !errors.As(err, &e) || e.Code != keel.Invalid || len(e.Fields) != 1 || e.Fields[0].Violation != keel.Malformed {
		t.Fatalf("err = %v", err)
	}
}
