package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Object statistics: the number of stored versions and their plaintext
// bytes per encryption class (mode and data algorithm), kept in
//
//	stats    mode "/" algorithm -> objects (int64) | bytes (int64), big-endian
//
// and changed in the transaction that installs or removes a version, so
// they are exact at every commit and reading them is one small bucket. A
// database from before the counters existed is counted once, by a scan at
// Open (seedStats).

var bkStats = []byte("stats")

// statKey is the counter key of an object's encryption class.
func statKey(enc *meta.Encryption) []byte {
	if enc == nil {
		return []byte("/")
	}
	return []byte(enc.Mode + "/" + enc.Algorithm)
}

// countObject adds (sign 1) or removes (sign -1) o in the counters; delete
// markers hold no data and are not counted.
func countObject(tx *bbolt.Tx, o *meta.Object, sign int64) error {
	if o == nil || o.DeleteMarker {
		return nil
	}
	return addStat(tx.Bucket(bkStats), statKey(o.Encryption), sign, sign*o.Size)
}

func addStat(b *bbolt.Bucket, k []byte, objects, bytes int64) error {
	var cur [16]byte
	copy(cur[:], b.Get(k))
	objects += int64(binary.BigEndian.Uint64(cur[:8]))
	bytes += int64(binary.BigEndian.Uint64(cur[8:]))
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(objects))
	return b.Put(k, binary.BigEndian.AppendUint64(v, uint64(bytes)))
}

// countSwap counts o in and the version it replaced for good (nil: none)
// out, as every install does.
func countSwap(tx *bbolt.Tx, o, replaced *meta.Object) error {
	if err := countObject(tx, o, 1); err != nil {
		return err
	}
	return countObject(tx, replaced, -1)
}

// countReplace records an update that may have changed a version's class
// or size (UpdateObjectVersion: a re-encryption job rewrapping under
// another mode, say).
func countReplace(tx *bbolt.Tx, before, after *meta.Object) error {
	if before.Size == after.Size && string(statKey(before.Encryption)) == string(statKey(after.Encryption)) {
		return nil
	}
	if err := countObject(tx, before, -1); err != nil {
		return err
	}
	return countObject(tx, after, 1)
}

// classOnly copies what the counters look at of o.
func classOnly(o *meta.Object) *meta.Object {
	c := &meta.Object{Size: o.Size, DeleteMarker: o.DeleteMarker}
	if o.Encryption != nil {
		c.Encryption = &meta.Encryption{Mode: o.Encryption.Mode, Algorithm: o.Encryption.Algorithm}
	}
	return c
}

// seedStats creates the counters when the database has none, counting
// every stored version once. It runs in Open's transaction, so no
// mutation can slip between the count and the first adjustment.
func seedStats(tx *bbolt.Tx) error {
	if tx.Bucket(bkStats) != nil {
		return nil
	}
	st, err := tx.CreateBucket(bkStats)
	if err != nil {
		return err
	}
	type classOf struct {
		Size         int64
		DeleteMarker bool
		Encryption   *struct{ Mode, Algorithm string }
	}
	count := func(k, v []byte) error {
		r, err := decodeRecord(k, v)
		if err != nil {
			return fmt.Errorf("meta/bolt: counting objects: %w", err)
		}
		o := classOf{Size: r.Size, DeleteMarker: r.DeleteMarker}
		if e := r.Encryption; e != nil {
			o.Encryption = &struct{ Mode, Algorithm string }{e.Mode, e.Algorithm}
		}
		if o.DeleteMarker {
			return nil
		}
		var enc *meta.Encryption
		if o.Encryption != nil {
			enc = &meta.Encryption{Mode: o.Encryption.Mode, Algorithm: o.Encryption.Algorithm}
		}
		return addStat(st, statKey(enc), 1, o.Size)
	}
	all := tx.Bucket(bkData)
	return all.ForEachBucket(func(name []byte) error {
		d := all.Bucket(name)
		for _, sub := range [][]byte{subObjects, subVersions} {
			if b := d.Bucket(sub); b != nil {
				if err := b.ForEach(count); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ObjectStats implements meta.ObjectStats, in key order.
func (s *Store) ObjectStats(ctx context.Context) ([]meta.ObjectStat, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []meta.ObjectStat
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bkStats).ForEach(func(k, v []byte) error {
			if len(v) != 16 {
				return fmt.Errorf("meta/bolt: object counter %q is %d bytes", k, len(v))
			}
			mode, alg, _ := strings.Cut(string(k), "/")
			out = append(out, meta.ObjectStat{Mode: mode, Algorithm: alg,
				Objects: int64(binary.BigEndian.Uint64(v)), Bytes: int64(binary.BigEndian.Uint64(v[8:]))})
			return nil
		})
	})
	return out, err
}

// Ping implements meta.Pinger: a read transaction on the open database.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bkMeta) == nil {
			return fmt.Errorf("meta/bolt: no %s bucket", bkMeta)
		}
		return nil
	})
}

var (
	_ meta.ObjectStats = (*Store)(nil)
	_ meta.Pinger      = (*Store)(nil)
)
