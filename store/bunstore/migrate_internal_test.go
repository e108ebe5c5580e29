package bunstore

import (
	"slices"
	"testing"
)

func TestDrops(t *testing.T) {
	tests := []struct {
		name, sql string
		want      []string
	}{
		{"dropping tables drops them, in order", "DROP TABLE counters;\n\n--bun:split\n\nDROP TABLE reset_tokens;", []string{"table counters", "table reset_tokens"}},
		{"IF EXISTS, several names and CASCADE are read", "drop table if exists a, \"b\" ,c cascade;", []string{"table a", "table b", "table c"}},
		{"a dropped schema is listed", "DROP SCHEMA IF EXISTS tenant CASCADE", []string{"schema tenant"}},
		{"a dropped column is listed with its table", "ALTER TABLE items DROP COLUMN note;", []string{"column items.note"}},
		{"PostgreSQL's DROP without COLUMN is a column", "ALTER TABLE IF EXISTS ONLY items DROP IF EXISTS note, DROP COLUMN extra;", []string{"column items.note", "column items.extra"}},
		{"dropping a default, a constraint or NOT NULL loses nothing", "ALTER TABLE items ALTER COLUMN note DROP DEFAULT; ALTER TABLE items DROP CONSTRAINT fk; ALTER TABLE t ALTER c DROP NOT NULL;", nil},
		{"deleted rows are listed", "DELETE FROM sessions WHERE expires_at < now();", []string{"rows of sessions"}},
		{"truncated tables are listed", "TRUNCATE TABLE ONLY a, b RESTART IDENTITY;", []string{"rows of a", "rows of b"}},
		{"updated rows are listed as changed", "UPDATE users SET full_name = NULL;", []string{"rows of users (changed)"}},
		{"triggers, functions and indexes lose nothing", "DROP TRIGGER items_count_move ON items; DROP FUNCTION item_counts_move(); DROP INDEX items_owner;", nil},
		{"comments are not statements", "-- DROP TABLE users;\n/* DELETE FROM items; */ DROP VIEW v;", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := drops(tt.sql); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
