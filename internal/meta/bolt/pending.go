package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// The pending-blob journal (meta.PendingBlobs):
//
//	pending    blob ID -> time added (Unix nanoseconds, int64 big-endian)
//
// It holds only blobs in flight or waiting to be deleted, so it stays small
// whatever the object count; the bucket is created by the first entry.

var bkPending = []byte("pending")

var _ meta.PendingBlobs = (*Store)(nil)

// AddPending implements meta.PendingBlobs, through the group commit (a
// blob PUT journals its blob just before writing it).
func (s *Store) AddPending(ctx context.Context, at time.Time, ids ...string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	return s.batch(func(tx *bbolt.Tx) error { return pendIDs(tx, at, ids) })
}

// RemovePending implements meta.PendingBlobs. Like a delete it does not
// ask for reserve room: removing entries must work on a full disk.
func (s *Store) RemovePending(ctx context.Context, ids ...string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return s.batch(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bkPending)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListPending implements meta.PendingBlobs, reading in chunks each in its
// own read transaction.
func (s *Store) ListPending(ctx context.Context, before time.Time, fn func(id string, added time.Time) error) error {
	type entry struct {
		id    string
		added time.Time
	}
	var after []byte
	for {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		var chunk []entry
		more := false
		err := s.db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bkPending)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil; k, v = c.Next() {
				if len(chunk) == 1024 {
					more = true
					break
				}
				added := time.Unix(0, int64(binary.BigEndian.Uint64(append(make([]byte, 0, 8), v...)[:8:8])))
				after = append(after[:0], k...)
				if added.Before(before) {
					chunk = append(chunk, entry{string(k), added})
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range chunk {
			if err := fn(e.id, e.added); err != nil {
				if errors.Is(err, meta.ErrStop) {
					return nil
				}
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// pendIDs journals ids in tx.
func pendIDs(tx *bbolt.Tx, at time.Time, ids []string) error {
	b, err := tx.CreateBucketIfNotExists(bkPending)
	if err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
	for _, id := range ids {
		if id == "" {
			continue
		}
		if err := b.Put([]byte(id), v); err != nil {
			return err
		}
	}
	return nil
}

// pendParts journals the blobs of parts that lost their last reference in
// tx (a replaced or removed version, dropped upload parts).
func (s *Store) pendParts(tx *bbolt.Tx, parts ...[]meta.Part) error {
	var ids []string
	for _, ps := range parts {
		for _, p := range ps {
			if p.BlobID != "" {
				ids = append(ids, p.BlobID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return pendIDs(tx, s.now(), ids)
}

// pendObject is pendParts for a version that may be nil.
func (s *Store) pendObject(tx *bbolt.Tx, o *meta.Object) error {
	if o == nil {
		return nil
	}
	return s.pendParts(tx, o.Parts)
}

// settle removes the entries of the blobs that parts now reference: the
// transaction installing them is what makes them safe from the sweep.
func settle(tx *bbolt.Tx, parts []meta.Part) error {
	b := tx.Bucket(bkPending)
	if b == nil {
		return nil
	}
	for _, p := range parts {
		if p.BlobID == "" {
			continue
		}
		if err := b.Delete([]byte(p.BlobID)); err != nil {
			return err
		}
	}
	return nil
}

// settleSwap is settle for an install that replaced a version (nil: none):
// o's blobs are settled and the replaced version's are journaled.
func (s *Store) settleSwap(tx *bbolt.Tx, parts []meta.Part, replaced *meta.Object) error {
	if err := settle(tx, parts); err != nil {
		return err
	}
	return s.pendObject(tx, replaced)
}

// settleUpdate is settle for UpdateObjectVersion: blobs the update put in
// are settled, and blobs it dropped (a re-encryption rewriting a part)
// are journaled.
func (s *Store) settleUpdate(tx *bbolt.Tx, before, after []meta.Part) error {
	if err := settle(tx, after); err != nil {
		return err
	}
	kept := make(map[string]bool, len(after))
	for _, p := range after {
		kept[p.BlobID] = true
	}
	var gone []meta.Part
	for _, p := range before {
		if p.BlobID != "" && !kept[p.BlobID] {
			gone = append(gone, p)
		}
	}
	return s.pendParts(tx, gone)
}
