package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// itemPublic is an item as the API shows it.
type itemPublic struct {
	ID          uuid.UUID `json:"id" required:"true" format:"uuid"`
	Title       string    `json:"title" required:"true" minLength:"1" maxLength:"255"`
	Description *string   `json:"description" required:"true" maxLength:"255"`
	OwnerID     uuid.UUID `json:"owner_id" required:"true" format:"uuid"`
	CreatedAt   time.Time `json:"created_at" required:"true"`
}

// itemsPublic is a page of items with the total count. NextCursor, keel's
// addition to the template's {data, count}, is there only when the page is
// full: passed as ?cursor=, it asks for the page after this one.
type itemsPublic struct {
	Data       []itemPublic `json:"data" required:"true" nullable:"false"`
	Count      int          `json:"count" required:"true" minimum:"0"`
	NextCursor string       `json:"next_cursor,omitempty" description:"When the page is full: the cursor query parameter of the next page."`
}

func newItemPublic(it *keel.Item) itemPublic {
	return itemPublic{ID: it.ID, Title: it.Title, Description: it.Description, OwnerID: it.OwnerID, CreatedAt: it.CreatedAt.UTC()}
}

// itemIDPath is the path parameter of the /items/{id} routes.
type itemIDPath struct {
	ID uuid.UUID `path:"id" format:"uuid"`
}

func readItems(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	q := r.URL.Query() // parsed once for the page and the cursor
	opts, err := parsePage(q, a.svc)
	if err != nil {
		return err
	}
	opts.Cursor = q.Get("cursor")
	p, err := a.svc.ItemsPage(r.Context(), sess.User, opts)
	if err != nil {
		return err
	}
	out := itemsPublic{Data: make([]itemPublic, len(p.Items)), Count: p.Count, NextCursor: p.Next}
	for i, it := range p.Items {
		out.Data[i] = newItemPublic(it)
	}
	writeJSON(w, http.StatusOK, &out)
	return nil
}

func createItem(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.CreateItemInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	it, err := a.svc.CreateItem(r.Context(), sess.User, in)
	if err != nil {
		return err
	}
	item := newItemPublic(it)
	writeJSON(w, http.StatusCreated, &item)
	return nil
}

// prefetchItem has the item of the path read with the session (one store
// round trip instead of two); a malformed id is left for readItem to
// refuse.
func prefetchItem(ctx context.Context, r *http.Request) context.Context {
	if id, err := pathUUID(r, "id"); err == nil {
		return keel.WithItemPrefetch(ctx, id)
	}
	return ctx
}

func readItem(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	it, err := a.svc.Item(r.Context(), sess.User, id)
	if err != nil {
		return err
	}
	item := newItemPublic(it)
	writeJSON(w, http.StatusOK, &item)
	return nil
}

func updateItem(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	var in keel.UpdateItemInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	it, err := a.svc.UpdateItem(r.Context(), sess.User, id, in)
	if err != nil {
		return err
	}
	item := newItemPublic(it)
	writeJSON(w, http.StatusOK, &item)
	return nil
}

func deleteItem(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	if err := a.svc.DeleteItem(r.Context(), sess.User, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Item deleted successfully"})
	return nil
}
