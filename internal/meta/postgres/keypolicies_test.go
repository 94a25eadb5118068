package postgres

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

// TestMigrateSchema1: a database at schema 1 (before key policies) is
// brought to the current schema at Open, keeping its data, and then keeps
// key policies.
func TestMigrateSchema1(t *testing.T) {
	if SchemaVersion() < 2 {
		t.Fatalf("SchemaVersion = %d, want at least 2", SchemaVersion())
	}
	conn, url := closedWithBucket(t)
	if _, err := conn.Exec(ctx, "DROP TABLE key_policies; DROP TABLE pending_blobs; UPDATE schema_version SET version = 1"); err != nil {
		t.Fatal(err)
	}
	s2 := openURL(t, url)
	if _, err := s2.GetBucket(ctx, "b"); err != nil {
		t.Fatalf("bucket after migration: %v", err)
	}
	if _, err := s2.GetKeyPolicy(ctx, "k"); !errors.Is(err, meta.ErrNoSuchKeyPolicy) {
		t.Fatalf("get after migration: %v, want ErrNoSuchKeyPolicy", err)
	}
	if _, err := s2.UpdateKeyPolicy(ctx, "k", func(p *meta.KeyPolicy) error { p.Owner = "alice"; return nil }); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT version FROM schema_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, SchemaVersion())
	}
}

// closedWithBucket migrates a fresh database, creates bucket "b" in it and
// closes the store, returning a plain connection to the database (closed
// when the test ends) to change it behind the store's back, and its URL.
func closedWithBucket(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	s, url := openTest(t)
	metatest.MustBucket(t, s, "b")
	s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn, url
}
