package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
)

// TestSchemaTooNew: a database migrated by a newer build is refused at
// Open, and the refusal changes nothing; a current one opens again (the
// migrations are not re-applied).
func TestSchemaTooNew(t *testing.T) {
	conn, url := closedWithBucket(t)
	if _, err := conn.Exec(ctx, "UPDATE schema_version SET version = $1", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(ctx, url); !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	if _, err := conn.Exec(ctx, "UPDATE schema_version SET version = $1", SchemaVersion()); err != nil {
		t.Fatal(err)
	}
	s3 := openURL(t, url)
	if _, err := s3.GetBucket(ctx, "b"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

// TestConcurrentOpen: nodes starting at once on an empty database migrate
// it once (the advisory lock), and all open.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.DB(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(ctx, url)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnavailable: with the database down, operations fail with
// meta.ErrUnavailable (503 at the API); after it is back they work
// again, and nothing committed is lost.
func TestUnavailable(t *testing.T) {
	s, _ := openTest(t)
	metatest.MustBucket(t, s, "b")
	metatest.MustPut(t, s, metatest.Obj("b", "k", "blob"))
	srv := pgtest.Shared(t)
	srv.Stop()
	restarted := false
	defer func() {
		if !restarted {
			srv.Restart()
		}
	}()
	for name, op := range map[string]func() error{
		"get":  func() error { _, err := s.GetObject(ctx, "b", "k"); return err },
		"put":  func() error { _, err := s.PutObject(ctx, metatest.Obj("b", "k2"), nil); return err },
		"list": func() error { return s.ListObjects(ctx, "b", "", "", func(*meta.Object) error { return nil }) },
		"user": func() error { _, err := s.UserByAccessKey(ctx, "AK"); return err },
		"ping": func() error { return s.Ping(ctx) },
	} {
		if err := op(); !errors.Is(err, meta.ErrUnavailable) {
			t.Errorf("%s with the database down: %v, want ErrUnavailable", name, err)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := s.GetObject(ctx, "b", "k")
		if err == nil {
			if o.Parts[0].BlobID != "blob" {
				t.Fatalf("object after restart: %+v", o)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := s.PutObject(ctx, metatest.Obj("b", "k2"), nil); err != nil {
		t.Fatalf("put after restart: %v", err)
	}
}

// TestCompletedRetention: completed uploads are capped per bucket (the
// oldest go first) and expire after CompletedRetention.
func TestCompletedRetention(t *testing.T) {
	s, _ := openTest(t)
	metatest.CompletedRetention(t, s, metatest.Retention{
		Period: CompletedRetention,
		SetNow: s.SetClock,
		SetMax: func(n int) { s.maxCompleted = n },
		Records: func(bucket string) (n int) {
			if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM completed WHERE bucket = $1", bucket).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	})
}

// TestSharedBlobs: a named blob is absent until stored, updates see the
// current value, a failed update changes nothing, and concurrent updates
// (two stores on one database, as two nodes) serialize.
func TestSharedBlobs(t *testing.T) {
	s, url := openTest(t)
	s2 := openURL(t, url)
	if _, err := s.GetBlob(ctx, "keyring"); !errors.Is(err, meta.ErrNoSuchBlob) {
		t.Fatalf("before any update: %v", err)
	}
	if err := s.UpdateBlob(ctx, "keyring", func(old []byte) ([]byte, error) {
		if old != nil {
			t.Errorf("first update saw %q", old)
		}
		return []byte{0}, nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.UpdateBlob(ctx, "keyring", func([]byte) ([]byte, error) { return []byte("x"), boom }); !errors.Is(err, boom) {
		t.Fatalf("failed update: %v", err)
	}
	done := make(chan error, 20)
	for i := range 20 {
		st := []*Store{s, s2}[i%2]
		go func() {
			done <- st.UpdateBlob(ctx, "keyring", func(old []byte) ([]byte, error) { return append(old, byte(len(old))), nil })
		}()
	}
	for range 20 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, err := s2.GetBlob(ctx, "keyring")
	if err != nil || len(got) != 21 {
		t.Fatalf("after 20 concurrent appends: %d bytes, %v", len(got), err)
	}
}

// TestListingsUseIndexes: the listing, lookup and queue queries are index
// scans, never a scan of the whole versions table.
func TestListingsUseIndexes(t *testing.T) {
	s, _ := openTest(t)
	metatest.MustBucket(t, s, "b")
	metatest.SetVersioning(t, s, "b", meta.VersioningEnabled)
	if _, err := s.pool.Exec(ctx, `INSERT INTO versions (bucket, key, seq, version_id, current, delete_marker, rec)
		SELECT 'b', convert_to('k/' || lpad(i::text, 6, '0'), 'UTF8'), s, 'v', s = 3, false, '{}'
		FROM generate_series(1, 20000) i, generate_series(1, 3) s`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE versions"); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"objects": {`SELECT key, rec FROM versions WHERE bucket = $1 AND current AND NOT delete_marker
			AND key >= $2 AND key > $3 AND key < $4 ORDER BY key LIMIT $5`, []any{"b", []byte("k/01"), []byte("k/010000"), upperBound("k/01"), 64}},
		"versions": {`SELECT key, seq, current, rec FROM versions WHERE bucket = $1
			AND key >= $2 AND key < $3 AND (key > $4 OR (key = $4 AND seq < $5))
			ORDER BY key, seq DESC LIMIT $6`, []any{"b", []byte("k/01"), upperBound("k/01"), []byte("k/010000"), int64(2), 64}},
		"current": {"SELECT seq, current, rec FROM versions WHERE bucket = $1 AND key = $2 AND current", []any{"b", []byte("k/000100")}},
		"version": {"SELECT seq, current, rec FROM versions WHERE bucket = $1 AND key = $2 AND seq = $3 AND version_id = $4", []any{"b", []byte("k/000100"), int64(2), "v"}},
		"next":    {"SELECT COALESCE(max(seq), 0) + 1 FROM versions WHERE bucket = $1 AND key = $2", []any{"b", []byte("k/000100")}},
	} {
		rows, err := s.pool.Query(ctx, "EXPLAIN "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprint(plan)
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "Index") {
			t.Errorf("%s: plan is not an index scan:\n%s", name, strings.Join(plan, "\n"))
		}
	}
}
