package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// CreateUpload implements meta.Store. u.ID must be unique within the
// bucket, completed uploads included (meta.ErrUploadExists).
func (s *Store) CreateUpload(ctx context.Context, u *meta.Upload) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u == nil || u.ID == "" || u.Key == "" {
		return fmt.Errorf("%w: upload needs an ID and a key", meta.ErrInvalid)
	}
	rec, err := encode(u)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := bucketState(ctx, tx, u.Bucket, " FOR KEY SHARE"); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM completed WHERE bucket = $1 AND id = $2)", u.Bucket, u.ID).Scan(&done); err != nil {
			return err
		}
		if done {
			return fmt.Errorf("%w: %q (completed)", meta.ErrUploadExists, u.ID)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO uploads (bucket, id, key, init_sec, init_nsec, rec) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, u.Bucket, u.ID, []byte(u.Key), u.Initiated.Unix(), u.Initiated.Nanosecond(), rec)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %q", meta.ErrUploadExists, u.ID)
		}
		return err
	})
}

// getUpload reads an upload (lock: "" or a locking clause).
func getUpload(ctx context.Context, q querier, bucket, uploadID, lock string) (*meta.Upload, error) {
	var rec []byte
	err := q.QueryRow(ctx, "SELECT rec FROM uploads WHERE bucket = $1 AND id = $2"+lock, bucket, uploadID).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := bucketState(ctx, q, bucket, ""); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket)
	}
	if err != nil {
		return nil, err
	}
	return decode[meta.Upload](rec, "upload "+uploadID)
}

// GetUpload implements meta.Store.
func (s *Store) GetUpload(ctx context.Context, bucket, uploadID string) (*meta.Upload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := getUpload(ctx, s.pool, bucket, uploadID, "")
	return u, mapErr(ctx, err)
}

// PutPart implements meta.Store. It fails with meta.ErrNoSuchUpload when the
// upload was completed or aborted meanwhile; the caller then deletes the
// part's blob.
func (s *Store) PutPart(ctx context.Context, bucket, uploadID string, p *meta.Part) (*meta.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p == nil || p.Number < 0 || int64(p.Number) > 1<<32-1 {
		return nil, fmt.Errorf("%w: bad part", meta.ErrInvalid)
	}
	rec, err := encode(p)
	if err != nil {
		return nil, err
	}
	var replaced *meta.Part
	err = s.tx(ctx, func(tx pgx.Tx) error {
		replaced = nil
		// The upload's row lock orders this against complete and abort.
		if _, err := getUpload(ctx, tx, bucket, uploadID, " FOR NO KEY UPDATE"); err != nil {
			return err
		}
		var old []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM parts WHERE bucket = $1 AND upload_id = $2 AND number = $3", bucket, uploadID, p.Number).Scan(&old)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			if replaced, err = decode[meta.Part](old, "part"); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO parts (bucket, upload_id, number, rec) VALUES ($1, $2, $3, $4)
			ON CONFLICT (bucket, upload_id, number) DO UPDATE SET rec = excluded.rec`, bucket, uploadID, p.Number, rec)
		if err != nil {
			return err
		}
		if replaced != nil && replaced.BlobID != p.BlobID {
			if err := s.pendParts(ctx, tx, []meta.Part{*replaced}); err != nil {
				return err
			}
		}
		return settle(ctx, tx, []meta.Part{*p})
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

func collectParts(rows pgx.Rows) ([]meta.Part, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.Part, error) {
		var rec []byte
		if err := r.Scan(&rec); err != nil {
			return meta.Part{}, err
		}
		p, err := decode[meta.Part](rec, "part")
		if err != nil {
			return meta.Part{}, err
		}
		return *p, nil
	})
}

// ListParts implements meta.Store; parts come in part-number order.
func (s *Store) ListParts(ctx context.Context, bucket, uploadID string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.txWith(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := getUpload(ctx, tx, bucket, uploadID, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT rec FROM parts WHERE bucket = $1 AND upload_id = $2 ORDER BY number", bucket, uploadID)
		if err != nil {
			return err
		}
		parts, err = collectParts(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// ListUploads implements meta.Store.
func (s *Store) ListUploads(ctx context.Context, bucket, prefix string) ([]*meta.Upload, error) {
	if err := s.checkBucket(ctx, bucket); err != nil {
		return nil, err
	}
	return listRecs[meta.Upload](ctx, s, `SELECT rec FROM uploads WHERE bucket = $1 AND key >= $2 AND key < $3
		ORDER BY key, init_sec, init_nsec, id`, bucket, []byte(prefix), upperBound(prefix))
}

// removeUpload deletes the upload (locked) and its parts, returning the
// parts.
func removeUpload(ctx context.Context, tx pgx.Tx, bucket, uploadID string) ([]meta.Part, error) {
	rows, err := tx.Query(ctx, "DELETE FROM parts WHERE bucket = $1 AND upload_id = $2 RETURNING rec", bucket, uploadID)
	if err != nil {
		return nil, err
	}
	parts, err := collectParts(rows)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, "DELETE FROM uploads WHERE bucket = $1 AND id = $2", bucket, uploadID)
	return parts, err
}

// CompleteUpload implements meta.Store.
func (s *Store) CompleteUpload(ctx context.Context, bucket, uploadID string, o *meta.Object, cond meta.Precondition) (*meta.Object, []meta.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if o == nil {
		return nil, nil, fmt.Errorf("%w: nil object", meta.ErrInvalid)
	}
	if o.Bucket == "" {
		c := *o
		c.Bucket = bucket
		o = &c
	}
	if err := checkObject(bucket, o); err != nil {
		return nil, nil, err
	}
	used := make(map[string]bool, len(o.Parts))
	for _, p := range o.Parts {
		used[p.BlobID] = true
	}
	var (
		replaced *meta.Object
		unused   []meta.Part
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		replaced, unused = nil, nil
		// One round trip (with BEGIN) locks the key and the upload and
		// reads both, taking the parts; one more (with COMMIT) writes.
		var (
			u     *meta.Upload
			parts []meta.Part
		)
		more := &moreReads{
			queue: func(b *pgx.Batch) {
				b.Queue("SELECT rec FROM uploads WHERE bucket = $1 AND id = $2 FOR UPDATE", bucket, uploadID)
				b.Queue("DELETE FROM parts WHERE bucket = $1 AND upload_id = $2 RETURNING rec", bucket, uploadID)
			},
			read: func(br pgx.BatchResults) error {
				var rec []byte
				err := br.QueryRow().Scan(&rec)
				if errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket)
				}
				if err != nil {
					return err
				}
				if u, err = decode[meta.Upload](rec, "upload "+uploadID); err != nil {
					return err
				}
				rows, err := br.Query()
				if err != nil {
					return err
				}
				parts, err = collectParts(rows)
				return err
			},
		}
		ks, err := readKeyWith(ctx, tx, bucket, o.Key, "", more)
		if err != nil {
			return err
		}
		if u.Key != o.Key {
			return fmt.Errorf("%w: upload %q is for key %q, not %q", meta.ErrInvalid, uploadID, u.Key, o.Key)
		}
		w := &batchExec{}
		if _, err := w.Exec(ctx, "DELETE FROM uploads WHERE bucket = $1 AND id = $2", bucket, uploadID); err != nil {
			return err
		}
		for _, p := range parts {
			if !used[p.BlobID] {
				unused = append(unused, p)
			}
		}
		if err := s.pendParts(ctx, w, unused); err != nil {
			return err
		}
		if err := s.recordCompleted(ctx, w, bucket, &meta.CompletedUpload{ID: uploadID, Key: o.Key, ETag: o.ETag, Parts: meta.PartsDigest(o.Parts)}); err != nil {
			return err
		}
		if err := w.flush(ctx, tx); err != nil { // deferred to COMMIT on a lazyTx
			return err
		}
		replaced, err = s.installAs(ctx, tx, o, cond, ks, true)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return replaced, unused, nil
}

// recordCompleted stores the completion and prunes records that are too
// old or too many (the oldest first).
func (s *Store) recordCompleted(ctx context.Context, tx execer, bucket string, c *meta.CompletedUpload) error {
	rec, err := encode(c)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.Exec(ctx, "INSERT INTO completed (bucket, id, done_sec, done_nsec, rec) VALUES ($1, $2, $3, $4, $5)",
		bucket, c.ID, now.Unix(), now.Nanosecond(), rec); err != nil {
		return err
	}
	cutoff := now.Add(-CompletedRetention)
	_, err = tx.Exec(ctx, `DELETE FROM completed WHERE bucket = $1 AND ((done_sec, done_nsec) < ($2, $3)
		OR (done_sec, done_nsec, id) < (SELECT done_sec, done_nsec, id FROM completed WHERE bucket = $1
			ORDER BY done_sec DESC, done_nsec DESC, id DESC OFFSET $4::int - 1 LIMIT 1))`,
		bucket, cutoff.Unix(), cutoff.Nanosecond(), s.maxCompleted)
	return err
}

// GetCompletedUpload implements meta.Store: meta.ErrNoSuchUpload when the
// upload is unknown or was completed more than CompletedRetention ago.
func (s *Store) GetCompletedUpload(ctx context.Context, bucket, uploadID string) (*meta.CompletedUpload, error) {
	if err := s.checkBucket(ctx, bucket); err != nil {
		return nil, err
	}
	var rec []byte
	var sec int64
	var nsec int32
	err := s.pool.QueryRow(ctx, "SELECT done_sec, done_nsec, rec FROM completed WHERE bucket = $1 AND id = $2", bucket, uploadID).Scan(&sec, &nsec, &rec)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && s.now().Sub(timeOf(sec, nsec)) > CompletedRetention) {
		return nil, fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket)
	}
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return decode[meta.CompletedUpload](rec, "completed upload")
}

// AbortUpload implements meta.Store: it removes the upload and returns its
// parts.
func (s *Store) AbortUpload(ctx context.Context, bucket, uploadID string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.tx(ctx, func(tx pgx.Tx) error {
		parts = nil
		if _, err := getUpload(ctx, tx, bucket, uploadID, " FOR UPDATE"); err != nil {
			return err
		}
		var err error
		if parts, err = removeUpload(ctx, tx, bucket, uploadID); err != nil {
			return err
		}
		return s.pendParts(ctx, tx, parts)
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}
