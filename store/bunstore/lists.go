package bunstore

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

// page applies p to q.
func page(q *bun.SelectQuery, p keel.Page) *bun.SelectQuery {
	limit := p.Limit
	if limit < 1 {
		limit = 1
	}
	return q.Offset(int64(max(p.Offset, 0))).Limit(int64(limit))
}

// count returns the total number of rows q (a query without order, offset
// or limit) matches, given that the page p of it held n rows. When the page
// is the last one and starts at a known position (no p.After), the total
// follows from it and the count query is not run.
func count(ctx context.Context, p keel.Page, n int, q *bun.SelectQuery) (int, error) {
	if total, ok := pageTotal(p, n); ok {
		return total, nil
	}
	n64, err := q.Count(ctx)
	return int(n64), err
}

// pageTotal returns the total number of rows of a list whose page p held
// n rows, when the page tells it: when it is the last page and starts at a
// known position (no p.After).
func pageTotal(p keel.Page, n int) (int, bool) {
	offset := max(p.Offset, 0)
	if p.After == nil && (n > 0 && n < p.Limit || n == 0 && offset == 0) {
		return offset + n, true
	}
	return 0, false
}
