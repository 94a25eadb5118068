package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// GetJob implements meta.Store.
func (s *Store) GetJob(ctx context.Context, name string) (*meta.Job, error) {
	return getRecord[meta.Job](ctx, s, bkJobs, name, meta.ErrNoSuchJob)
}

// UpdateJob implements meta.Store.
func (s *Store) UpdateJob(ctx context.Context, name string, fn func(*meta.Job) error) (*meta.Job, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("%w: empty job name", ErrInvalid)
	}
	if err := s.reserve.room(); err != nil {
		return nil, err
	}
	var out *meta.Job
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bkJobs)
		j := &meta.Job{Name: name}
		if _, err := getJSON(b, []byte(name), j); err != nil {
			return err
		}
		if err := fn(j); err != nil {
			return err
		}
		j.Name = name
		out = j
		return putJSON(b, []byte(name), j)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
