package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// execer runs a statement: a transaction, or a batchExec queuing it.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// batchExec queues statements to send in one round trip (flush); their
// results are not looked at one by one, only their errors.
type batchExec struct{ b pgx.Batch }

func (q *batchExec) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func (q *batchExec) flush(ctx context.Context, tx pgx.Tx) error {
	if q.b.Len() == 0 {
		return nil
	}
	if lt, ok := tx.(*lazyTx); ok {
		lt.deferWrites(q.b.QueuedQueries) // sent with the next statement or COMMIT
		return nil
	}
	br := tx.SendBatch(ctx, &q.b)
	for range q.b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// keyState is what a write to one key reads first.
type keyState struct {
	state string   // the bucket's versioning
	cur   *version // the current version (a delete marker included)
	null  *version // the null version
	next  int64    // the seq of a new newest version
	byID  *version // the version readKey was asked for by ID, if any
}

// readKey takes the key's advisory lock and the bucket row's KEY SHARE
// lock, then reads the key's state: one round trip, the statements run in
// order, each reading after the lock is held (READ COMMITTED: a snapshot
// per statement).
func readKey(ctx context.Context, tx pgx.Tx, bucket, key string) (*keyState, error) {
	return readKeyWith(ctx, tx, bucket, key, "", nil)
}

// moreReads are statements a caller adds to readKey's round trip: queue
// queues them after readKey's own, read reads their results.
type moreReads struct {
	queue func(b *pgx.Batch)
	read  func(br pgx.BatchResults) error
}

// readKeyVersion is readKey that also reads the version versionID
// (meta.NullVersion: the null one; "": none) in the same round trip.
func readKeyVersion(ctx context.Context, tx pgx.Tx, bucket, key, versionID string) (*keyState, error) {
	return readKeyWith(ctx, tx, bucket, key, versionID, nil)
}

// readKeyWith is readKeyVersion with more reads in the same round trip.
func readKeyWith(ctx context.Context, tx pgx.Tx, bucket, key, versionID string, more *moreReads) (*keyState, error) {
	var b pgx.Batch
	b.Queue("SELECT pg_advisory_xact_lock($1)", keyLock(bucket, key))
	b.Queue(`SELECT versioning, (SELECT COALESCE(max(seq), 0) + 1 FROM versions WHERE bucket = $1 AND key = $2)
		FROM buckets WHERE name = $1 FOR KEY SHARE`, bucket, []byte(key))
	b.Queue(`SELECT seq, current, rec FROM versions WHERE bucket = $1 AND key = $2 AND (current OR version_id = '')`, bucket, []byte(key))
	if versionID != "" {
		sql, args, err := findVersionSQL(bucket, key, versionID)
		if err != nil {
			return nil, err
		}
		b.Queue(sql, args...)
	}
	if more != nil {
		more.queue(&b)
	}
	br := tx.SendBatch(ctx, &b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	ks := &keyState{}
	err := br.QueryRow().Scan(&ks.state, &ks.next)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, bucket)
	}
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*version, error) { return scanVersion(r) })
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.current {
			ks.cur = v
		}
		if v.o.VersionID == "" {
			ks.null = v
		}
	}
	if versionID != "" {
		if ks.byID, err = scanVersion(br.QueryRow()); err != nil {
			return nil, err
		}
	}
	if more != nil {
		if err := more.read(br); err != nil {
			return nil, err
		}
	}
	return ks, br.Close()
}
