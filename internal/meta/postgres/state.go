package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

func timeOf(sec int64, nsec int32) time.Time { return time.Unix(sec, int64(nsec)) }

// ---- jobs ----

// GetJob implements meta.Jobs.
func (s *Store) GetJob(ctx context.Context, name string) (*meta.Job, error) {
	return getRec[meta.Job](ctx, s, "SELECT rec FROM jobs WHERE name = $1", name, meta.ErrNoSuchJob)
}

// UpdateJob implements meta.Jobs: one transaction under the job's lock, so
// nodes sharing the database take a job's lease one at a time.
func (s *Store) UpdateJob(ctx context.Context, name string, fn func(*meta.Job) error) (*meta.Job, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty job name", meta.ErrInvalid)
	}
	var out *meta.Job
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", nameLock("job", name)); err != nil {
			return err
		}
		j := &meta.Job{Name: name}
		var rec []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM jobs WHERE name = $1", name).Scan(&rec)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			if j, err = decode[meta.Job](rec, "job "+name); err != nil {
				return err
			}
		}
		if err := fn(j); err != nil {
			return err
		}
		j.Name = name
		if rec, err = encode(j); err != nil {
			return err
		}
		out = j
		_, err = tx.Exec(ctx, "INSERT INTO jobs (name, rec) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET rec = excluded.rec", name, rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- remotes ----

// PutRemote implements meta.Remotes.
func (s *Store) PutRemote(ctx context.Context, r *meta.Remote) error {
	if r == nil || r.Name == "" {
		return fmt.Errorf("%w: empty remote name", meta.ErrInvalid)
	}
	rec, err := encode(r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO remotes (name, rec) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET rec = excluded.rec", r.Name, rec)
		return err
	})
}

// GetRemote implements meta.Remotes.
func (s *Store) GetRemote(ctx context.Context, name string) (*meta.Remote, error) {
	return getRec[meta.Remote](ctx, s, "SELECT rec FROM remotes WHERE name = $1", name, meta.ErrNoSuchRemote)
}

// DeleteRemote implements meta.Remotes.
func (s *Store) DeleteRemote(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM remotes WHERE name = $1", name)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %q", meta.ErrNoSuchRemote, name)
		}
		return err
	})
}

// ListRemotes implements meta.Remotes.
func (s *Store) ListRemotes(ctx context.Context) ([]*meta.Remote, error) {
	return listRecs[meta.Remote](ctx, s, "SELECT rec FROM remotes ORDER BY name")
}

// ---- replication queue ----

// NextReplications implements meta.ReplicationQueue.
func (s *Store) NextReplications(ctx context.Context, after uint64, n int) ([]*meta.ReplicationEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT seq, rec FROM replq WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), n)
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*meta.ReplicationEntry, error) {
		var seq int64
		var rec []byte
		if err := r.Scan(&seq, &rec); err != nil {
			return nil, err
		}
		e, err := decode[meta.ReplicationEntry](rec, "replication entry")
		if err != nil {
			return nil, err
		}
		e.Seq = uint64(seq)
		return e, nil
	})
	return out, mapErr(ctx, err)
}

// RetryReplication implements meta.ReplicationQueue.
func (s *Store) RetryReplication(ctx context.Context, e *meta.ReplicationEntry) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var rec []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM replq WHERE seq = $1 FOR UPDATE", int64(e.Seq)).Scan(&rec)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		cur, err := decode[meta.ReplicationEntry](rec, "replication entry")
		if err != nil {
			return err
		}
		cur.Attempts, cur.NextTry, cur.LastError = e.Attempts, e.NextTry, e.LastError
		if rec, err = encode(cur); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE replq SET rec = $2 WHERE seq = $1", int64(e.Seq), rec)
		return err
	})
}

// FinishReplication implements meta.ReplicationQueue.
func (s *Store) FinishReplication(ctx context.Context, e *meta.ReplicationEntry, status string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM replq WHERE seq = $1", int64(e.Seq))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := lockKey(ctx, tx, e.Bucket, e.Key); err != nil {
			if errors.Is(err, meta.ErrNoSuchBucket) {
				return nil
			}
			return err
		}
		vid := e.VersionID
		if vid == "" {
			vid = meta.NullVersion
		}
		v, err := findVersion(ctx, tx, e.Bucket, e.Key, vid)
		if err != nil || v == nil || v.o.ReplicationStatus != replication.StatusPending {
			return err
		}
		v.o.ReplicationStatus = status
		return updateVersion(ctx, tx, v)
	})
}

// ---- object statistics ----

func statClass(enc *meta.Encryption) string {
	if enc == nil {
		return "/"
	}
	return enc.Mode + "/" + enc.Algorithm
}

// count adds (sign 1) or removes (sign -1) o in the counters, on a random
// shard of its class; delete markers hold no data and are not counted.
func (s *Store) count(ctx context.Context, tx execer, o *meta.Object, sign int64) error {
	if o == nil || o.DeleteMarker {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO stats (class, shard, objects, bytes) VALUES ($1, $2, $3, $4)
		ON CONFLICT (class, shard) DO UPDATE SET objects = stats.objects + excluded.objects, bytes = stats.bytes + excluded.bytes`,
		statClass(o.Encryption), rand.IntN(statShards), sign, sign*o.Size)
	return err
}

// countReplace records an update that may have changed a version's class
// or size.
func (s *Store) countReplace(ctx context.Context, tx execer, before, after *meta.Object) error {
	if before.Size == after.Size && statClass(before.Encryption) == statClass(after.Encryption) {
		return nil
	}
	if err := s.count(ctx, tx, before, -1); err != nil {
		return err
	}
	return s.count(ctx, tx, after, 1)
}

// classOnly copies what the counters look at of o.
func classOnly(o *meta.Object) *meta.Object {
	c := &meta.Object{Size: o.Size, DeleteMarker: o.DeleteMarker}
	if o.Encryption != nil {
		c.Encryption = &meta.Encryption{Mode: o.Encryption.Mode, Algorithm: o.Encryption.Algorithm}
	}
	return c
}

// ObjectStats implements meta.ObjectStats, in class order.
func (s *Store) ObjectStats(ctx context.Context) ([]meta.ObjectStat, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT class, sum(objects)::bigint, sum(bytes)::bigint FROM stats GROUP BY class ORDER BY class")
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.ObjectStat, error) {
		var class string
		var st meta.ObjectStat
		if err := r.Scan(&class, &st.Objects, &st.Bytes); err != nil {
			return st, err
		}
		st.Mode, st.Algorithm, _ = strings.Cut(class, "/")
		return st, nil
	})
	return out, mapErr(ctx, err)
}

// ---- orphan sweeping ----

// BlobRefs implements meta.Store. It reads one snapshot (REPEATABLE READ),
// so a blob moving from an upload's parts to an object is seen exactly
// once. fn runs while rows stream: it must not call back into the Store
// with the same context expecting a free connection, and should be quick.
// Returning meta.ErrStop ends the walk without error. IDs may repeat.
func (s *Store) BlobRefs(ctx context.Context, fn func(id string) error) error {
	type partRefs struct {
		Parts []struct{ BlobID string }
	}
	err := s.txWith(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		walk := func(query string, ids func(rec []byte) ([]string, error)) error {
			rows, err := tx.Query(ctx, query)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var rec []byte
				if err := rows.Scan(&rec); err != nil {
					return err
				}
				list, err := ids(rec)
				if err != nil {
					return err
				}
				for _, id := range list {
					if id == "" {
						continue
					}
					if err := fn(id); err != nil {
						return err
					}
				}
			}
			return rows.Err()
		}
		err := walk("SELECT rec FROM versions WHERE NOT delete_marker", func(rec []byte) ([]string, error) {
			r, err := decode[partRefs](rec, "object")
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(r.Parts))
			for i, p := range r.Parts {
				ids[i] = p.BlobID
			}
			return ids, nil
		})
		if err != nil {
			return err
		}
		return walk("SELECT rec FROM parts", func(rec []byte) ([]string, error) {
			p, err := decode[struct{ BlobID string }](rec, "part")
			if err != nil {
				return nil, err
			}
			return []string{p.BlobID}, nil
		})
	})
	if errors.Is(err, meta.ErrStop) {
		return nil
	}
	return err
}
