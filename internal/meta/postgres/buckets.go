package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// CreateBucket implements meta.Store.
func (s *Store) CreateBucket(ctx context.Context, b *meta.Bucket) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b == nil || b.Name == "" {
		return fmt.Errorf("%w: empty bucket name", meta.ErrInvalid)
	}
	rec, err := encode(b)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO buckets (name, versioning, rec) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", b.Name, b.Versioning, rec)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %q", meta.ErrBucketExists, b.Name)
		}
		if err != nil {
			return err
		}
		return notify(ctx, tx, meta.InvalidateBucket, b.Name)
	})
}

// getRec reads one JSON record by name, or notFound.
func getRec[T any](ctx context.Context, s *Store, query, name string, notFound error) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec []byte
	err := s.pool.QueryRow(ctx, query, name).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", notFound, name)
	}
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return decode[T](rec, name)
}

// listRecs reads every JSON record a query returns.
func listRecs[T any](ctx context.Context, s *Store, query string, args ...any) ([]*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*T, error) {
		var rec []byte
		if err := r.Scan(&rec); err != nil {
			return nil, err
		}
		return decode[T](rec, "record")
	})
	return out, mapErr(ctx, err)
}

// GetBucket implements meta.Store.
func (s *Store) GetBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	return getRec[meta.Bucket](ctx, s, "SELECT rec FROM buckets WHERE name = $1", name, meta.ErrNoSuchBucket)
}

// UpdateBucket implements meta.Store. fn may run more than once (a retried
// transaction) and may not rename the bucket.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*meta.Bucket) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var rec []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM buckets WHERE name = $1 FOR NO KEY UPDATE", name).Scan(&rec)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, name)
		}
		if err != nil {
			return err
		}
		b, err := decode[meta.Bucket](rec, "bucket "+name)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		if b.Name != name {
			return fmt.Errorf("%w: UpdateBucket cannot rename %q to %q", meta.ErrInvalid, name, b.Name)
		}
		if rec, err = encode(b); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "UPDATE buckets SET rec = $2, versioning = $3 WHERE name = $1", name, rec, b.Versioning); err != nil {
			return err
		}
		return notify(ctx, tx, meta.InvalidateBucket, name)
	})
}

// DeleteBucket implements meta.Store.
func (s *Store) DeleteBucket(ctx context.Context, name string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.tx(ctx, func(tx pgx.Tx) error {
		parts = nil
		if _, err := bucketState(ctx, tx, name, " FOR UPDATE"); err != nil {
			return err
		}
		var any bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM versions WHERE bucket = $1)", name).Scan(&any); err != nil {
			return err
		}
		if any {
			return fmt.Errorf("%w: %q", meta.ErrBucketNotEmpty, name)
		}
		// The uploads first: their row locks wait for part writes in
		// flight, whose parts the next statement then sees.
		if _, err := tx.Exec(ctx, "DELETE FROM uploads WHERE bucket = $1", name); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "DELETE FROM parts WHERE bucket = $1 RETURNING rec", name)
		if err != nil {
			return err
		}
		if parts, err = collectParts(rows); err != nil {
			return err
		}
		if err := s.pendParts(ctx, tx, parts); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM completed WHERE bucket = $1",
			"DELETE FROM buckets WHERE name = $1",
		} {
			if _, err := tx.Exec(ctx, q, name); err != nil {
				return err
			}
		}
		return notify(ctx, tx, meta.InvalidateBucket, name)
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// ListBuckets implements meta.Store; buckets come in name order.
func (s *Store) ListBuckets(ctx context.Context) ([]*meta.Bucket, error) {
	return listRecs[meta.Bucket](ctx, s, "SELECT rec FROM buckets ORDER BY name")
}
