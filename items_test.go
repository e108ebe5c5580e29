package keel_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

func TestItemOwnership(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")
	bob := e.signUp(t, "bob@example.com")
	it, err := e.svc.CreateItem(ctx, ada, keel.CreateItemInput{Title: "ada's", Description: ptr("mine")})
	if err != nil {
		t.Fatal(err)
	}
	if it.OwnerID != ada.ID || it.ID.Version() != 7 {
		t.Fatalf("item = %+v", it)
	}

	tests := []struct {
		name  string
		actor *keel.User
		id    uuid.UUID
		want  error
	}{
		{"the owner sees its item", ada, it.ID, nil},
		{"a superuser sees any item", root, it.ID, nil},
		{"someone else's item is not found", bob, it.ID, keel.ErrItemNotFound},
		{"a missing item is not found", ada, uuid.Must(uuid.NewV7()), keel.ErrItemNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name+" (get)", func(t *testing.T) {
			_, err := e.svc.Item(ctx, tt.actor, tt.id)
			if tt.want != nil {
				wantErr(t, err, tt.want)
			} else if err != nil {
				t.Fatal(err)
			}
		})
		t.Run(tt.name+" (update)", func(t *testing.T) {
			_, err := e.svc.UpdateItem(ctx, tt.actor, tt.id, keel.UpdateItemInput{Title: keel.Some("renamed")})
			if tt.want != nil {
				wantErr(t, err, tt.want)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("someone else cannot delete the item", func(t *testing.T) {
		wantErr(t, e.svc.DeleteItem(ctx, bob, it.ID), keel.ErrItemNotFound)
		if _, err := e.svc.Item(ctx, ada, it.ID); err != nil {
			t.Fatal("the item is gone")
		}
	})
	t.Run("the owner deletes the item", func(t *testing.T) {
		if err := e.svc.DeleteItem(ctx, ada, it.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.svc.DeleteItem(ctx, ada, it.ID), keel.ErrItemNotFound)
	})
}

func TestListItems(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")
	bob := e.signUp(t, "bob@example.com")
	for i := range 5 {
		e.clock.Advance(time.Second)
		owner := ada
		if i%2 == 1 {
			owner = bob
		}
		if _, err := e.svc.CreateItem(ctx, owner, keel.CreateItemInput{Title: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		actor  *keel.User
		opts   keel.ListOptions
		count  int
		titles string
	}{
		{"a user sees only its own items, newest first", ada, keel.ListOptions{}, 3, "e,c,a"},
		{"a superuser sees every item", root, keel.ListOptions{}, 5, "e,d,c,b,a"},
		{"paging keeps the total count", root, keel.ListOptions{Skip: 1, Limit: 2}, 5, "d,c"},
		{"a page past the end is empty", bob, keel.ListOptions{Skip: 10}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, n, err := e.svc.Items(ctx, tt.actor, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, it := range items {
				titles = append(titles, it.Title)
			}
			if n != tt.count || strings.Join(titles, ",") != tt.titles {
				t.Fatalf("count = %d, titles = %v", n, titles)
			}
		})
	}
}

func TestUpdateItem(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ada := e.signUp(t, "ada@example.com")
	it, err := e.svc.CreateItem(ctx, ada, keel.CreateItemInput{Title: "title", Description: ptr("desc")})
	if err != nil {
		t.Fatal(err)
	}
	decode := func(t *testing.T, s string) keel.UpdateItemInput {
		var in keel.UpdateItemInput
		if err := json.Unmarshal([]byte(s), &in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	t.Run("absent fields stay", func(t *testing.T) {
		got, err := e.svc.UpdateItem(ctx, ada, it.ID, decode(t, `{"title":"new"}`))
		if err != nil || got.Title != "new" || *got.Description != "desc" {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("a null description clears it", func(t *testing.T) {
		got, err := e.svc.UpdateItem(ctx, ada, it.ID, decode(t, `{"description":null}`))
		if err != nil || got.Description != nil || got.Title != "new" {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("a null title does not decode", func(t *testing.T) {
		var in keel.UpdateItemInput
		if err := json.Unmarshal([]byte(`{"title":null}`), &in); err == nil {
			t.Fatal("null title accepted")
		}
	})
	t.Run("an empty title is invalid", func(t *testing.T) {
		_, err := e.svc.UpdateItem(ctx, ada, it.ID, decode(t, `{"title":""}`))
		wantCode(t, err, keel.Invalid)
	})
	t.Run("a 256-character description is invalid", func(t *testing.T) {
		_, err := e.svc.UpdateItem(ctx, ada, it.ID, keel.UpdateItemInput{Description: keel.Some(ptr(strings.Repeat("d", 256)))})
		wantCode(t, err, keel.Invalid)
	})
}

func TestCreateItemValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ada := e.signUp(t, "ada@example.com")
	tests := []struct {
		name string
		in   keel.CreateItemInput
		ok   bool
	}{
		{"a title is enough", keel.CreateItemInput{Title: "t"}, true},
		{"255 characters of title are fine", keel.CreateItemInput{Title: strings.Repeat("t", 255)}, true},
		{"an empty title is invalid", keel.CreateItemInput{}, false},
		{"256 characters of title are invalid", keel.CreateItemInput{Title: strings.Repeat("t", 256)}, false},
		{"256 characters of description are invalid", keel.CreateItemInput{Title: "t", Description: ptr(strings.Repeat("d", 256))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateItem(ctx, ada, tt.in)
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok {
				wantCode(t, err, keel.Invalid)
			}
		})
	}
	t.Run("an inactive actor cannot create items", func(t *testing.T) {
		off := *ada
		off.IsActive = false
		_, err := e.svc.CreateItem(ctx, &off, keel.CreateItemInput{Title: "t"})
		wantErr(t, err, keel.ErrInactiveUser)
	})
}
