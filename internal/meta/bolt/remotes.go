package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

var _ meta.Remotes = (*Store)(nil)

// PutRemote implements meta.Remotes.
func (s *Store) PutRemote(ctx context.Context, r *meta.Remote) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if r == nil || r.Name == "" {
		return fmt.Errorf("%w: empty remote name", ErrInvalid)
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bkRemotes), []byte(r.Name), r)
	})
}

// GetRemote implements meta.Remotes.
func (s *Store) GetRemote(ctx context.Context, name string) (*meta.Remote, error) {
	return getRecord[meta.Remote](ctx, s, bkRemotes, name, meta.ErrNoSuchRemote)
}

// DeleteRemote implements meta.Remotes.
func (s *Store) DeleteRemote(ctx context.Context, name string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bkRemotes)
		if b.Get([]byte(name)) == nil {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchRemote, name)
		}
		return b.Delete([]byte(name))
	})
}

// ListRemotes implements meta.Remotes.
func (s *Store) ListRemotes(ctx context.Context) ([]*meta.Remote, error) {
	return listRecords[meta.Remote](ctx, s, bkRemotes, "remote")
}
