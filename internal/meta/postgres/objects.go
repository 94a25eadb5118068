package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// Object versions
//
// All versions of a key are rows of versions, seq ordering them (newest
// highest). The current version is the newest and is flagged current; when
// it is removed for good the next newest becomes current. A write to a
// bucket that was never versioned uses seq 0 (one version per key); a
// versioned write takes the key's highest seq plus one, under the key's
// advisory lock, and its version ID carries that seq (meta.NewVersionID),
// so GET ?versionId= is one index lookup. A replica keeps its source's
// version ID, and so lands at the seq inside it.

// version is one row of versions.
type version struct {
	seq     int64
	current bool
	o       *meta.Object
}

func (v *version) object() *meta.Object {
	if v == nil {
		return nil
	}
	return v.o
}

func scanVersion(row pgx.Row) (*version, error) {
	var v version
	var rec []byte
	if err := row.Scan(&v.seq, &v.current, &rec); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	o, err := decode[meta.Object](rec, "object")
	if err != nil {
		return nil, err
	}
	v.o = o
	return &v, nil
}

const versionCols = "seq, current, rec"

// currentVersion returns the key's current version (a delete marker
// included), or nil.
func currentVersion(ctx context.Context, q querier, bucket, key string) (*version, error) {
	return scanVersion(q.QueryRow(ctx, "SELECT "+versionCols+" FROM versions WHERE bucket = $1 AND key = $2 AND current", bucket, []byte(key)))
}

// liveObject is the current version unless it is a delete marker.
func liveObject(v *version) *version {
	if v == nil || v.o.DeleteMarker {
		return nil
	}
	return v
}

// findVersion locates one version of key by its ID (meta.NullVersion:
// the null one); nil when there is none.
func findVersion(ctx context.Context, q querier, bucket, key, versionID string) (*version, error) {
	sql, args, err := findVersionSQL(bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	return scanVersion(q.QueryRow(ctx, sql, args...))
}

// findVersionSQL is findVersion's statement.
func findVersionSQL(bucket, key, versionID string) (string, []any, error) {
	if versionID == meta.NullVersion {
		return "SELECT " + versionCols + " FROM versions WHERE bucket = $1 AND key = $2 AND version_id = ''", []any{bucket, []byte(key)}, nil
	}
	seq, err := meta.VersionSeq(versionID)
	if err != nil {
		return "", nil, err
	}
	return "SELECT " + versionCols + " FROM versions WHERE bucket = $1 AND key = $2 AND seq = $3 AND version_id = $4",
		[]any{bucket, []byte(key), int64(seq), versionID}, nil
}

func insertVersion(ctx context.Context, tx execer, o *meta.Object, seq int64, current bool) error {
	rec, err := encode(o)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO versions (bucket, key, seq, version_id, current, delete_marker, rec) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		o.Bucket, []byte(o.Key), seq, o.VersionID, current, o.DeleteMarker, rec)
	return err
}

func updateVersion(ctx context.Context, tx pgx.Tx, v *version) error {
	rec, err := encode(v.o)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE versions SET rec = $4 WHERE bucket = $1 AND key = $2 AND seq = $3", v.o.Bucket, []byte(v.o.Key), v.seq, rec)
	return err
}

func deleteVersion(ctx context.Context, tx execer, bucket, key string, seq int64) error {
	_, err := tx.Exec(ctx, "DELETE FROM versions WHERE bucket = $1 AND key = $2 AND seq = $3", bucket, []byte(key), seq)
	return err
}

// demoteCurrent makes the key's current version (if any) noncurrent.
func demoteCurrent(ctx context.Context, tx execer, bucket, key string) error {
	_, err := tx.Exec(ctx, "UPDATE versions SET current = false WHERE bucket = $1 AND key = $2 AND current", bucket, []byte(key))
	return err
}

// promoteNewest makes the key's newest version current.
func promoteNewest(ctx context.Context, tx execer, bucket, key string) error {
	_, err := tx.Exec(ctx, `UPDATE versions SET current = true WHERE bucket = $1 AND key = $2 AND seq =
		(SELECT max(seq) FROM versions WHERE bucket = $1 AND key = $2)`, bucket, []byte(key))
	return err
}

func checkObject(bucket string, o *meta.Object) error {
	if o == nil || o.Key == "" {
		return fmt.Errorf("%w: object without key", meta.ErrInvalid)
	}
	if o.Bucket != bucket {
		return fmt.Errorf("%w: object of bucket %q stored in %q", meta.ErrInvalid, o.Bucket, bucket)
	}
	return nil
}

// install puts o as the current version of its key as the bucket's
// versioning state says (meta.Store.PutObject), under the key's lock, and
// returns the version replaced for good. Counters and queue follow. It
// costs two round trips: the reads (readKey), then the writes.
func (s *Store) install(ctx context.Context, tx pgx.Tx, o *meta.Object, cond meta.Precondition) (*meta.Object, error) {
	ks, err := readKey(ctx, tx, o.Bucket, o.Key)
	if err != nil {
		return nil, err
	}
	return s.installAs(ctx, tx, o, cond, ks, true)
}

// installAs is install in the state ks read (its state possibly
// overridden); queue says whether a PENDING version is queued.
func (s *Store) installAs(ctx context.Context, tx pgx.Tx, o *meta.Object, cond meta.Precondition, ks *keyState, queue bool) (*meta.Object, error) {
	cur := ks.cur
	if cond != nil {
		if err := cond(liveObject(cur).object()); err != nil {
			return nil, err
		}
	}
	w := &batchExec{}
	var replaced *meta.Object
	seq := int64(0)
	o.VersionID = "" // the null version, unless Enabled
	switch ks.state {
	case "":
		if cur != nil {
			replaced = cur.o
			deleteVersion(ctx, w, o.Bucket, o.Key, cur.seq)
		}
	default:
		seq = ks.next
		if ks.state == meta.VersioningEnabled {
			o.VersionID = meta.NewVersionID(uint64(seq))
		} else if ks.null != nil {
			replaced = ks.null.o
			deleteVersion(ctx, w, o.Bucket, o.Key, ks.null.seq)
		}
		demoteCurrent(ctx, w, o.Bucket, o.Key)
	}
	if err := insertVersion(ctx, w, o, seq, true); err != nil {
		return nil, err
	}
	s.count(ctx, w, o, 1)
	s.count(ctx, w, replaced, -1)
	if err := settle(ctx, w, o.Parts); err != nil { // pending.go
		return nil, err
	}
	if err := s.pendObject(ctx, w, replaced); err != nil {
		return nil, err
	}
	if queue {
		if err := s.queueVersion(ctx, w, o); err != nil {
			return nil, err
		}
	}
	return replaced, w.flush(ctx, tx)
}

// queueVersion queues o, just installed in tx, when it was written PENDING.
func (s *Store) queueVersion(ctx context.Context, tx execer, o *meta.Object) error {
	if o.ReplicationStatus != replication.StatusPending {
		return nil
	}
	rec, err := encode(&meta.ReplicationEntry{
		Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID,
		Rule: o.ReplicationRule, DeleteMarker: o.DeleteMarker, Enqueued: s.now().UTC(),
	})
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO replq (rec) VALUES ($1)", rec)
	return err
}

// PutObject implements meta.Store. o.Bucket names the bucket.
func (s *Store) PutObject(ctx context.Context, o *meta.Object, cond meta.Precondition) (*meta.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("%w: nil object", meta.ErrInvalid)
	}
	if err := checkObject(o.Bucket, o); err != nil {
		return nil, err
	}
	var replaced *meta.Object
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		replaced, err = s.install(ctx, tx, o, cond)
		return err
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

// GetObject implements meta.Store: one statement.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	_, o, err := s.readObject(ctx, bucket, key, "", false)
	return o, err
}

// GetObjectVersion implements meta.Store: one statement.
func (s *Store) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	if versionID == "" {
		_, err := meta.VersionSeq(versionID) // ErrInvalidVersion
		return nil, err
	}
	_, o, err := s.readObject(ctx, bucket, key, versionID, false)
	return o, err
}

var _ meta.BucketObjectReader = (*Store)(nil)

// GetBucketObject implements meta.BucketObjectReader: one statement.
func (s *Store) GetBucketObject(ctx context.Context, bucket, key, versionID string) (*meta.Bucket, *meta.Object, error) {
	return s.readObject(ctx, bucket, key, versionID, true)
}

// readObject reads the current version of key (versionID "") or the one
// versionID names, with its bucket's record when withBucket, in one
// statement: the bucket row joined to the version, so a missing bucket
// and a missing key are told apart. A current delete marker is a
// *meta.DeleteMarkerError; one named by versionID is returned.
func (s *Store) readObject(ctx context.Context, bucket, key, versionID string, withBucket bool) (*meta.Bucket, *meta.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	match := "v.current"
	args := []any{bucket, []byte(key)}
	var badVersion error // reported after the bucket's error, as GetBucket then GetObjectVersion would
	switch versionID {
	case "":
	case meta.NullVersion:
		match = "v.version_id = ''"
	default:
		seq, err := meta.VersionSeq(versionID)
		if err != nil {
			badVersion, match = err, "false"
			break
		}
		match = "v.seq = $3 AND v.version_id = $4"
		args = append(args, int64(seq), versionID)
	}
	bcol := "NULL::bytea"
	if withBucket {
		bcol = "b.rec"
	}
	var brec, rec []byte
	err := s.pool.QueryRow(ctx, `SELECT `+bcol+`, v.rec FROM buckets b LEFT JOIN versions v
		ON v.bucket = b.name AND v.key = $2 AND `+match+` WHERE b.name = $1`, args...).Scan(&brec, &rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, bucket)
	}
	if err != nil {
		return nil, nil, mapErr(ctx, err)
	}
	var b *meta.Bucket
	if withBucket {
		if b, err = decode[meta.Bucket](brec, "bucket "+bucket); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case badVersion != nil:
		return b, nil, badVersion
	case rec == nil && versionID == "":
		return b, nil, fmt.Errorf("%w: %q/%q", meta.ErrNoSuchKey, bucket, key)
	case rec == nil:
		return b, nil, fmt.Errorf("%w: %q/%q version %q", meta.ErrNoSuchVersion, bucket, key, versionID)
	}
	o, err := decode[meta.Object](rec, "object")
	if err != nil {
		return b, nil, err
	}
	if o.DeleteMarker && versionID == "" {
		return b, nil, &meta.DeleteMarkerError{Marker: o}
	}
	return b, o, nil
}

// UpdateObject implements meta.Store.
func (s *Store) UpdateObject(ctx context.Context, bucket, key string, fn func(*meta.Object) error) error {
	return s.UpdateObjectVersion(ctx, bucket, key, "", fn)
}

// UpdateObjectVersion implements meta.Store. fn may run more than once.
func (s *Store) UpdateObjectVersion(ctx context.Context, bucket, key, versionID string, fn func(*meta.Object) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := lockKey(ctx, tx, bucket, key); err != nil {
			return err
		}
		var v *version
		var err error
		if versionID == "" {
			v, err = currentVersion(ctx, tx, bucket, key)
			v = liveObject(v)
		} else {
			v, err = findVersion(ctx, tx, bucket, key, versionID)
		}
		switch {
		case err != nil:
			return err
		case v == nil && versionID == "":
			return fmt.Errorf("%w: %q", meta.ErrNoSuchKey, key)
		case v == nil:
			return fmt.Errorf("%w: %q version %q", meta.ErrNoSuchVersion, key, versionID)
		case v.o.DeleteMarker:
			return fmt.Errorf("%w: %q version %q is a delete marker", meta.ErrNoSuchVersion, key, versionID)
		}
		parts, id := len(v.o.Parts), v.o.VersionID
		before := classOnly(v.o)
		beforeParts := slices.Clone(v.o.Parts)
		if err := fn(v.o); err != nil {
			return err
		}
		if v.o.Bucket != bucket || v.o.Key != key || len(v.o.Parts) != parts || v.o.VersionID != id || v.o.DeleteMarker {
			return fmt.Errorf("%w: UpdateObject may change metadata only", meta.ErrInvalid)
		}
		if err := s.countReplace(ctx, tx, before, v.o); err != nil {
			return err
		}
		if err := s.settleUpdate(ctx, tx, beforeParts, v.o.Parts); err != nil {
			return err
		}
		return updateVersion(ctx, tx, v)
	})
}

// DeleteObject implements meta.Store.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, cond meta.Precondition) (*meta.Object, error) {
	del, err := s.DeleteObjectVersion(ctx, bucket, key, "", cond)
	if err != nil {
		return nil, err
	}
	return del.Removed, nil
}

// DeleteObjectVersion implements meta.Store.
func (s *Store) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string, cond meta.Precondition) (*meta.Deletion, error) {
	return s.deleteVersion(ctx, bucket, key, versionID, "", cond)
}

// DeleteObjectReplicated implements meta.ReplicationQueue.
func (s *Store) DeleteObjectReplicated(ctx context.Context, bucket, key, rule string, cond meta.Precondition) (*meta.Deletion, error) {
	if rule == "" {
		return nil, fmt.Errorf("%w: replication without a rule", meta.ErrInvalid)
	}
	return s.deleteVersion(ctx, bucket, key, "", rule, cond)
}

// deleteVersion is DeleteObjectVersion; a delete marker it creates is
// queued for replication under rule when rule is not "".
func (s *Store) deleteVersion(ctx context.Context, bucket, key, versionID, rule string, cond meta.Precondition) (*meta.Deletion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if versionID != "" && versionID != meta.NullVersion {
		if _, err := meta.VersionSeq(versionID); err != nil {
			return nil, err
		}
	}
	var del *meta.Deletion
	err := s.tx(ctx, func(tx pgx.Tx) error {
		del = &meta.Deletion{}
		ks, err := readKeyVersion(ctx, tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		w := &batchExec{} // the writes, sent with COMMIT
		if versionID != "" {
			del.Removed, err = removeVersion(ctx, w, bucket, key, ks.byID, cond)
		} else {
			err = s.deleteCurrent(ctx, w, del, bucket, key, rule, ks, cond)
		}
		if err != nil {
			return err
		}
		if err := s.pendObject(ctx, w, del.Removed); err != nil {
			return err
		}
		if err := s.count(ctx, w, del.Removed, -1); err != nil {
			return err
		}
		return w.flush(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return del, nil
}

// deleteCurrent deletes without a version ID: removes the key, or adds a
// delete marker, as the bucket's state says. Its writes go to w.
func (s *Store) deleteCurrent(ctx context.Context, w execer, del *meta.Deletion, bucket, key, rule string, ks *keyState, cond meta.Precondition) error {
	live := liveObject(ks.cur)
	if cond != nil {
		if err := cond(live.object()); err != nil {
			return err
		}
	}
	if ks.state == "" {
		if live == nil {
			return nil
		}
		del.Removed = live.o
		return deleteVersion(ctx, w, bucket, key, live.seq)
	}
	marker := &meta.Object{Bucket: bucket, Key: key, DeleteMarker: true, LastModified: s.now().UTC()}
	if rule != "" {
		marker.ReplicationStatus, marker.ReplicationRule = replication.StatusPending, rule
	}
	if ks.state == meta.VersioningEnabled {
		marker.VersionID = meta.NewVersionID(uint64(ks.next))
	} else if ks.null != nil {
		del.Removed = ks.null.o
		if err := deleteVersion(ctx, w, bucket, key, ks.null.seq); err != nil {
			return err
		}
	}
	if err := demoteCurrent(ctx, w, bucket, key); err != nil {
		return err
	}
	if err := insertVersion(ctx, w, marker, ks.next, true); err != nil {
		return err
	}
	del.Marker = marker
	return s.queueVersion(ctx, w, marker)
}

// removeVersion deletes v (nil: there is none) for good; if it was the
// current one, the newest remaining version becomes current. Its writes go
// to w.
func removeVersion(ctx context.Context, w execer, bucket, key string, v *version, cond meta.Precondition) (*meta.Object, error) {
	if cond != nil {
		if err := cond(v.object()); err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, nil
	}
	if err := deleteVersion(ctx, w, bucket, key, v.seq); err != nil {
		return nil, err
	}
	if v.current {
		if err := promoteNewest(ctx, w, bucket, key); err != nil {
			return nil, err
		}
	}
	return v.o, nil
}

// PutReplica implements meta.Store. A replica in an Enabled bucket lands
// at the seq its version ID carries: current only if it is the newest, so
// replicas of one key keep their source order whatever order they arrive
// in; a later local write takes a seq above every replica's.
func (s *Store) PutReplica(ctx context.Context, o *meta.Object) (*meta.Object, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if err := checkObject(o.Bucket, o); err != nil {
		return nil, false, err
	}
	var replaced *meta.Object
	var installed bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		replaced, installed = nil, false
		ks, err := readKey(ctx, tx, o.Bucket, o.Key)
		if err != nil {
			return err
		}
		if state := ks.state; state != meta.VersioningEnabled || o.VersionID == "" {
			if o.DeleteMarker {
				return fmt.Errorf("%w: %q/%q", meta.ErrReplicaUnversioned, o.Bucket, o.Key)
			}
			if state != "" {
				ks.state = meta.VersioningSuspended // a null version stays the null one
			}
			installed = true
			replaced, err = s.installAs(ctx, tx, o, nil, ks, false)
			return err
		}
		installed, err = s.installReplica(ctx, tx, o)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return replaced, installed, nil
}

func (s *Store) installReplica(ctx context.Context, tx pgx.Tx, o *meta.Object) (bool, error) {
	useq, err := meta.VersionSeq(o.VersionID)
	if err != nil {
		return false, err
	}
	if v, err := findVersion(ctx, tx, o.Bucket, o.Key, o.VersionID); err != nil || v != nil {
		return false, err // v != nil: replicated before
	}
	seq := int64(useq)
	var taken bool
	var newest *int64
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM versions WHERE bucket = $1 AND key = $2 AND seq = $3),
		(SELECT max(seq) FROM versions WHERE bucket = $1 AND key = $2)`, o.Bucket, []byte(o.Key), seq).Scan(&taken, &newest)
	if err != nil {
		return false, err
	}
	if taken {
		return false, fmt.Errorf("%w: %q/%q version %q", meta.ErrReplicaConflict, o.Bucket, o.Key, o.VersionID)
	}
	current := newest == nil || uint64(*newest) < useq
	if current {
		if err := demoteCurrent(ctx, tx, o.Bucket, o.Key); err != nil {
			return false, err
		}
	}
	if err := insertVersion(ctx, tx, o, seq, current); err != nil {
		return false, err
	}
	if err := settle(ctx, tx, o.Parts); err != nil {
		return false, err
	}
	return true, s.count(ctx, tx, o, 1)
}
