package bunstore

import (
	"context"

	"github.com/uptrace/bun"
)

// LoadOrStoreSecret inserts the secret unless one with the name exists
// (ON CONFLICT DO NOTHING, which waits for a concurrent insert of the name
// to commit or roll back) and reads back whichever is stored, in one
// transaction.
func (h *handle) LoadOrStoreSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	var row secretRow
	err := h.atomically(ctx, func(db bun.IDB) error {
		_, err := db.NewInsert().Model(&secretRow{Name: name, Value: value}).On("CONFLICT (name) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		return db.NewSelect().Model(&row).Where("name = ?", name).Scan(ctx)
	})
	if err != nil {
		return nil, storeError("load or store secret", err, "", "")
	}
	return row.Value, nil
}
