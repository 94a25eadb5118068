package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Object versions
//
// The current version of a key that is not a delete marker lives in
// data/<bucket>/o under the key, exactly as in an unversioned bucket, so
// ListObjects and GET read what they always did. Every other version
// (noncurrent ones, and a delete marker that is current) lives in
//
//	data/<bucket>/v   esc(key) 00 00 | ^seq (8 bytes) -> version record
//
// seq is a per-bucket sequence (bbolt's bucket sequence of data/<bucket>)
// taken by every versioned write, so within a key the index runs newest
// first. A key's current version is its o record if there is one, else its
// first v record, which is then a delete marker (the store keeps that
// invariant: when the current version is removed for good, the newest
// noncurrent one moves back to o unless it is a delete marker).
//
// A version ID is base64url(seq^r | r), r 8 random bytes: GET ?versionId= is one
// lookup, and IDs are opaque and never reused. The null version (written
// while the bucket was unversioned or suspended) has VersionID "" and is
// found by a scan of its key's versions. Records written before versioning
// existed have seq 0, so once demoted they sort as the oldest.

var subVersions = []byte("v")

// record is the stored form of an object version: the version plus its
// sequence number (see record.go for the encoding).
type record struct {
	meta.Object
	Seq uint64 `json:",omitempty"`
	// ref names the record's inline bytes stored apart (0: none); inl
	// holds each part's stored length there (0: not inline).
	ref uint64
	inl []uint32
}

// vkeyPrefix is the v-index prefix of all of key's versions.
func vkeyPrefix(key string) []byte {
	return append(appendEsc(make([]byte, 0, len(key)+10), key), 0, 0)
}

func vkey(key string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(vkeyPrefix(key), ^seq)
}

// vkeySplit returns the object key and sequence of a v-index key.
func vkeySplit(k []byte) (string, uint64) {
	n := len(k) - 10
	key := make([]byte, 0, n)
	for i := 0; i < n; i++ {
		key = append(key, k[i])
		if k[i] == 0 {
			i++ // skip the escape's FF
		}
	}
	return string(key), ^binary.BigEndian.Uint64(k[n+2:])
}

// bucketVersioning reads a bucket's versioning state in tx, through the
// store's bucket cache bc (nil: none).
func bucketVersioning(tx *bbolt.Tx, bucket string, bc *bucketCache) (string, error) {
	b, err := bc.bucket(tx, bucket)
	if err != nil {
		return "", err
	}
	return b.Versioning, nil
}

// versionsOf returns the bucket's v index (nil in a read transaction of a
// bucket created before versioning existed: no versions).
func versionsOf(d *bbolt.Bucket, create bool) (*bbolt.Bucket, error) {
	if vb := d.Bucket(subVersions); vb != nil || !create {
		return vb, nil
	}
	return d.CreateBucket(subVersions)
}

// firstVersion returns the newest v record of key, or nil.
func firstVersion(vb *bbolt.Bucket, key string) ([]byte, *record, error) {
	if vb == nil {
		return nil, nil, nil
	}
	pfx := vkeyPrefix(key)
	k, v := vb.Cursor().Seek(pfx)
	if k == nil || !bytes.HasPrefix(k, pfx) {
		return nil, nil, nil
	}
	r, err := decodeRecord(k, v)
	return k, r, err
}

// findNull returns the v-index key and record of key's noncurrent null
// version, or nil.
func findNull(vb *bbolt.Bucket, key string) ([]byte, *record, error) {
	if vb == nil {
		return nil, nil, nil
	}
	pfx := vkeyPrefix(key)
	c := vb.Cursor()
	for k, v := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, v = c.Next() {
		r, err := decodeRecord(k, v)
		if err != nil {
			return nil, nil, err
		}
		if r.VersionID == "" {
			return bytes.Clone(k), r, nil
		}
	}
	return nil, nil, nil
}

// versionSlot locates one version of key: in o (vk nil) or at vk in the v
// index. r is nil when there is no such version.
func versionSlot(objs, vb *bbolt.Bucket, key, versionID string) (vk []byte, r *record, err error) {
	cur, err := decodeRecord([]byte(key), objs.Get([]byte(key)))
	if err != nil {
		return nil, nil, err
	}
	if versionID == meta.NullVersion {
		if cur != nil && cur.VersionID == "" {
			return nil, cur, nil
		}
		return findNull(vb, key)
	}
	seq, err := meta.VersionSeq(versionID)
	if err != nil {
		return nil, nil, err
	}
	if cur != nil && cur.VersionID == versionID {
		return nil, cur, nil
	}
	if vb == nil {
		return nil, nil, nil
	}
	vk = vkey(key, seq)
	r, err = decodeRecord(vk, vb.Get(vk))
	if err != nil || r == nil || r.VersionID != versionID {
		return nil, nil, err
	}
	return vk, r, nil
}

func (r *record) object() *meta.Object {
	if r == nil {
		return nil
	}
	return &r.Object
}

// install puts o as the current version of its key as the bucket's
// versioning state says (see meta.Store.PutObject) and returns the
// version replaced for good, if any. The object counters follow.
func install(tx *bbolt.Tx, d *bbolt.Bucket, o *meta.Object, cond meta.Precondition) (*meta.Object, error) {
	return installIn(tx, d, o, cond, nil)
}

// installIn is install reading the versioning state through bc.
func installIn(tx *bbolt.Tx, d *bbolt.Bucket, o *meta.Object, cond meta.Precondition, bc *bucketCache) (*meta.Object, error) {
	replaced, err := installVersion(tx, d, o, cond, bc)
	if err != nil {
		return nil, err
	}
	return replaced, countSwap(tx, o, replaced)
}

func installVersion(tx *bbolt.Tx, d *bbolt.Bucket, o *meta.Object, cond meta.Precondition, bc *bucketCache) (*meta.Object, error) {
	state, err := bucketVersioning(tx, o.Bucket, bc)
	if err != nil {
		return nil, unwritten(err)
	}
	return installAs(d, o, cond, state)
}

// installAs is install in a bucket whose versioning state is state. Its
// errors before it writes are unwritten ones.
func installAs(d *bbolt.Bucket, o *meta.Object, cond meta.Precondition, state string) (*meta.Object, error) {
	objs := d.Bucket(subObjects)
	k := []byte(o.Key)
	cur, err := decodeRecord(k, objs.Get(k))
	if err != nil {
		return nil, unwritten(err)
	}
	if cond != nil {
		if err := cond(cur.object()); err != nil {
			return nil, unwritten(err)
		}
	}
	if state == "" {
		o.VersionID = ""
		if err := dropInline(d, cur); err != nil {
			return nil, err
		}
		return cur.object(), putRecord(d, objs, k, &record{Object: *o})
	}
	vb, err := versionsOf(d, true)
	if err != nil {
		return nil, err
	}
	seq, err := d.NextSequence()
	if err != nil {
		return nil, err
	}
	var replaced *meta.Object
	o.VersionID = "" // the null version, while Suspended
	if state == meta.VersioningEnabled {
		o.VersionID = meta.NewVersionID(seq)
	} else {
		if replaced, cur, err = dropNull(d, vb, o.Key, cur); err != nil {
			return nil, err
		}
	}
	if cur != nil {
		if err := putRecord(d, vb, vkey(o.Key, cur.Seq), cur); err != nil {
			return nil, err
		}
	}
	return replaced, putRecord(d, objs, k, &record{Object: *o, Seq: seq})
}

// dropNull removes key's null version, given the current o record cur: if
// cur is it, cur is returned nil; else a noncurrent one is deleted from the
// v index. It returns the removed version.
func dropNull(d, vb *bbolt.Bucket, key string, cur *record) (removed *meta.Object, rest *record, err error) {
	if cur != nil && cur.VersionID == "" {
		return cur.object(), nil, dropInline(d, cur)
	}
	nk, nr, err := findNull(vb, key)
	if err != nil || nr == nil {
		return nil, cur, err
	}
	if err := dropInline(d, nr); err != nil {
		return nil, nil, err
	}
	return nr.object(), cur, vb.Delete(nk)
}

// GetObjectVersion implements meta.Store.
func (s *Store) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	return s.getObjectVersion(ctx, bucket, key, versionID, bytes.Clone)
}

// getObjectVersion is GetObjectVersion, with the inline bytes kept by
// into (nil: not read).
func (s *Store) getObjectVersion(ctx context.Context, bucket, key, versionID string, into func([]byte) []byte) (*meta.Object, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var o *meta.Object
	err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		vb, _ := versionsOf(d, false)
		_, r, err := findVersion(d, vb, key, versionID)
		if err == nil && r == nil {
			err = fmt.Errorf("%w: %q/%q version %q", meta.ErrNoSuchVersion, bucket, key, versionID)
		}
		if err == nil {
			err = loadInline(d, r, into)
		}
		o = r.object()
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// UpdateObjectVersion implements meta.Store.
func (s *Store) UpdateObjectVersion(ctx context.Context, bucket, key, versionID string, fn func(*meta.Object) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	return s.batch(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return unwritten(err)
		}
		objs := d.Bucket(subObjects)
		vb, _ := versionsOf(d, false)
		var vk []byte
		var r *record
		if versionID == "" {
			r, err = decodeRecord([]byte(key), objs.Get([]byte(key)))
		} else {
			vk, r, err = findVersion(d, vb, key, versionID)
		}
		// Nothing is written until countReplace: errors before it are
		// unwritten ones.
		switch {
		case err != nil:
			return unwritten(err)
		case r == nil && versionID == "":
			return unwritten(fmt.Errorf("%w: %q", meta.ErrNoSuchKey, key))
		case r == nil:
			return unwritten(fmt.Errorf("%w: %q version %q", meta.ErrNoSuchVersion, key, versionID))
		case r.DeleteMarker:
			return unwritten(fmt.Errorf("%w: %q version %q is a delete marker", meta.ErrNoSuchVersion, key, versionID))
		}
		// fn sees the object as GetObject returns it.
		if err := loadInline(d, r, bytes.Clone); err != nil {
			return unwritten(err)
		}
		parts, id := len(r.Parts), r.VersionID
		before := classOnly(&r.Object) // fn may change Encryption in place
		oldParts := append([]meta.Part(nil), r.Parts...)
		if err := fn(&r.Object); err != nil {
			return unwritten(err)
		}
		// Checked before any write: an unwritten refusal commits with the
		// batch, so journal entries written first would stay.
		if r.Bucket != bucket || r.Key != key || len(r.Parts) != parts || r.VersionID != id || r.DeleteMarker {
			return unwritten(fmt.Errorf("%w: UpdateObject may change metadata only", ErrInvalid))
		}
		if err := s.settleUpdate(tx, oldParts, r.Parts); err != nil {
			return err
		}
		if err := countReplace(tx, before, &r.Object); err != nil {
			return err
		}
		if err := syncInline(d, r); err != nil {
			return err
		}
		if vk != nil {
			return putRecord(d, vb, vk, r)
		}
		return putRecord(d, objs, []byte(key), r)
	})
}

// DeleteObjectVersion implements meta.Store.
func (s *Store) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string, cond meta.Precondition) (*meta.Deletion, error) {
	return s.deleteVersion(ctx, bucket, key, versionID, "", cond)
}

// deleteVersion is DeleteObjectVersion; a delete marker it creates is
// queued for replication under rule when rule is not "".
func (s *Store) deleteVersion(ctx context.Context, bucket, key, versionID, rule string, cond meta.Precondition) (*meta.Deletion, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var del *meta.Deletion
	deleteVersion := func(tx *bbolt.Tx) error {
		del = &meta.Deletion{}
		d, err := data(tx, bucket)
		if err != nil {
			return unwritten(err)
		}
		if versionID != "" {
			del.Removed, err = removeVersion(d, key, versionID, cond)
			return err
		}
		state, err := bucketVersioning(tx, bucket, &s.buckets)
		if err != nil {
			return unwritten(err)
		}
		objs := d.Bucket(subObjects)
		k := []byte(key)
		cur, err := decodeRecord(k, objs.Get(k))
		if err != nil {
			return unwritten(err)
		}
		if cond != nil {
			if err := cond(cur.object()); err != nil {
				return unwritten(err)
			}
		}
		if state == "" {
			if cur == nil {
				return nil
			}
			del.Removed = cur.object()
			if err := dropInline(d, cur); err != nil {
				return err
			}
			return objs.Delete(k)
		}
		vb, err := versionsOf(d, true)
		if err != nil {
			return err
		}
		seq, err := d.NextSequence()
		if err != nil {
			return err
		}
		marker := &record{Seq: seq, Object: meta.Object{
			Bucket: bucket, Key: key, DeleteMarker: true, LastModified: s.now().UTC(),
		}}
		markPending(&marker.Object, rule)
		if state == meta.VersioningEnabled {
			marker.VersionID = meta.NewVersionID(seq)
		} else { // Suspended: a null marker
			if del.Removed, cur, err = dropNull(d, vb, key, cur); err != nil {
				return err
			}
		}
		if cur != nil {
			if err := putRecord(d, vb, vkey(key, cur.Seq), cur); err != nil {
				return err
			}
		}
		if err := objs.Delete(k); err != nil {
			return err
		}
		del.Marker = marker.object()
		if err := s.queueVersion(tx, del.Marker); err != nil {
			return err
		}
		return putRecord(d, vb, vkey(key, seq), marker)
	}
	err := s.batch(func(tx *bbolt.Tx) error {
		if err := deleteVersion(tx); err != nil {
			return err
		}
		if err := s.pendObject(tx, del.Removed); err != nil {
			return err
		}
		return countObject(tx, del.Removed, -1)
	})
	if err != nil {
		return nil, err
	}
	return del, nil
}

// removeVersion deletes one version for good; if it was the current one,
// the newest noncurrent version becomes current.
func removeVersion(d *bbolt.Bucket, key, versionID string, cond meta.Precondition) (*meta.Object, error) {
	objs := d.Bucket(subObjects)
	vb, err := versionsOf(d, false)
	if err != nil {
		return nil, err
	}
	vk, r, err := findVersion(d, vb, key, versionID)
	if err != nil {
		return nil, unwritten(err)
	}
	if cond != nil {
		if err := cond(r.object()); err != nil {
			return nil, unwritten(err)
		}
	}
	if r == nil {
		return nil, nil
	}
	if err := dropInline(d, r); err != nil {
		return nil, err
	}
	if vk != nil {
		// A current delete marker is the key's first v record; removing
		// it makes the next version current.
		first, _, err := firstVersion(vb, key)
		if err != nil {
			return nil, err
		}
		wasCurrent := bytes.Equal(first, vk) && objs.Get([]byte(key)) == nil
		if err := vb.Delete(vk); err != nil || !wasCurrent {
			return r.object(), err
		}
	} else if err := objs.Delete([]byte(key)); err != nil {
		return nil, err
	}
	nk, next, err := firstVersion(vb, key)
	if err != nil || next == nil || next.DeleteMarker {
		return r.object(), err
	}
	if err := vb.Delete(nk); err != nil {
		return nil, err
	}
	return r.object(), putRecord(d, objs, []byte(key), next)
}

// versionMark is a position in the version listing: after all versions of
// key (all), after its current o record (!inV), or after its v record seq.
type versionMark struct {
	key string
	all bool
	inV bool
	seq uint64
}

// ListObjectVersions implements meta.Store. Like ListObjects it reads in
// chunks, each in its own read transaction, and calls fn outside any.
func (s *Store) ListObjectVersions(ctx context.Context, bucket, prefix, keyMarker, versionMarker string, fn func(*meta.Object, bool) error) error {
	return s.ListVersionsDelimited(ctx, bucket, prefix, "", keyMarker, versionMarker, func(o *meta.Object, latest bool, _ string) error { return fn(o, latest) })
}

// ListVersionsDelimited implements meta.Store, chunked as
// ListObjectVersions; a rolled-up prefix costs one seek past it in each
// index.
func (s *Store) ListVersionsDelimited(ctx context.Context, bucket, prefix, delimiter, keyMarker, versionMarker string, fn func(o *meta.Object, latest bool, commonPrefix string) error) error {
	var mark *versionMark
	if keyMarker != "" {
		mark = &versionMark{key: keyMarker, all: true}
	}
	if versionMarker != "" && keyMarker != "" {
		err := s.db.View(func(tx *bbolt.Tx) error {
			d, err := data(tx, bucket)
			if err != nil {
				return err
			}
			vb, _ := versionsOf(d, false)
			vk, r, err := findVersion(d, vb, keyMarker, versionMarker)
			switch {
			case err != nil:
				return err
			case r != nil && vk == nil:
				mark = &versionMark{key: keyMarker}
			case r != nil:
				mark = &versionMark{key: keyMarker, inV: true, seq: r.Seq}
			case versionMarker == meta.NullVersion:
				mark = &versionMark{key: keyMarker}
			default: // a version since deleted: resume at its place
				seq, _ := meta.VersionSeq(versionMarker)
				mark = &versionMark{key: keyMarker, inV: true, seq: seq}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	chunk := 64
	for {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		var batch []listedVersion
		var done bool
		err := s.db.View(func(tx *bbolt.Tx) error {
			d, err := data(tx, bucket)
			if err != nil {
				return err
			}
			batch, done, err = readVersions(d, listRange{prefix, delimiter, keyMarker}, mark, chunk)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := fn(e.o, e.latest, e.cp); err != nil {
				if errors.Is(err, meta.ErrStop) {
					return nil
				}
				return err
			}
		}
		if done || len(batch) == 0 {
			return nil
		}
		mark = &batch[len(batch)-1].mark
		chunk = min(chunk*4, 1024)
	}
}

type listedVersion struct {
	o      *meta.Object
	latest bool
	cp     string // a common prefix instead of a version (o nil)
	mark   versionMark
}

// listRange is what a version listing selects: keys with prefix, rolled
// up by delimiter, where common prefixes that keyMarker starts with were
// returned already.
type listRange struct {
	prefix, delimiter, keyMarker string
}

// readVersions merges the o records and the v index of keys with prefix,
// from after mark, into at most n versions (or common prefixes) in
// listing order. done reports that the listing ended.
func readVersions(d *bbolt.Bucket, lr listRange, mark *versionMark, n int) (out []listedVersion, done bool, err error) {
	prefix, delim := lr.prefix, []byte(lr.delimiter)
	pfx, vpfx := []byte(prefix), appendEsc(nil, prefix)
	oseek, vseek := pfx, vpfx
	prevKey := ""
	if mark != nil {
		prevKey = mark.key
		if k := []byte(mark.key); bytes.Compare(k, oseek) > 0 {
			oseek = k
		}
		var vs []byte
		switch {
		case mark.all:
			vs = append(vkeyPrefix(mark.key)[:len(vkeyPrefix(mark.key))-1], 1)
		case !mark.inV:
			vs = vkeyPrefix(mark.key)
		default:
			vs = vkey(mark.key, mark.seq)
		}
		if bytes.Compare(vs, vseek) > 0 {
			vseek = vs
		}
	}
	oc := d.Bucket(subObjects).Cursor()
	ok, ov := oc.Seek(oseek)
	if mark != nil && ok != nil && string(ok) == mark.key {
		ok, ov = oc.Next()
	}
	if ok != nil && !bytes.HasPrefix(ok, pfx) {
		ok = nil
	}
	var vc *bbolt.Cursor
	var vk, vv []byte
	if vb := d.Bucket(subVersions); vb != nil {
		vc = vb.Cursor()
		vk, vv = vc.Seek(vseek)
		if mark != nil && mark.inV && vk != nil && bytes.Equal(vk, vseek) {
			vk, vv = vc.Next()
		}
	}
	for len(out) < n {
		if vk != nil && !bytes.HasPrefix(vk, vpfx) {
			vk = nil
		}
		if ok == nil && vk == nil {
			return out, true, nil
		}
		var vKey string
		var vSeq uint64
		if vk != nil {
			vKey, vSeq = vkeySplit(vk)
		}
		next := vKey
		if ok != nil && (vk == nil || string(ok) <= vKey) {
			next = string(ok)
		}
		if cp := rollUp([]byte(next), len(pfx), delim); cp != nil {
			past := string(pastPrefix(cp))
			if !strings.HasPrefix(lr.keyMarker, string(cp)) { // not returned by an earlier page
				out = append(out, listedVersion{cp: string(cp), mark: versionMark{key: past, all: true}})
			}
			prevKey = past
			if ok != nil {
				if ok, ov = oc.Seek([]byte(past)); ok != nil && !bytes.HasPrefix(ok, pfx) {
					ok = nil
				}
			}
			if vk != nil {
				vk, vv = vc.Seek(appendEsc(nil, past))
			}
			continue
		}
		if ok != nil && (vk == nil || string(ok) <= vKey) {
			r, err := decodeRecord(ok, ov)
			if err != nil {
				return nil, false, err
			}
			out = append(out, listedVersion{o: r.object(), latest: true, mark: versionMark{key: r.Key}})
			prevKey = r.Key
			if ok, ov = oc.Next(); ok != nil && !bytes.HasPrefix(ok, pfx) {
				ok = nil
			}
			continue
		}
		r, err := decodeRecord(vk, vv)
		if err != nil {
			return nil, false, err
		}
		out = append(out, listedVersion{o: r.object(), latest: vKey != prevKey, mark: versionMark{key: vKey, inV: true, seq: vSeq}})
		prevKey = vKey
		vk, vv = vc.Next()
	}
	return out, false, nil
}
