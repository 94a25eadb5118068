package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// The replication queue is a top-level bucket (made by the first entry):
//
//	replq   seq (uint64 big-endian) -> meta.ReplicationEntry
//
// seq is the replq bucket's own sequence, so the queue drains in the order
// the versions were written. An entry is put by the transaction that
// installs its version (queueVersion) and deleted only by the one that
// records the version's outcome (FinishReplication).
var bkReplQ = []byte("replq")

func replqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// findVersion is versionSlot in d (data/<bucket>).
func findVersion(d, vb *bbolt.Bucket, key, versionID string) ([]byte, *record, error) {
	return versionSlot(d.Bucket(subObjects), vb, key, versionID)
}

// queueVersion queues o, just installed in tx, when it was written PENDING.
func (s *Store) queueVersion(tx *bbolt.Tx, o *meta.Object) error {
	if o.ReplicationStatus != replication.StatusPending {
		return nil
	}
	q, err := tx.CreateBucketIfNotExists(bkReplQ)
	if err != nil {
		return err
	}
	seq, err := q.NextSequence()
	if err != nil {
		return err
	}
	e := &meta.ReplicationEntry{
		Seq: seq, Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID,
		Rule: o.ReplicationRule, DeleteMarker: o.DeleteMarker, Enqueued: s.now().UTC(),
	}
	return putJSON(q, replqKey(seq), e)
}

// markPending writes o (a delete marker being made) PENDING under rule,
// unless rule is "".
func markPending(o *meta.Object, rule string) {
	if rule != "" {
		o.ReplicationStatus, o.ReplicationRule = replication.StatusPending, rule
	}
}

// DeleteObjectReplicated implements meta.ReplicationQueue.
func (s *Store) DeleteObjectReplicated(ctx context.Context, bucket, key, rule string, cond meta.Precondition) (*meta.Deletion, error) {
	if rule == "" {
		return nil, fmt.Errorf("%w: replication without a rule", ErrInvalid)
	}
	return s.deleteVersion(ctx, bucket, key, "", rule, cond)
}

// NextReplications implements meta.ReplicationQueue.
func (s *Store) NextReplications(ctx context.Context, after uint64, n int) ([]*meta.ReplicationEntry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []*meta.ReplicationEntry
	err := s.db.View(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bkReplQ)
		if q == nil {
			return nil // nothing ever queued
		}
		c := q.Cursor()
		for k, v := c.Seek(replqKey(after + 1)); k != nil && len(out) < n; k, v = c.Next() {
			e := new(meta.ReplicationEntry)
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("meta/bolt: decode replication entry %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RetryReplication implements meta.ReplicationQueue.
func (s *Store) RetryReplication(ctx context.Context, e *meta.ReplicationEntry) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bkReplQ)
		if q == nil {
			return nil
		}
		var cur meta.ReplicationEntry
		if ok, err := getJSON(q, replqKey(e.Seq), &cur); err != nil || !ok {
			return err
		}
		cur.Attempts, cur.NextTry, cur.LastError = e.Attempts, e.NextTry, e.LastError
		return putJSON(q, replqKey(e.Seq), &cur)
	})
}

// FinishReplication implements meta.ReplicationQueue. It runs even when
// the disk is short of space (it shrinks the queue).
func (s *Store) FinishReplication(ctx context.Context, e *meta.ReplicationEntry, status string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batch(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bkReplQ)
		k := replqKey(e.Seq)
		if q == nil || q.Get(k) == nil {
			return nil
		}
		if err := q.Delete(k); err != nil {
			return err
		}
		d, err := data(tx, e.Bucket)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			return nil
		}
		if err != nil {
			return err
		}
		vid := e.VersionID
		if vid == "" {
			vid = meta.NullVersion
		}
		objs := d.Bucket(subObjects)
		vb, _ := versionsOf(d, false)
		vk, r, err := findVersion(d, vb, e.Key, vid)
		if err != nil || r == nil || r.ReplicationStatus != replication.StatusPending {
			return err
		}
		r.ReplicationStatus = status
		if vk != nil {
			return putRecord(d, vb, vk, r)
		}
		return putRecord(d, objs, []byte(e.Key), r)
	})
}
