package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// bkKeyPolicies holds meta.KeyPolicy records by key id. The bucket is made
// by the first write, so stores created before it need no migration.
var bkKeyPolicies = []byte("keypolicies")

var _ meta.KeyPolicies = (*Store)(nil)

// GetKeyPolicy implements meta.KeyPolicies.
func (s *Store) GetKeyPolicy(ctx context.Context, key string) (*meta.KeyPolicy, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var p meta.KeyPolicy
	err := s.db.View(func(tx *bbolt.Tx) error {
		ok := false
		if b := tx.Bucket(bkKeyPolicies); b != nil {
			var err error
			if ok, err = getJSON(b, []byte(key), &p); err != nil {
				return err
			}
		}
		if !ok {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchKeyPolicy, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateKeyPolicy implements meta.KeyPolicies.
func (s *Store) UpdateKeyPolicy(ctx context.Context, key string, fn func(*meta.KeyPolicy) error) (*meta.KeyPolicy, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("%w: empty key id", ErrInvalid)
	}
	if err := s.reserve.room(); err != nil {
		return nil, err
	}
	var out *meta.KeyPolicy
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bkKeyPolicies)
		if err != nil {
			return err
		}
		p := &meta.KeyPolicy{Key: key}
		if _, err := getJSON(b, []byte(key), p); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		p.Key = key
		out = p
		return putJSON(b, []byte(key), p)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListKeyPolicies implements meta.KeyPolicies.
func (s *Store) ListKeyPolicies(ctx context.Context) ([]*meta.KeyPolicy, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var exists bool
	s.db.View(func(tx *bbolt.Tx) error { exists = tx.Bucket(bkKeyPolicies) != nil; return nil })
	if !exists {
		return nil, nil
	}
	return listRecords[meta.KeyPolicy](ctx, s, bkKeyPolicies, "key policy")
}

// forgetUserInKeyPolicies drops user name's grants and ownership from
// every key policy, inside the transaction that deletes the user: grants
// are keyed by user name, and a user created later under the same name
// must not inherit them. A key the user owned falls to the root account.
func forgetUserInKeyPolicies(tx *bbolt.Tx, name string) error {
	b := tx.Bucket(bkKeyPolicies)
	if b == nil {
		return nil
	}
	var changed []*meta.KeyPolicy
	err := b.ForEach(func(k, _ []byte) error {
		var p meta.KeyPolicy
		if _, err := getJSON(b, k, &p); err != nil {
			return err
		}
		if meta.ForgetUser(&p, name) {
			changed = append(changed, &p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range changed { // not inside ForEach: bbolt forbids changes there
		if err := putJSON(b, []byte(p.Key), p); err != nil {
			return err
		}
	}
	return nil
}
