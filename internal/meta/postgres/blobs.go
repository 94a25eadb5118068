package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

var _ meta.SharedBlobs = (*Store)(nil)

// GetBlob implements meta.SharedBlobs.
func (s *Store) GetBlob(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var v []byte
	err := s.pool.QueryRow(ctx, "SELECT value FROM blobs WHERE name = $1", name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", meta.ErrNoSuchBlob, name)
	}
	return v, mapErr(ctx, err)
}

// UpdateBlob implements meta.SharedBlobs: one transaction under the
// name's advisory lock, so nodes change a blob one at a time. fn may run
// more than once.
func (s *Store) UpdateBlob(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) error {
	if name == "" {
		return fmt.Errorf("%w: empty blob name", meta.ErrInvalid)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", nameLock("blob", name)); err != nil {
			return err
		}
		var old []byte
		err := tx.QueryRow(ctx, "SELECT value FROM blobs WHERE name = $1", name).Scan(&old)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		v, err := fn(old)
		if err != nil {
			return err
		}
		if v == nil {
			v = []byte{}
		}
		if _, err = tx.Exec(ctx, "INSERT INTO blobs (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, v); err != nil {
			return err
		}
		return notify(ctx, tx, meta.InvalidateBlob, name)
	})
}
