package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// usersLock serializes changes to users and their access keys (rare, and
// they check keys across users).
var usersLock = nameLock("users", "")

// PutUser implements meta.Store. Access key IDs must be unique across users
// (meta.ErrAccessKeyInUse); keys the user no longer has are released.
func (s *Store) PutUser(ctx context.Context, u *meta.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u == nil || u.Name == "" {
		return fmt.Errorf("%w: empty user name", meta.ErrInvalid)
	}
	ids := make([]string, 0, len(u.Keys))
	seen := make(map[string]bool, len(u.Keys))
	for _, k := range u.Keys {
		if k.ID == "" {
			return fmt.Errorf("%w: empty access key ID", meta.ErrInvalid)
		}
		if seen[k.ID] {
			return fmt.Errorf("%w: %q appears twice", meta.ErrAccessKeyInUse, k.ID)
		}
		seen[k.ID] = true
		ids = append(ids, k.ID)
	}
	rec, err := encode(u)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", usersLock); err != nil {
			return err
		}
		var taken string
		err := tx.QueryRow(ctx, "SELECT id FROM access_keys WHERE id = ANY($1) AND user_name <> $2 LIMIT 1", ids, u.Name).Scan(&taken)
		if err == nil {
			return fmt.Errorf("%w: %q", meta.ErrAccessKeyInUse, taken)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM access_keys WHERE user_name = $1 AND NOT (id = ANY($2))", u.Name, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO access_keys (id, user_name) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING", ids, u.Name); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "INSERT INTO users (name, rec) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET rec = excluded.rec", u.Name, rec); err != nil {
			return err
		}
		return notify(ctx, tx, meta.InvalidateUser, u.Name)
	})
}

// GetUser implements meta.Store.
func (s *Store) GetUser(ctx context.Context, name string) (*meta.User, error) {
	return getRec[meta.User](ctx, s, "SELECT rec FROM users WHERE name = $1", name, meta.ErrNoSuchUser)
}

// DeleteUser implements meta.Store; the user's access keys are released.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", usersLock); err != nil {
			return err
		}
		// Rolled back with the rest when there is no such user.
		if err := forgetUserInKeyPolicies(ctx, tx, name); err != nil { // keypolicies.go
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM users WHERE name = $1", name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchUser, name)
		}
		if _, err = tx.Exec(ctx, "DELETE FROM access_keys WHERE user_name = $1", name); err != nil {
			return err
		}
		return notify(ctx, tx, meta.InvalidateUser, name)
	})
}

// ListUsers implements meta.Store; users come in name order.
func (s *Store) ListUsers(ctx context.Context) ([]*meta.User, error) {
	return listRecs[meta.User](ctx, s, "SELECT rec FROM users ORDER BY name")
}

// UserByAccessKey implements meta.Store. The user is returned whether or not
// the key (or the user) is disabled; the caller checks.
func (s *Store) UserByAccessKey(ctx context.Context, accessKeyID string) (*meta.User, error) {
	u, err := getRec[meta.User](ctx, s, "SELECT u.rec FROM access_keys k JOIN users u ON u.name = k.user_name WHERE k.id = $1",
		accessKeyID, meta.ErrNoSuchAccessKey)
	return u, err
}
