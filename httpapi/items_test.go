package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/memstore"
)

func TestItems(t *testing.T) {
	e := newEnv(t)
	alice, atok := e.userToken("alice@example.com", false)
	_, btok := e.userToken("bob@example.com", false)
	_, su := e.userToken("root@example.com", true)

	create := func(tok, title string) string {
		t.Helper()
		res := e.do(req{method: "POST", path: "/items/", bearer: tok, json: map[string]any{"title": title, "description": "d"}})
		expect(t, res, 201, "")
		id, _ := res.json(t)["id"].(string)
		return id
	}
	a1 := create(atok, "a1")
	create(atok, "a2")
	b1 := create(btok, "b1")

	t.Run("a created item is owned by the caller", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/items", bearer: atok, json: map[string]any{"title": "a3", "owner_id": uuid.NewString(), "id": uuid.NewString()}})
		expect(t, res, 201, "")
		if m := res.json(t); m["owner_id"] != alice.ID.String() || m["description"] != nil {
			t.Fatalf("item %s", res.body)
		}
	})
	t.Run("a user lists only its own items, newest first", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/items/?limit=2", bearer: atok})
		expect(t, res, 200, "")
		m := res.json(t)
		data := m["data"].([]any)
		if m["count"] != float64(3) || len(data) != 2 || data[0].(map[string]any)["title"] != "a3" {
			t.Fatalf("items %s", res.body)
		}
	})
	t.Run("a superuser lists every item", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/items", bearer: su})
		expect(t, res, 200, "")
		if res.json(t)["count"] != float64(4) {
			t.Fatalf("items %s", res.body)
		}
	})
	t.Run("the owner reads its item", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/items/" + a1, bearer: atok}), 200, "")
	})
	t.Run("someone else's item answers 404 like a missing one", func(t *testing.T) {
		for _, q := range []req{
			{method: "GET", path: "/items/" + b1},
			{method: "PUT", path: "/items/" + b1, json: map[string]any{"title": "stolen"}},
			{method: "DELETE", path: "/items/" + b1},
			{method: "GET", path: "/items/" + uuid.NewString()},
		} {
			q.bearer = atok
			expect(t, e.do(q), 404, "Item not found")
		}
	})
	t.Run("PUT changes only the fields given", func(t *testing.T) {
		res := e.do(req{method: "PUT", path: "/items/" + a1, bearer: atok, json: map[string]any{"title": "renamed"}})
		expect(t, res, 200, "")
		if m := res.json(t); m["title"] != "renamed" || m["description"] != "d" {
			t.Fatalf("item %s", res.body)
		}
	})
	t.Run("PUT with null clears the description", func(t *testing.T) {
		res := e.do(req{method: "PUT", path: "/items/" + a1, bearer: atok, json: map[string]any{"description": nil}})
		expect(t, res, 200, "")
		if m := res.json(t); m["description"] != nil {
			t.Fatalf("item %s", res.body)
		}
	})
	for _, tc := range []struct {
		name, method, path string
		body               any
		typ, loc, field    string
	}{
		{"an empty title answers 422", "POST", "/items/", map[string]any{"title": ""}, "string_too_short", "body", "title"},
		{"a missing title answers 422", "POST", "/items/", map[string]any{"description": "x"}, "missing", "body", "title"},
		{"a title over 255 characters answers 422", "POST", "/items/", map[string]any{"title": strings.Repeat("t", 256)}, "string_too_long", "body", "title"},
		{"a number for a title answers 422", "PUT", "/items/" + a1, map[string]any{"title": 7}, "string_type", "body", "title"},
		{"null for a title answers 422", "PUT", "/items/" + a1, map[string]any{"title": nil}, "string_type", "body", "title"},
		{"a malformed item id answers 422 at the path", "GET", "/items/not-a-uuid", nil, "uuid_parsing", "path", "id"},
		{"a malformed item id in PUT answers 422 at the path", "PUT", "/items/123", map[string]any{"title": "x"}, "uuid_parsing", "path", "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if list := validationDetail(t, e.do(req{method: tc.method, path: tc.path, bearer: atok, json: tc.body})); !hasEntry(list, tc.typ, tc.loc, tc.field) {
				t.Fatalf("list %v", list)
			}
		})
	}
	t.Run("the owner deletes its item", func(t *testing.T) {
		res := e.do(req{method: "DELETE", path: "/items/" + a1, bearer: atok})
		expect(t, res, 200, "")
		if res.json(t)["message"] != "Item deleted successfully" {
			t.Fatalf("answer %s", res.body)
		}
		expect(t, e.do(req{method: "GET", path: "/items/" + a1, bearer: atok}), 404, "Item not found")
	})
	t.Run("a superuser deletes anyone's item", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/items/" + b1, bearer: su}), 200, "")
	})
}

func TestRequestBodies(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	for _, tc := range []struct {
		name   string
		q      req
		status int
		typ    string
	}{
		{"malformed JSON answers 422 json_invalid", req{raw: `{"title": `, header: map[string]string{"Content-Type": "application/json"}}, 422, "json_invalid"},
		{"trailing data after the JSON answers 422 json_invalid", req{raw: `{"title": "x"} {}`, header: map[string]string{"Content-Type": "application/json"}}, 422, "json_invalid"},
		{"a JSON array answers 422", req{raw: `[1,2]`, header: map[string]string{"Content-Type": "application/json"}}, 422, "model_attributes_type"},
		{"an empty body answers 422 missing", req{header: map[string]string{"Content-Type": "application/json"}}, 422, "missing"},
		{"a text/plain body answers 415", req{raw: `{"title":"x"}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, ""},
		{"a form body answers 415", req{raw: `title=x`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, ""},
		{"a body over 1 MiB answers 413", req{raw: `{"title":"` + strings.Repeat("x", 1<<20) + `"}`, header: map[string]string{"Content-Type": "application/json"}}, 413, ""},
		{"JSON with a charset parameter is accepted", req{raw: `{"title":"x"}`, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}}, 201, ""},
		{"JSON without a content type is accepted", req{raw: `{"title":"x"}`}, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.method, q.path, q.bearer = "POST", "/items/", tok
			res := e.do(q)
			if tc.status == 422 {
				list := validationDetail(t, res)
				if list[0]["type"] != tc.typ {
					t.Fatalf("list %v", list)
				}
				return
			}
			expect(t, res, tc.status, "")
		})
	}
}

func TestItemsByCursor(t *testing.T) {
	e := newEnv(t)
	_, atok := e.userToken("alice@example.com", false)
	_, btok := e.userToken("bob@example.com", false)
	var want []string // newest first
	for i := range 5 {
		res := e.do(req{method: "POST", path: "/items/", bearer: atok, json: map[string]any{"title": fmt.Sprint("a", i)}})
		expect(t, res, 201, "")
		want = append([]string{res.json(t)["title"].(string)}, want...)
	}
	expect(t, e.do(req{method: "POST", path: "/items/", bearer: btok, json: map[string]any{"title": "b"}}), 201, "")

	t.Run("following next_cursor walks every item once, newest first, with the total count on every page", func(t *testing.T) {
		var got []string
		path := "/items/?limit=2"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("the walk did not end")
			}
			res := e.do(req{method: "GET", path: path, bearer: atok})
			expect(t, res, 200, "")
			m := res.json(t)
			if m["count"] != float64(5) {
				t.Fatalf("count on page %d: %s", pages, res.body)
			}
			for _, d := range m["data"].([]any) {
				got = append(got, d.(map[string]any)["title"].(string))
			}
			next, ok := m["next_cursor"].(string)
			if !ok {
				if len(m["data"].([]any)) == 2 {
					t.Fatalf("a full page without next_cursor: %s", res.body)
				}
				break
			}
			path = "/items/?limit=2&cursor=" + url.QueryEscape(next)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("titles %v, want %v", got, want)
		}
	})
	t.Run("a short page has no next_cursor: the answer is the template's {data, count}", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/items/", bearer: atok})
		expect(t, res, 200, "")
		m := res.json(t)
		if _, ok := m["next_cursor"]; ok || len(m) != 2 {
			t.Errorf("answer %s, want only data and count", res.body)
		}
	})
	t.Run("skip applies after the cursor", func(t *testing.T) {
		first := e.do(req{method: "GET", path: "/items/?limit=1", bearer: atok}).json(t)
		res := e.do(req{method: "GET", path: "/items/?limit=1&skip=1&cursor=" + first["next_cursor"].(string), bearer: atok})
		expect(t, res, 200, "")
		if data := res.json(t)["data"].([]any); len(data) != 1 || data[0].(map[string]any)["title"] != want[2] {
			t.Errorf("page %s, want %s", res.body, want[2])
		}
	})
	t.Run("a malformed cursor is a 422 at query.cursor", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/items/?cursor=nope", bearer: atok})
		expect(t, res, 422, "")
		var v struct {
			Detail []struct {
				Type string `json:"type"`
				Loc  []any  `json:"loc"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(res.body, &v); err != nil || len(v.Detail) != 1 ||
			fmt.Sprint(v.Detail[0].Loc) != "[query cursor]" {
			t.Errorf("answer %s", res.body)
		}
	})
	t.Run("the users list ignores a cursor parameter", func(t *testing.T) {
		_, su := e.userToken("root@example.com", true)
		next := e.do(req{method: "GET", path: "/items/?limit=1", bearer: su}).json(t)["next_cursor"].(string)
		expect(t, e.do(req{method: "GET", path: "/users/?cursor=" + next, bearer: su}), 200, "")
	})
}

func TestReadingAnItemReadsItWithTheSession(t *testing.T) {
	st := &keeltest.CountingStore{Store: memstore.New()}
	e := newEnvOn(t, st)
	_, atok := e.userToken("alice@example.com", false)
	_, btok := e.userToken("bob@example.com", false)
	res := e.do(req{method: "POST", path: "/items/", bearer: atok, json: map[string]any{"title": "a1"}})
	expect(t, res, 201, "")
	a1, _ := res.json(t)["id"].(string)

	for _, tc := range []struct {
		name   string
		q      req
		status int
		want   map[string]int
	}{
		{"the owner's GET is one round trip", req{method: "GET", path: "/items/" + a1, bearer: atok}, 200,
			map[string]int{"FindSessionItem": 1}},
		{"another user's GET is one round trip and 404", req{method: "GET", path: "/items/" + a1, bearer: btok}, 404,
			map[string]int{"FindSessionItem": 1}},
		{"a missing item's GET is one round trip and 404", req{method: "GET", path: "/items/" + uuid.NewString(), bearer: atok}, 404,
			map[string]int{"FindSessionItem": 1}},
		{"a malformed id is looked up with the session alone and answers 422", req{method: "GET", path: "/items/nope", bearer: atok}, 422,
			map[string]int{"FindSession": 1}},
		{"a PUT reads the session, then the item in its transaction", req{method: "PUT", path: "/items/" + a1, bearer: atok, json: map[string]any{"title": "b"}}, 200,
			map[string]int{"FindSession": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st.Take()
			res := e.do(tc.q)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.body)
			}
			if got := st.Take(); !maps.Equal(got, tc.want) {
				t.Errorf("store reads %v, want %v", got, tc.want)
			}
		})
	}
}
