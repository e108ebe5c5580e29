package memstore

import (
	"bytes"
	"context"
)

// LoadOrStoreSecret returns the secret with the name, storing a copy of
// value first when there is none.
func (h *handle) LoadOrStoreSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	var out []byte
	err := h.write(ctx, func(d *db, log *undoLog) error {
		stored, ok := d.secrets[name]
		if !ok {
			stored = bytes.Clone(value)
			set(log, d.secrets, name, stored)
		}
		out = bytes.Clone(stored)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
