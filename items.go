package keel

import (
	"context"
	"errors"
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

// CreateItemInput is a new item.
type CreateItemInput struct {
	Title       string  `json:"title" required:"true" validate:"text,min=1,max=255"`
	Description *string `json:"description" validate:"omitnil,multiline,max=255"`
}

// plainlyValid is the validate tags of CreateItemInput without the
// validator (see quickValidated); a test holds the two to each other.
func (in CreateItemInput) plainlyValid() bool {
	return fitsText("text", in.Title, 1, 255) &&
		(in.Description == nil || fitsText("multiline", *in.Description, 0, 255))
}

// UpdateItemInput changes an item. Absent fields stay.
type UpdateItemInput struct {
	Title       Optional[string]  `json:"title" optional:"text,min=1,max=255"`
	Description Optional[*string] `json:"description" optional:"multiline,max=255"`
}

// CreateItem creates an item owned by the actor.
func (s *Service) CreateItem(ctx context.Context, actor *User, in CreateItemInput) (*Item, error) {
	if err := requireActive(actor, toWrite); err != nil {
		return nil, err
	}
	if err := s.validate(in); err != nil {
		return nil, err
	}
	now := s.now()
	it := &Item{ID: newID(), Title: in.Title, Description: in.Description, OwnerID: actor.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.db(ctx).CreateItem(ctx, it); err != nil {
		// The owner vanished between authentication and now.
		return nil, itemError(err, ErrUserNotFound)
	}
	return it, nil
}

// Item returns an item the actor may see: its own, or any for a superuser.
// Someone else's item is ErrItemNotFound, exactly like a missing one, so
// ids do not leak existence.
func (s *Service) Item(ctx context.Context, actor *User, id uuid.UUID) (*Item, error) {
	if err := requireActive(actor, toRead); err != nil {
		return nil, err
	}
	it, err := s.item(ctx, actor.ID, id)
	if err != nil {
		return nil, err
	}
	if !canSee(actor, it) {
		return nil, ErrItemNotFound
	}
	return it, nil
}

// item reads the item with the id: from ctx's prefetch when it holds it
// for the user (WithItemPrefetch), else from the store.
func (s *Service) item(ctx context.Context, userID, id uuid.UUID) (*Item, error) {
	if p := s.itemPrefetchOf(ctx); p != nil {
		if it, ok := p.take(id, userID); ok {
			if it == nil {
				return nil, ErrItemNotFound
			}
			return it, nil
		}
	}
	it, err := s.db(ctx).Item(ctx, id)
	if err != nil {
		return nil, itemError(err, ErrItemNotFound)
	}
	return it, nil
}

// ItemPage is a page of items with the total count.
type ItemPage struct {
	Items []*Item
	// Count is the number of items the actor may see in all, not only on
	// this page or after its cursor.
	Count int
	// Next is the cursor (ListOptions.Cursor) of the page after this one
	// when this page is full; "" when it is shorter than its limit, and so
	// the last.
	Next string
}

// Items lists the items the actor may see, newest first, with the total
// count: a superuser sees all, anyone else only its own. ItemsPage also
// returns the cursor of the next page.
func (s *Service) Items(ctx context.Context, actor *User, opts ListOptions) ([]*Item, int, error) {
	p, err := s.ItemsPage(ctx, actor, opts)
	if err != nil {
		return nil, 0, err
	}
	return p.Items, p.Count, nil
}

// ItemsPage is Items with the cursor of the next page: a malformed
// opts.Cursor is an Invalid error on the field "cursor".
func (s *Service) ItemsPage(ctx context.Context, actor *User, opts ListOptions) (ItemPage, error) {
	if err := requireActive(actor, toRead); err != nil {
		return ItemPage{}, err
	}
	p, err := s.page(opts)
	if err != nil {
		return ItemPage{}, err
	}
	var f ItemFilter
	if !actor.IsSuperuser {
		f.OwnerID = actor.ID
	}
	items, n, err := s.db(ctx).ListItems(ctx, f, p)
	if err != nil {
		return ItemPage{}, classify(err, Internal)
	}
	out := ItemPage{Items: items, Count: n}
	if len(items) > 0 && len(items) >= p.Limit {
		out.Next = CursorOf(items[len(items)-1]).String()
	}
	return out, nil
}

// UpdateItem changes the fields given of an item the actor may see.
func (s *Service) UpdateItem(ctx context.Context, actor *User, id uuid.UUID, in UpdateItemInput) (*Item, error) {
	if err := requireActive(actor, toWrite); err != nil {
		return nil, err
	}
	if err := s.validate(in); err != nil {
		return nil, err
	}
	var out *Item
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		it, err := tx.Item(ctx, id)
		if err != nil {
			return err
		}
		if !canSee(actor, it) {
			return ErrItemNotFound
		}
		if in.Title.Set {
			it.Title = in.Title.Value
		}
		if in.Description.Set {
			it.Description = in.Description.Value
		}
		it.UpdatedAt = s.now()
		if err := tx.UpdateItem(ctx, it); err != nil {
			return err
		}
		out = it
		return nil
	})
	if err != nil {
		return nil, itemError(err, ErrItemNotFound)
	}
	return out, nil
}

// DeleteItem deletes an item the actor may see.
func (s *Service) DeleteItem(ctx context.Context, actor *User, id uuid.UUID) error {
	if err := requireActive(actor, toWrite); err != nil {
		return err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		it, err := tx.Item(ctx, id)
		if err != nil {
			return err
		}
		if !canSee(actor, it) {
			return ErrItemNotFound
		}
		return tx.DeleteItem(ctx, id)
	})
	if err != nil {
		return itemError(err, ErrItemNotFound)
	}
	return nil
}

func canSee(actor *User, it *Item) bool { return actor.IsSuperuser || it.OwnerID == actor.ID }

// itemError gives a store error on an item its meaning: a missing row is
// notFound (ErrItemNotFound, or ErrUserNotFound for a vanished owner).
func itemError(err error, notFound *Error) error {
	if v, ok := vetoed(err); ok {
		return v
	}
	if ErrorCode(err) == NotFound {
		if errors.Is(err, ErrItemNotFound) {
			return err
		}
		return notFound.withCause(err)
	}
	return classify(err, Internal)
}
