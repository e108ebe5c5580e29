package bunstore

import (
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/storetest"
)

// TestBrokenConnectionsAreReplaced ends the PostgreSQL backends of a
// Store's pool, whose connections hold prepared statements, and checks
// that no call fails for good: reads run again on a new connection at
// once, and a write fails at most once per connection that died.
func TestBrokenConnectionsAreReplaced(t *testing.T) {
	raw := pgtest.Schema(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	app := "keel_broken_" + uuid.NewString()[:8]
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s := openInternal(t, u.String())
	ctx := t.Context()
	now := storetest.Now()
	usr := storetest.NewUser()
	must(t, s.CreateUser(ctx, usr))
	sess := storetest.NewSession(usr.ID, now.Add(time.Hour))
	must(t, s.CreateSession(ctx, sess))

	// Fill the pool with connections that have prepared the hot queries.
	done := make(chan error)
	for range pgMaxOpenConns {
		go func() {
			_, _, err := s.FindSession(ctx, sess.TokenHash, now)
			if err == nil {
				must(t, s.CreateItem(ctx, storetest.NewItem(usr.ID)))
			}
			done <- err
		}()
	}
	for range pgMaxOpenConns {
		must(t, <-done)
	}

	admin := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(pgtest.URL(t))))
	t.Cleanup(func() { admin.Close() })
	var ended int
	err = admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&ended)
	if err != nil {
		t.Fatal(err)
	}
	if ended == 0 {
		t.Fatal("no backend of the store's pool was found to end")
	}
	time.Sleep(100 * time.Millisecond) // let the backends go

	t.Run("a read succeeds at once", func(t *testing.T) {
		if _, _, err := s.FindSession(ctx, sess.TokenHash, now); err != nil {
			t.Fatalf("FindSession after %d backends ended: %v", ended, err)
		}
	})
	t.Run("a write fails at most once per ended backend", func(t *testing.T) {
		fails := 0
		for fails <= ended {
			err := s.CreateItem(ctx, storetest.NewItem(usr.ID))
			if err == nil {
				break
			}
			fails++
		}
		if fails > ended {
			t.Fatalf("CreateItem failed %d times after %d backends ended", fails, ended)
		}
		if _, err := s.Item(ctx, uuid.New()); keel.ErrorCode(err) != keel.NotFound {
			t.Errorf("a missing item after the pool recovered: %v", err)
		}
	})
}

// TestParseTime checks that the times SQLite keeps read back as bun wrote
// them, to the microsecond and in UTC, through parseBunTime or the
// driver's other layouts.
func TestParseTime(t *testing.T) {
	bunText := func(tm time.Time) string {
		b := sqlitedialect.New().AppendTime(nil, tm)
		return string(b[1 : len(b)-1])
	}
	for _, tc := range []struct {
		name string
		text string
		want time.Time
	}{
		{"a time with microseconds reads back exactly", bunText(time.Date(2026, 11, 27, 17, 44, 5, 123456000, time.UTC)), time.Date(2026, 11, 27, 17, 44, 5, 123456000, time.UTC)},
		{"a time with fewer fraction digits reads back exactly", bunText(time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC)), time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC)},
		{"a whole second reads back exactly", bunText(time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC)), time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC)},
		{"a time bun wrote from another zone reads back in UTC", bunText(time.Date(2026, 6, 1, 2, 0, 0, 1000, time.FixedZone("CEST", 2*3600))), time.Date(2026, 6, 1, 0, 0, 0, 1000, time.UTC)},
		{"a leap day reads back", "2024-02-29 12:00:00+00:00", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"another offset reads back in UTC", "2026-06-01 02:00:00.5+02:00", time.Date(2026, 6, 1, 0, 0, 0, 500000000, time.UTC)},
		{"a T separator reads back", "2026-06-01T02:00:00Z", time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)},
		{"a date reads back", "2026-06-01", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTime(tc.text)
			if err != nil {
				t.Fatalf("parseTime(%q): %v", tc.text, err)
			}
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("parseTime(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, text string }{
		{"a day the month does not have is refused", "2026-02-30 12:00:00+00:00"},
		{"an hour out of range is refused", "2026-02-03 24:00:00+00:00"},
		{"text that is no time is refused", "yesterday"},
		{"an empty fraction is refused", "2026-02-03 12:00:00.+00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := parseTime(tc.text); err == nil {
				t.Errorf("parseTime(%q) = %v, want an error", tc.text, got)
			}
		})
	}
}

func TestScanTargets(t *testing.T) {
	id := uuid.MustParse("01a21ed5-2184-763c-9db8-3d9b6f2a7363")
	other := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	for _, tc := range []struct {
		name    string
		src     any
		want    uuid.UUID
		wantErr bool
	}{
		{"a UUID's text as bytes (pgdriver) is parsed", []byte(id.String()), id, false},
		{"a UUID's text as a string (SQLite) is parsed", id.String(), id, false},
		{"sixteen raw bytes are the UUID", id[:], id, false},
		{"NULL leaves the UUID as it was", nil, other, false},
		{"text that is no UUID is an error", []byte("01a21ed5-2184-763c-9db8-3d9b6f2a73zz"), other, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanUUID(other)
			err := got.Scan(tc.src)
			if (err != nil) != tc.wantErr || uuid.UUID(got) != tc.want {
				t.Errorf("Scan(%v) = %v, %v; want %v, error %v", tc.src, uuid.UUID(got), err, tc.want, tc.wantErr)
			}
		})
	}
	t.Run("microseconds since 1970 (PostgreSQL) scan as that time in UTC", func(t *testing.T) {
		want := time.Date(2026, 11, 27, 21, 6, 54, 443635000, time.UTC)
		var got scanTime
		if err := got.Scan(want.UnixMicro()); err != nil || !time.Time(got).Equal(want) || time.Time(got).Location() != time.UTC {
			t.Errorf("Scan(%d) = %v, %v; want %v", want.UnixMicro(), time.Time(got), err, want)
		}
	})
}
