package bunstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

const (
	msgAPITokenNotFound = "API token not found"
	msgAPITokenExists   = "API token already exists"
)

// CreateAPIToken inserts a token. Conflict when its hash or ID exists,
// NotFound when its user does not.
func (h *handle) CreateAPIToken(ctx context.Context, t *keel.APIToken) error {
	_, err := h.writer.NewInsert().Model(toAPITokenRow(t)).Exec(ctx)
	return storeError("create API token", err, msgUserNotFound, msgAPITokenExists)
}

// FindAPIToken returns the unexpired token with the hash and its user, in
// one query that joins api_tokens to users.
func (h *handle) FindAPIToken(ctx context.Context, tokenHash string, now time.Time) (*keel.APIToken, *keel.User, error) {
	if p := h.readStmts; p != nil {
		sc := apiTokenScans.Get().(*apiTokenScan)
		defer apiTokenScans.Put(sc)
		if err := p.queryRow(ctx, qFindAPIToken, []any{tokenHash, h.timeArg(now)}, sc.dest[:]); err != nil {
			return nil, nil, storeError("find API token", err, msgAPITokenNotFound, "")
		}
		return sc.row.token(), sc.user.user(), nil
	}
	var row apiTokenRow
	err := h.reader.NewSelect().Model(&row).
		Relation("User").
		Where("t.token_hash = ?", tokenHash).
		Where("t.expires_at > ?", now).
		Scan(ctx)
	if err != nil {
		return nil, nil, storeError("find API token", err, msgAPITokenNotFound, "")
	}
	if row.User == nil || row.User.ID == uuid.Nil {
		// The foreign key makes this impossible; never hand out a token
		// without its user.
		return nil, nil, notFound("find API token", msgAPITokenNotFound)
	}
	return row.token(), row.User.user(), nil
}

// ListUserAPITokens returns the user's unexpired tokens, newest first,
// through the index on user_id.
func (h *handle) ListUserAPITokens(ctx context.Context, userID uuid.UUID, now time.Time) ([]*keel.APIToken, error) {
	var rows []apiTokenRow
	err := h.reader.NewSelect().Model(&rows).
		Where("user_id = ?", userID).
		Where("expires_at > ?", now).
		OrderExpr("created_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, storeError("list user API tokens", err, "", "")
	}
	out := make([]*keel.APIToken, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// DeleteUserAPIToken deletes the token with the ID if it is the user's;
// NotFound when no row matched.
func (h *handle) DeleteUserAPIToken(ctx context.Context, userID, id uuid.UUID) error {
	res, err := h.writer.NewDelete().Model((*apiTokenRow)(nil)).
		Where("id = ?", id).
		Where("user_id = ?", userID).
		Exec(ctx)
	if err != nil {
		return storeError("delete user API token", err, "", "")
	}
	return requireRow("delete user API token", res, msgAPITokenNotFound)
}

// DeleteUserAPITokens deletes every token of the user.
func (h *handle) DeleteUserAPITokens(ctx context.Context, userID uuid.UUID) (int64, error) {
	res, err := h.writer.NewDelete().Model((*apiTokenRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, storeError("delete user API tokens", err, "", "")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, storeError("delete user API tokens", err, "", "")
	}
	return n, nil
}

// TouchAPIToken moves last_used_at forward with one conditional UPDATE.
func (h *handle) TouchAPIToken(ctx context.Context, id uuid.UUID, at time.Time) error {
	_, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
		return h.writer.NewUpdate().Conn(conn).Model((*apiTokenRow)(nil)).
			Set("last_used_at = ?", at).
			Where("id = ?", id).
			WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
				return q.Where("last_used_at IS NULL").WhereOr("last_used_at < ?", at)
			}).
			Exec(ctx)
	})
	return storeError("touch API token", err, "", "")
}
