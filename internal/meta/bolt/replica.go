package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// PutReplica implements meta.Store.
//
// A replica keeps its source's version ID, and so the sequence inside it:
// the replica lands in the v index where that sequence puts it among the
// key's versions, and becomes current only when it is the newest. Versions
// of one key replicated from one source bucket therefore keep their source
// order whatever order they arrive in. The bucket's own sequence is raised
// to at least the replica's, so a later local write is newer than every
// replica already installed (and never takes a replica's slot).
func (s *Store) PutReplica(ctx context.Context, o *meta.Object) (*meta.Object, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	if err := s.reserve.room(); err != nil {
		return nil, false, err
	}
	if err := checkObject(o.Bucket, o); err != nil {
		return nil, false, err
	}
	var replaced *meta.Object
	var installed bool
	err := s.batch(func(tx *bbolt.Tx) error {
		replaced, installed = nil, false
		d, err := data(tx, o.Bucket)
		if err != nil {
			return err
		}
		state, err := bucketVersioning(tx, o.Bucket, &s.buckets)
		if err != nil {
			return err
		}
		if state != meta.VersioningEnabled || o.VersionID == "" {
			if o.DeleteMarker {
				return fmt.Errorf("%w: %q/%q", meta.ErrReplicaUnversioned, o.Bucket, o.Key)
			}
			if state != "" {
				// A null version stays the null one (replacing it), so
				// replicating it again adds no version.
				state = meta.VersioningSuspended
			}
			installed = true
			if replaced, err = installAs(d, o, nil, state); err != nil {
				return err
			}
			if err := countSwap(tx, o, replaced); err != nil {
				return err
			}
			return s.settleSwap(tx, o.Parts, replaced)
		}
		if installed, err = installReplica(d, o); err != nil || !installed {
			return err
		}
		if err := countObject(tx, o, 1); err != nil {
			return err
		}
		return settle(tx, o.Parts)
	})
	if err != nil {
		return nil, false, err
	}
	return replaced, installed, nil
}

// installReplica puts o into an Enabled bucket's data d under its own
// version ID; it reports false when that version is already there.
func installReplica(d *bbolt.Bucket, o *meta.Object) (bool, error) {
	seq, err := meta.VersionSeq(o.VersionID)
	if err != nil {
		return false, err
	}
	objs := d.Bucket(subObjects)
	vb, err := versionsOf(d, true)
	if err != nil {
		return false, err
	}
	if _, r, err := versionSlot(objs, vb, o.Key, o.VersionID); err != nil || r != nil {
		return false, err // r != nil: replicated before
	}
	k := []byte(o.Key)
	cur, err := decodeRecord(k, objs.Get(k))
	if err != nil {
		return false, err
	}
	slot := vkey(o.Key, seq)
	if (cur != nil && cur.Seq == seq) || vb.Get(slot) != nil {
		return false, fmt.Errorf("%w: %q/%q version %q", meta.ErrReplicaConflict, o.Bucket, o.Key, o.VersionID)
	}
	newest, any := uint64(0), false
	if cur != nil {
		newest, any = cur.Seq, true
	} else if fk, _, err := firstVersion(vb, o.Key); err != nil {
		return false, err
	} else if fk != nil {
		_, newest = vkeySplit(fk)
		any = true
	}
	rec := &record{Object: *o, Seq: seq}
	switch {
	case any && seq < newest:
		// An older version arriving late: noncurrent from the start.
		err = putRecord(d, vb, slot, rec)
	case o.DeleteMarker:
		if cur != nil {
			if err := putRecord(d, vb, vkey(o.Key, cur.Seq), cur); err != nil {
				return false, err
			}
			if err := objs.Delete(k); err != nil {
				return false, err
			}
		}
		err = putRecord(d, vb, slot, rec)
	default:
		if cur != nil {
			if err := putRecord(d, vb, vkey(o.Key, cur.Seq), cur); err != nil {
				return false, err
			}
		}
		err = putRecord(d, objs, k, rec)
	}
	if err != nil {
		return false, err
	}
	if d.Sequence() < seq {
		if err := d.SetSequence(seq); err != nil {
			return false, err
		}
	}
	return true, nil
}
