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
}

// readKey takes the key's advisory lock and the bucket row's KEY SHARE
// lock, then reads the key's state: one round trip, the statements run in
// order, each reading after the lock is held (READ COMMITTED: a snapshot
// per statement).
func readKey(ctx context.Context, tx pgx.Tx, bucket, key string) (*keyState, error) {
	var b pgx.Batch
	b.Queue("SELECT pg_advisory_xact_lock($1)", keyLock(bucket, key))
	b.Queue(`SELECT versioning, (SELECT COALESCE(max(seq), 0) + 1 FROM versions WHERE bucket = $1 AND key = $2)
		FROM buckets WHERE name = $1 FOR KEY SHARE`, bucket, []byte(key))
	b.Queue(`SELECT seq, current, rec FROM versions WHERE bucket = $1 AND key = $2 AND (current OR version_id = '')`, bucket, []byte(key))
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
	return ks, br.Close()
}
