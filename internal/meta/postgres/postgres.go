// Package postgres is the scale-out metadata store: meta.Store on
// PostgreSQL (pgx v5 and its pool), shared by every node of a deployment.
//
// # Guarantees
//
// Each operation is one transaction at READ COMMITTED with explicit locks,
// which gives what bbolt's single writer gives the embedded store:
//   - everything that changes one object key (install, delete, update,
//     complete, replica, replication outcome) first takes a transaction
//     advisory lock on (bucket, key), so the read of the current version,
//     the precondition (If-Match, If-None-Match, object lock) and the
//     install are atomic, and versions of a key are numbered without gaps
//     in their order;
//   - a write holds a KEY SHARE lock on its bucket's row, so a bucket
//     cannot be deleted under it; DeleteBucket locks the row for update;
//   - a multipart upload's row is locked by PutPart, CompleteUpload and
//     AbortUpload, so exactly one of complete and abort wins and every
//     part is accounted once;
//   - the replication queue entry of a version is inserted in the
//     transaction that installs it.
//
// Transactions that lose a race on a unique key, a deadlock or a
// serialization check are retried; a connection that fails surfaces as
// meta.ErrUnavailable (the service answers 503).
//
// # Schema
//
// Migrations are migrations/NNNN_*.sql, embedded, applied at Open in one
// transaction under an advisory lock (several nodes may start at once).
// Open refuses a database whose schema is newer than this build knows.
// Every bucket-owned table is keyed by the bucket first, so a distributed
// PostgreSQL-compatible engine can distribute by bucket; see
// migrations/0001_init.sql.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// CompletedRetention is how long a completed upload is remembered.
	CompletedRetention = 24 * time.Hour
	// MaxCompletedPerBucket caps the completed uploads remembered per bucket.
	MaxCompletedPerBucket = 1000

	maxAttempts = 8
	statShards  = 64
	// migrationLock is the advisory lock key held while migrating.
	migrationLock = 0x5374726f6e67 // "Strong"
)

// ErrSchemaTooNew is returned by Open for a database migrated by a newer
// build.
var ErrSchemaTooNew = errors.New("meta/postgres: database schema is newer than this build knows")

// Store is a meta.Store on PostgreSQL. It is safe for concurrent use, by
// any number of processes sharing the database.
type Store struct {
	pool         *pgxpool.Pool
	now          func() time.Time
	maxCompleted int
	log          *slog.Logger // the invalidation listener's (notify.go)
	node         string       // this node in the pending-blob journal (pending.go)
}

var (
	_ meta.Store       = (*Store)(nil)
	_ meta.Remotes     = (*Store)(nil)
	_ meta.ObjectStats = (*Store)(nil)
	_ meta.Pinger      = (*Store)(nil)
)

// Open connects to the database at url (postgres://USER[:PASSWORD]@HOST:PORT/DB?...;
// PGPASSWORD and the other libpq variables apply) and migrates it.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("meta/postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("meta/postgres: %w", err)
	}
	s := &Store{pool: pool, now: time.Now, maxCompleted: MaxCompletedPerBucket}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// SetClock sets the store's clock (delete markers' times, completed-upload
// retention, queue times). Call it before use.
func (s *Store) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

// Close closes the pool's connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migration is one embedded schema step.
type migration struct {
	version int
	sql     string
}

func loadMigrations() ([]migration, error) {
	var out []migration
	err := fs.WalkDir(migrations, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return fmt.Errorf("meta/postgres: migration file %q is not NNNN_name.sql", name)
		}
		b, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, migration{v, string(b)})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("meta/postgres: migrations are not numbered 1..n (%d at %d)", m.version, i+1)
		}
	}
	return out, err
}

// SchemaVersion is the newest schema this build knows.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	return len(ms)
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"); err != nil {
			return err
		}
		cur := 0
		err := tx.QueryRow(ctx, "SELECT version FROM schema_version").Scan(&cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, "INSERT INTO schema_version VALUES (0)"); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if cur > len(ms) {
			return fmt.Errorf("%w: schema %d, this build knows %d", ErrSchemaTooNew, cur, len(ms))
		}
		for _, m := range ms[cur:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("meta/postgres: migration %d: %w", m.version, err)
			}
		}
		_, err = tx.Exec(ctx, "UPDATE schema_version SET version = $1", len(ms))
		return err
	})
}

// tx runs fn in a transaction, retrying it when it loses a race the
// database detected (unique key, deadlock, serialization) or when its
// connection was dead before anything was sent. fn must reset its outputs
// on entry.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.txWith(ctx, pgx.TxOptions{}, fn)
}

func (s *Store) txWith(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = s.runTx(ctx, opts, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt) * time.Millisecond)
	}
	return mapErr(ctx, err)
}

// runTx runs fn in one lazyTx on a connection of the pool.
func (s *Store) runTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release() // the pool drops it if it is left in a transaction
	t := newLazyTx(c.Conn(), opts)
	defer func() {
		if !t.closed {
			t.Rollback(ctx)
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.Commit(ctx)
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505", "40001", "40P01":
			return true
		}
		return false
	}
	return pgconn.SafeToRetry(err)
}

// mapErr passes the store's own errors through and turns the database's
// connection failures into meta.ErrUnavailable.
func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", meta.ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// ---- helpers ----

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("meta/postgres: encode: %w", err)
	}
	return b, nil
}

func decode[T any](b []byte, what string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("meta/postgres: decode %s: %w", what, err)
	}
	return v, nil
}

// keyLock is the advisory lock key of one object key of a bucket.
func keyLock(bucket, key string) int64 {
	h := fnv.New64a()
	io.WriteString(h, bucket)
	h.Write([]byte{0})
	io.WriteString(h, key)
	return int64(h.Sum64())
}

// nameLock is the advisory lock key of a named thing of a kind.
func nameLock(kind, name string) int64 { return keyLock("\x00"+kind, name) }

// upperBound is a bytea bound above every key with prefix: keys are valid
// UTF-8, which never holds the byte FF, so prefix+FF is above them all.
func upperBound(prefix string) []byte { return append([]byte(prefix), 0xff) }

// lockBucket takes a KEY SHARE lock on the bucket's row (it cannot be
// deleted until commit) and the advisory lock of (bucket, key), and
// returns the bucket's versioning state.
func lockKey(ctx context.Context, tx pgx.Tx, bucket, key string) (string, error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", keyLock(bucket, key)); err != nil {
		return "", err
	}
	return bucketState(ctx, tx, bucket, " FOR KEY SHARE")
}

func bucketState(ctx context.Context, q querier, bucket, lock string) (string, error) {
	var state string
	err := q.QueryRow(ctx, "SELECT versioning FROM buckets WHERE name = $1"+lock, bucket).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, bucket)
	}
	return state, err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Ping implements meta.Pinger.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var one int
	return mapErr(ctx, s.pool.QueryRow(ctx, "SELECT 1").Scan(&one))
}
