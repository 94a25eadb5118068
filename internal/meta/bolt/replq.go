package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"strongroom/internal/meta"
	"strongroom/internal/replication"
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

// subRelocated, in data/<bucket>, indexes the replicas PutReplica could not
// store at their version ID's sequence (a local version of the key had
// it): esc(key) 00 00 | version ID -> the sequence they are stored at.
var subRelocated = []byte("r")

func relocatedKey(key, versionID string) []byte { return append(vkeyPrefix(key), versionID...) }

// findVersion is versionSlot in d (data/<bucket>), also finding a
// relocated replica.
func findVersion(d, vb *bbolt.Bucket, key, versionID string) ([]byte, *record, error) {
	vk, r, err := versionSlot(d.Bucket(subObjects), vb, key, versionID)
	if err != nil || r != nil || vb == nil || versionID == meta.NullVersion {
		return vk, r, err
	}
	rb := d.Bucket(subRelocated)
	if rb == nil {
		return nil, nil, nil
	}
	seq := rb.Get(relocatedKey(key, versionID))
	if len(seq) != 8 {
		return nil, nil, nil
	}
	vk = vkey(key, binary.BigEndian.Uint64(seq))
	r, err = decodeRecord(vk, vb.Get(vk))
	if err != nil || r == nil || r.VersionID != versionID {
		return nil, nil, err // removed since (the index entry is left behind)
	}
	return vk, r, nil
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
			return putJSON(vb, vk, r)
		}
		return putJSON(objs, []byte(e.Key), r)
	})
}

// PutReplica implements meta.ReplicationQueue. The replica's version ID
// carries its source's sequence, which orders it among the key's versions
// (so replicas arriving out of order still end newest-current) and which
// this bucket's own sequence is raised past, so later local writes are
// newer. When a local version of the key already has that sequence (the
// bucket takes writes of its own, or replicates back), the replica is
// stored at a new sequence instead, as the newest version, and found
// through subRelocated.
func (s *Store) PutReplica(ctx context.Context, o *meta.Object) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	if o == nil || o.Key == "" {
		return fmt.Errorf("%w: replica without key", ErrInvalid)
	}
	seq, err := versionSeq(o.VersionID)
	if err != nil {
		return err
	}
	return s.batch(func(tx *bbolt.Tx) error {
		state, err := bucketVersioning(tx, o.Bucket)
		if err != nil {
			return err
		}
		if state != meta.VersioningEnabled {
			return fmt.Errorf("%w: replica into bucket %q", meta.ErrNotVersioned, o.Bucket)
		}
		d, err := data(tx, o.Bucket)
		if err != nil {
			return err
		}
		objs := d.Bucket(subObjects)
		vb, err := versionsOf(d, true)
		if err != nil {
			return err
		}
		k := []byte(o.Key)
		if _, r, err := findVersion(d, vb, o.Key, o.VersionID); err != nil || r != nil {
			if err == nil {
				err = fmt.Errorf("%w: %q/%q version %q", meta.ErrVersionExists, o.Bucket, o.Key, o.VersionID)
			}
			return err
		}
		cur, err := decodeRecord(k, objs.Get(k))
		if err != nil {
			return err
		}
		vk := vkey(o.Key, seq)
		if vb.Get(vk) != nil || (cur != nil && cur.Seq == seq) {
			// A local version of the key has this sequence: store the
			// replica at a new one (as the newest version) and index it.
			if seq, err = d.NextSequence(); err != nil {
				return err
			}
			rb, err := d.CreateBucketIfNotExists(subRelocated)
			if err != nil {
				return err
			}
			if err := rb.Put(relocatedKey(o.Key, o.VersionID), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
			vk = vkey(o.Key, seq)
		}
		if d.Sequence() < seq {
			if err := d.SetSequence(seq); err != nil {
				return err
			}
		}
		newest := uint64(0)
		if cur != nil {
			newest = cur.Seq
		}
		if _, first, err := firstVersion(vb, o.Key); err != nil {
			return err
		} else if first != nil && first.Seq > newest {
			newest = first.Seq
		}
		rec := &record{Object: *o, Seq: seq}
		if seq < newest {
			return putJSON(vb, vk, rec) // an older version: noncurrent
		}
		if cur != nil {
			if err := putJSON(vb, vkey(o.Key, cur.Seq), cur); err != nil {
				return err
			}
		}
		if o.DeleteMarker {
			if err := objs.Delete(k); err != nil {
				return err
			}
			return putJSON(vb, vk, rec)
		}
		return putJSON(objs, k, rec)
	})
}
