package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

var _ meta.KeyPolicies = (*Store)(nil)

// GetKeyPolicy implements meta.KeyPolicies.
func (s *Store) GetKeyPolicy(ctx context.Context, key string) (*meta.KeyPolicy, error) {
	return getRec[meta.KeyPolicy](ctx, s, "SELECT rec FROM key_policies WHERE key = $1", key, meta.ErrNoSuchKeyPolicy)
}

// UpdateKeyPolicy implements meta.KeyPolicies. The key's advisory lock
// serializes updates of one key across nodes, including the first one,
// when there is no row yet for SELECT … FOR UPDATE to lock. fn may run
// more than once (a retried transaction).
func (s *Store) UpdateKeyPolicy(ctx context.Context, key string, fn func(*meta.KeyPolicy) error) (*meta.KeyPolicy, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("%w: empty key id", meta.ErrInvalid)
	}
	var out *meta.KeyPolicy
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", nameLock("keypolicy", key)); err != nil {
			return err
		}
		p := &meta.KeyPolicy{Key: key}
		var rec []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM key_policies WHERE key = $1", key).Scan(&rec)
		switch {
		case err == nil:
			if p, err = decode[meta.KeyPolicy](rec, "key policy"); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		p.Key = key
		if rec, err = encode(p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO key_policies (key, rec) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET rec = excluded.rec", key, rec); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListKeyPolicies implements meta.KeyPolicies; policies come in key order.
func (s *Store) ListKeyPolicies(ctx context.Context) ([]*meta.KeyPolicy, error) {
	return listRecs[meta.KeyPolicy](ctx, s, "SELECT rec FROM key_policies ORDER BY key")
}

// forgetUserInKeyPolicies drops user name's grants and ownership from
// every key policy, inside the transaction that deletes the user (see
// meta.ForgetUser). Each changed policy is rewritten under its key's
// advisory lock, as UpdateKeyPolicy takes it.
func forgetUserInKeyPolicies(ctx context.Context, tx pgx.Tx, name string) error {
	rows, err := tx.Query(ctx, "SELECT key FROM key_policies ORDER BY key")
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, key := range keys {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", nameLock("keypolicy", key)); err != nil {
			return err
		}
		var rec []byte
		if err := tx.QueryRow(ctx, "SELECT rec FROM key_policies WHERE key = $1", key).Scan(&rec); err != nil {
			return err
		}
		p, err := decode[meta.KeyPolicy](rec, "key policy")
		if err != nil {
			return err
		}
		if !meta.ForgetUser(p, name) {
			continue
		}
		if rec, err = encode(p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE key_policies SET rec = $2 WHERE key = $1", key, rec); err != nil {
			return err
		}
	}
	return nil
}
