// Package bolt is the embedded metadata store: meta.Store on bbolt, one file
// in the data directory.
//
// # Layout
//
// Object versions are in a compact binary encoding with their inline bytes
// apart (record.go); other records are JSON. Top-level bbolt buckets:
//
//	meta                      "version" -> schema version (decimal)
//	buckets                   bucket name -> meta.Bucket
//	data/<bucket>/o           object key -> meta.Object (cursor order = S3 key order):
//	                          the current version, unless it is a delete marker
//	data/<bucket>/v           esc(key) 00 00 | ^seq -> every other object version
//	                          (see versions.go)
//	data/<bucket>/n           be64(ref) | be32(part) -> inline part bytes (record.go)
//	data/<bucket>/u           upload ID -> meta.Upload
//	data/<bucket>/i           esc(key) 00 00 | initiated | upload ID -> upload ID
//	                          (ListUploads order: key, then initiation time)
//	data/<bucket>/p/<upload>  part number (uint32 big-endian) -> meta.Part
//	data/<bucket>/c           upload ID -> completed record
//	data/<bucket>/t           completion time | upload ID -> nil (expiry order)
//	data/<bucket> "completed-count" -> number of completed records (uint64)
//	data/<bucket>/r           esc(key) 00 00 | version ID -> seq of a relocated
//	                          replica (replq.go)
//	users                     user name -> meta.User
//	remotes                   remote name -> meta.Remote
//	keys                      access key ID -> user name
//	jobs                      job name -> meta.Job (background jobs)
//	stats                     encryption class -> object count and bytes (stats.go)
//
// esc(key) escapes 0x00 as 00 FF, so that with the 00 00 terminator the index
// sorts exactly like the keys themselves; time stamps are 8 bytes of Unix
// seconds with the sign bit flipped followed by 4 bytes of nanoseconds, both
// big-endian, so they sort chronologically (the zero time included).
//
// Everything that belongs to a bucket lives under data/<bucket>, so dropping
// a bucket is one DeleteBucket of that sub-tree.
//
// # Durability and group commit
//
// Every mutation is committed with fsync before it returns (bbolt's NoSync
// is never set). The hot mutations (PutObject, DeleteObject, CreateUpload,
// PutPart, CompleteUpload) go through a group commit, so concurrent writers
// share fsyncs; see committer.
//
// Completed uploads are remembered for CompletedRetention, and at most
// MaxCompletedPerBucket per bucket (the oldest are dropped first).
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Errors specific to this store (the others are the meta.Err* sentinels).
var (
	// ErrLocked is returned by Open when another process holds the
	// database (bbolt takes an exclusive flock on the file).
	ErrLocked = errors.New("meta/bolt: database is locked by another process")
	// ErrAccessKeyInUse is returned by PutUser when one of the user's
	// access key IDs already belongs to another user, or appears twice.
	ErrAccessKeyInUse = meta.ErrAccessKeyInUse
	// ErrUploadExists is returned by CreateUpload for a duplicate upload ID.
	ErrUploadExists = meta.ErrUploadExists
	// ErrInvalid is returned for arguments the store cannot record (empty
	// names, an object key that does not match its upload, ...).
	ErrInvalid = meta.ErrInvalid
)

const (
	// LockTimeout is how long Open waits for the file lock.
	LockTimeout = time.Second
	// CompletedRetention is how long a completed upload is remembered.
	CompletedRetention = 24 * time.Hour
	// MaxCompletedPerBucket caps the completed uploads remembered per bucket.
	MaxCompletedPerBucket = 1000

	schemaVersion = 1
)

var (
	bkMeta    = []byte("meta")
	bkBuckets = []byte("buckets")
	bkData    = []byte("data")
	bkUsers   = []byte("users")
	bkKeys    = []byte("keys")
	bkJobs    = []byte("jobs")
	bkRemotes = []byte("remotes")

	subObjects   = []byte("o")
	subUploads   = []byte("u")
	subUploadIdx = []byte("i")
	subParts     = []byte("p")
	subCompleted = []byte("c")
	subDoneTimes = []byte("t")

	keyVersion = []byte("version")
	// keyCompletedCount, in data/<bucket>, counts the records in c (and t).
	keyCompletedCount = []byte("completed-count")
)

// Store is a meta.Store backed by a bbolt file. It is safe for concurrent
// use.
type Store struct {
	db *bbolt.DB
	gc committer
	// hot selects how the hot mutations commit; anything but
	// hotGroupCommit is for benchmark comparison only.
	hot          hotMode
	now          func() time.Time // SetClock
	maxCompleted int              // MaxCompletedPerBucket; tests may override
	reserve      reserve          // disk space kept for deletes (reserve.go)
	buckets      bucketCache      // decoded bucket records (bucketcache.go)
}

var _ meta.Store = (*Store)(nil)

// SetClock sets the store's clock (delete markers' times, completed-upload
// retention) to the node's, so a node run on an injected clock (tests)
// stamps every version by one clock. Call it before use.
func (s *Store) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

// OpenOptions are the bbolt options Open uses.
//
// Every commit writes the free list (NoFreelistSync off): without it an
// Open after a crash rebuilds the list by walking every page of the file,
// which grows with the database (3.5 s at 100,000 objects, 18-39 s at a
// million on the shared test machine), while the written list costs one
// page or a few in a commit that already writes and fsyncs several (no
// difference measurable in BenchmarkFreelistSync) and is read back at
// Open in time that follows the free pages, not the objects.
//
// New files get PageSize pages; a file keeps the page size it was made
// with.
func OpenOptions() *bbolt.Options {
	return &bbolt.Options{
		Timeout:      LockTimeout,
		FreelistType: bbolt.FreelistMapType,
		PageSize:     PageSize,
	}
}

// PageSize is the bbolt page size of new metadata files. Inline object
// bytes (up to a few KiB each) fill the n index's pages: a 4 KiB page
// takes two or three 1 KiB values and a 4 KiB one spills onto two pages,
// while a 16 KiB page takes thirteen, or three 4 KiB ones (bench load at
// 50,000 objects: 566 against 635 B/object beyond inline bytes, the n
// index 0.95 full against 0.78), with no PUT cost measurable
// (BenchmarkHot4KPut).
const PageSize = 16 << 10

// Open opens (creating if needed) the database file at path. If another
// process holds it, Open fails after LockTimeout with an error wrapping
// ErrLocked.
func Open(path string) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, OpenOptions())
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("meta/bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bkMeta, bkBuckets, bkData, bkUsers, bkKeys, bkJobs, bkRemotes} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if err := seedStats(tx); err != nil {
			return err
		}
		mb := tx.Bucket(bkMeta)
		if v := mb.Get(keyVersion); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n > schemaVersion {
				return fmt.Errorf("meta/bolt: unsupported schema version %q (this build knows %d)", v, schemaVersion)
			}
			return nil
		}
		return mb.Put(keyVersion, []byte(strconv.Itoa(schemaVersion)))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("meta/bolt: init %s: %w", path, err)
	}
	s := &Store{db: db, now: time.Now, maxCompleted: MaxCompletedPerBucket}
	s.gc.db = db
	if err := s.reserve.open(path, DefaultReserve, func() int64 { return int64(db.Stats().FreeAlloc) }); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database. In-flight calls finish first.
func (s *Store) Close() error {
	s.reserve.close()
	return s.db.Close()
}

// batch runs a hot mutation through the group commit. fn may run more than
// once and must reset its outputs on entry.
func (s *Store) batch(fn func(*bbolt.Tx) error) error {
	var err error
	switch s.hot {
	case hotDBBatch:
		err = s.db.Batch(fn)
	case hotUpdate:
		err = s.db.Update(fn)
	default:
		err = s.gc.do(fn)
	}
	return written(err) // callers get errors as their functions made them
}

type hotMode int

const (
	hotGroupCommit hotMode = iota // committer
	hotDBBatch                    // bbolt's DB.Batch
	hotUpdate                     // one transaction per mutation
)

// ---- encoding helpers ----

func putJSON(b *bbolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("meta/bolt: encode: %w", err)
	}
	return b.Put(k, data)
}

// getJSON decodes the record at k into v; it reports false if there is none.
func getJSON(b *bbolt.Bucket, k []byte, v any) (bool, error) {
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("meta/bolt: decode %q: %w", k, err)
	}
	return true, nil
}

func be32(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// appendTime appends an order-preserving encoding of t (12 bytes).
func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

func decodeTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(b[8:])))
}

// appendEsc appends s with 0x00 escaped as 00 FF (no terminator).
func appendEsc(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, s[i])
		if s[i] == 0 {
			dst = append(dst, 0xff)
		}
	}
	return dst
}

func uploadIdxKey(u *meta.Upload) []byte {
	k := appendEsc(make([]byte, 0, len(u.Key)+14+len(u.ID)), u.Key)
	k = append(k, 0, 0)
	k = appendTime(k, u.Initiated)
	return append(k, u.ID...)
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// data returns the bucket's sub-tree, or meta.ErrNoSuchBucket.
func data(tx *bbolt.Tx, bucket string) (*bbolt.Bucket, error) {
	if bucket == "" {
		return nil, meta.ErrNoSuchBucket
	}
	d := tx.Bucket(bkData).Bucket([]byte(bucket))
	if d == nil {
		return nil, fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, bucket)
	}
	return d, nil
}

// ---- buckets ----

// CreateBucket implements meta.Store.
func (s *Store) CreateBucket(ctx context.Context, b *meta.Bucket) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	if b == nil || b.Name == "" {
		return fmt.Errorf("%w: empty bucket name", ErrInvalid)
	}
	defer s.buckets.changed()
	return s.db.Update(func(tx *bbolt.Tx) error {
		s.buckets.changed()
		bs := tx.Bucket(bkBuckets)
		if bs.Get([]byte(b.Name)) != nil {
			return fmt.Errorf("%w: %q", meta.ErrBucketExists, b.Name)
		}
		d, err := tx.Bucket(bkData).CreateBucket([]byte(b.Name))
		if err != nil {
			return fmt.Errorf("meta/bolt: create bucket %q: %w", b.Name, err)
		}
		for _, sub := range [][]byte{subObjects, subVersions, subUploads, subUploadIdx, subParts, subCompleted, subDoneTimes} {
			if _, err := d.CreateBucket(sub); err != nil {
				return err
			}
		}
		return putJSON(bs, []byte(b.Name), b)
	})
}

// getRecord reads one JSON record of a top-level bucket, or notFound.
func getRecord[T any](ctx context.Context, s *Store, bucket []byte, key string, notFound error) (*T, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var v T
	err := s.db.View(func(tx *bbolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucket), []byte(key), &v)
		if err == nil && !ok {
			err = fmt.Errorf("%w: %q", notFound, key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// listRecords decodes every JSON record of a top-level bucket, in key order.
func listRecords[T any](ctx context.Context, s *Store, bucket []byte, what string) ([]*T, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []*T
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			r := new(T)
			if err := json.Unmarshal(v, r); err != nil {
				return fmt.Errorf("meta/bolt: decode %s %q: %w", what, k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// UpdateBucket implements meta.Store. fn runs inside the write transaction:
// it must not call back into the Store, and should be quick. fn may not
// rename the bucket.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*meta.Bucket) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	defer s.buckets.changed()
	return s.db.Update(func(tx *bbolt.Tx) error {
		s.buckets.changed()
		bs := tx.Bucket(bkBuckets)
		var b meta.Bucket
		ok, err := getJSON(bs, []byte(name), &b)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, name)
		}
		if err := fn(&b); err != nil {
			return err
		}
		if b.Name != name {
			return fmt.Errorf("%w: UpdateBucket cannot rename %q to %q", ErrInvalid, name, b.Name)
		}
		return putJSON(bs, []byte(name), &b)
	})
}

// DeleteBucket implements meta.Store. It returns the parts of the bucket's
// incomplete uploads; completed-upload records go with the bucket.
func (s *Store) DeleteBucket(ctx context.Context, name string) ([]meta.Part, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var parts []meta.Part
	defer s.buckets.changed()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		s.buckets.changed()
		parts = nil
		d, err := data(tx, name)
		if err != nil {
			return err
		}
		if k, _ := d.Bucket(subObjects).Cursor().First(); k != nil {
			return fmt.Errorf("%w: %q", meta.ErrBucketNotEmpty, name)
		}
		if vb := d.Bucket(subVersions); vb != nil {
			if k, _ := vb.Cursor().First(); k != nil {
				return fmt.Errorf("%w: %q (object versions remain)", meta.ErrBucketNotEmpty, name)
			}
		}
		err = d.Bucket(subParts).ForEachBucket(func(id []byte) error {
			ps, err := readParts(d.Bucket(subParts).Bucket(id))
			parts = append(parts, ps...)
			return err
		})
		if err != nil {
			return err
		}
		if err := tx.Bucket(bkData).DeleteBucket([]byte(name)); err != nil {
			return err
		}
		if err := s.pendParts(tx, parts); err != nil {
			return err
		}
		return tx.Bucket(bkBuckets).Delete([]byte(name))
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// ListBuckets implements meta.Store; buckets come in name order.
func (s *Store) ListBuckets(ctx context.Context) ([]*meta.Bucket, error) {
	return listRecords[meta.Bucket](ctx, s, bkBuckets, "bucket")
}

// ---- objects ----

func checkObject(bucket string, o *meta.Object) error {
	if o == nil || o.Key == "" {
		return fmt.Errorf("%w: object without key", ErrInvalid)
	}
	if o.Bucket != bucket {
		return fmt.Errorf("%w: object of bucket %q stored in %q", ErrInvalid, o.Bucket, bucket)
	}
	return nil
}

// PutObject implements meta.Store. o.Bucket names the bucket.
func (s *Store) PutObject(ctx context.Context, o *meta.Object, cond meta.Precondition) (*meta.Object, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := s.reserve.room(); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("%w: nil object", ErrInvalid)
	}
	if err := checkObject(o.Bucket, o); err != nil {
		return nil, err
	}
	var replaced *meta.Object
	err := s.batch(func(tx *bbolt.Tx) error {
		replaced = nil
		d, err := data(tx, o.Bucket)
		if err != nil {
			return unwritten(err)
		}
		if replaced, err = installIn(tx, d, o, cond, &s.buckets); err != nil {
			return err // unwritten when install wrote nothing
		}
		if err := s.settleSwap(tx, o.Parts, replaced); err != nil {
			return err
		}
		return s.queueVersion(tx, o)
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

// UpdateObject applies fn to the current version of a key atomically.
func (s *Store) UpdateObject(ctx context.Context, bucket, key string, fn func(*meta.Object) error) error {
	return s.UpdateObjectVersion(ctx, bucket, key, "", fn)
}

// GetObject implements meta.Store.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	return s.getObject(ctx, bucket, key, bytes.Clone)
}

// ReadObject implements meta.RecordReader.
func (s *Store) ReadObject(ctx context.Context, bucket, key, versionID string, into func([]byte) []byte) (*meta.Object, error) {
	if versionID != "" {
		return s.getObjectVersion(ctx, bucket, key, versionID, into)
	}
	return s.getObject(ctx, bucket, key, into)
}

var _ meta.RecordReader = (*Store)(nil)

// getObject is GetObject, with the inline bytes kept by into (nil: not
// read).
func (s *Store) getObject(ctx context.Context, bucket, key string, into func([]byte) []byte) (*meta.Object, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var o *meta.Object
	err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		r, err := decodeRecord([]byte(key), d.Bucket(subObjects).Get([]byte(key)))
		if err == nil && r != nil {
			err = loadInline(d, r, into)
			o = r.object()
		}
		if err != nil || r != nil {
			return err
		}
		vb, _ := versionsOf(d, false)
		if _, r, err := firstVersion(vb, key); err != nil || r != nil {
			if r != nil {
				err = &meta.DeleteMarkerError{Marker: r.object()}
			}
			return err
		}
		return fmt.Errorf("%w: %q/%q", meta.ErrNoSuchKey, bucket, key)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// DeleteObject implements meta.Store.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, cond meta.Precondition) (*meta.Object, error) {
	del, err := s.DeleteObjectVersion(ctx, bucket, key, "", cond)
	if err != nil {
		return nil, err
	}
	return del.Removed, nil
}

// ListObjects implements meta.Store.
//
// The objects are read in chunks, each in its own short read transaction,
// and fn is called outside any transaction: fn may call back into the
// Store, and a slow fn holds no database resources. The listing is
// therefore not one snapshot: a key created or deleted during the listing
// may or may not be seen (as with S3). A chunk is at most 1024 objects.
func (s *Store) ListObjects(ctx context.Context, bucket, prefix, after string, fn func(*meta.Object) error) error {
	return s.ListObjectsDelimited(ctx, bucket, prefix, "", after, func(o *meta.Object, _ string) error { return fn(o) })
}

// ListObjectsDelimited implements meta.Store, chunked as ListObjects. A
// rolled-up prefix costs one seek past it: the keys under it are neither
// read nor decoded.
func (s *Store) ListObjectsDelimited(ctx context.Context, bucket, prefix, delimiter, after string, fn func(o *meta.Object, commonPrefix string) error) error {
	pfx, delim := []byte(prefix), []byte(delimiter)
	excl := []byte(after) // last key not to return
	chunk := 64
	type item struct {
		o  *meta.Object
		cp string
	}
	for {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		seek := pfx
		if bytes.Compare(excl, pfx) >= 0 {
			seek = excl
		}
		var items []item
		done := false
		err := s.db.View(func(tx *bbolt.Tx) error {
			d, err := data(tx, bucket)
			if err != nil {
				return err
			}
			c := d.Bucket(subObjects).Cursor()
			k, v := c.Seek(seek)
			if k != nil && bytes.Equal(k, excl) {
				k, v = c.Next()
			}
			for k != nil && len(items) < chunk {
				if !bytes.HasPrefix(k, pfx) {
					break
				}
				if cp := rollUp(k, len(pfx), delim); cp != nil {
					if !bytes.HasPrefix([]byte(after), cp) { // not returned by an earlier page
						items = append(items, item{cp: string(cp)})
					}
					excl = pastPrefix(cp)
					k, v = c.Seek(excl)
					continue
				}
				r, err := decodeRecord(k, v)
				if err != nil {
					return err
				}
				items = append(items, item{o: r.object()})
				excl = append(excl[:0:0], k...)
				k, v = c.Next()
			}
			done = k == nil || !bytes.HasPrefix(k, pfx)
			return nil
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it.o, it.cp); err != nil {
				if errors.Is(err, meta.ErrStop) {
					return nil
				}
				return err
			}
		}
		if done {
			return nil
		}
		chunk = min(chunk*4, 1024)
	}
}

// rollUp returns the common prefix key rolls up to in a listing by a
// prefix of n bytes and delimiter (up to and including the first
// delimiter after the prefix), or nil.
func rollUp(key []byte, n int, delim []byte) []byte {
	if len(delim) == 0 {
		return nil
	}
	i := bytes.Index(key[n:], delim)
	if i < 0 {
		return nil
	}
	return key[:n+i+len(delim)]
}

// pastPrefix is a position after every key with prefix cp: keys are valid
// UTF-8, which never holds the byte FF. It copies cp (which may alias a
// cursor's memory).
func pastPrefix(cp []byte) []byte {
	return append(append(make([]byte, 0, len(cp)+1), cp...), 0xff)
}

// ---- multipart uploads ----

// CreateUpload implements meta.Store. u.ID must be set by the caller and be
// unique within the bucket (ErrUploadExists otherwise).
func (s *Store) CreateUpload(ctx context.Context, u *meta.Upload) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	if u == nil || u.ID == "" || u.Key == "" {
		return fmt.Errorf("%w: upload needs an ID and a key", ErrInvalid)
	}
	return s.batch(func(tx *bbolt.Tx) error {
		d, err := data(tx, u.Bucket)
		if err != nil {
			return err
		}
		ups := d.Bucket(subUploads)
		id := []byte(u.ID)
		if ups.Get(id) != nil {
			return unwritten(fmt.Errorf("%w: %q", ErrUploadExists, u.ID))
		}
		if d.Bucket(subCompleted).Get(id) != nil {
			return unwritten(fmt.Errorf("%w: %q (completed)", ErrUploadExists, u.ID))
		}
		if err := putJSON(ups, id, u); err != nil {
			return err
		}
		if err := d.Bucket(subUploadIdx).Put(uploadIdxKey(u), id); err != nil {
			return err
		}
		_, err = d.Bucket(subParts).CreateBucket(id)
		return err
	})
}

func getUpload(d *bbolt.Bucket, bucket, uploadID string) (*meta.Upload, error) {
	u := new(meta.Upload)
	ok, err := getJSON(d.Bucket(subUploads), []byte(uploadID), u)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket)
	}
	return u, nil
}

// GetUpload implements meta.Store.
func (s *Store) GetUpload(ctx context.Context, bucket, uploadID string) (*meta.Upload, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var u *meta.Upload
	err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		u, err = getUpload(d, bucket, uploadID)
		return err
	})
	return u, err
}

// PutPart implements meta.Store. It fails with meta.ErrNoSuchUpload when the
// upload was completed or aborted meanwhile; the caller then deletes the
// part's blob.
func (s *Store) PutPart(ctx context.Context, bucket, uploadID string, p *meta.Part) (*meta.Part, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := s.reserve.room(); err != nil {
		return nil, err
	}
	if p == nil || p.Number < 0 || int64(p.Number) > 1<<32-1 {
		return nil, fmt.Errorf("%w: bad part", ErrInvalid)
	}
	var replaced *meta.Part
	err := s.batch(func(tx *bbolt.Tx) error {
		replaced = nil
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		pb := d.Bucket(subParts).Bucket([]byte(uploadID))
		if pb == nil || d.Bucket(subUploads).Get([]byte(uploadID)) == nil {
			return unwritten(fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket))
		}
		k := be32(p.Number)
		var old meta.Part
		ok, err := getJSON(pb, k, &old)
		if err != nil {
			return err
		}
		if ok {
			replaced = &old
			if err := s.pendParts(tx, []meta.Part{old}); err != nil {
				return err
			}
		}
		if err := settle(tx, []meta.Part{*p}); err != nil {
			return err
		}
		return putJSON(pb, k, p)
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

func readParts(pb *bbolt.Bucket) ([]meta.Part, error) {
	var parts []meta.Part
	err := pb.ForEach(func(k, v []byte) error {
		var p meta.Part
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("meta/bolt: decode part %x: %w", k, err)
		}
		parts = append(parts, p)
		return nil
	})
	return parts, err
}

// ListParts implements meta.Store; parts come in part-number order.
func (s *Store) ListParts(ctx context.Context, bucket, uploadID string) ([]meta.Part, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var parts []meta.Part
	err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		pb := d.Bucket(subParts).Bucket([]byte(uploadID))
		if pb == nil || d.Bucket(subUploads).Get([]byte(uploadID)) == nil {
			return fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket)
		}
		parts, err = readParts(pb)
		return err
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// ListUploads implements meta.Store.
func (s *Store) ListUploads(ctx context.Context, bucket, prefix string) ([]*meta.Upload, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []*meta.Upload
	err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		ups := d.Bucket(subUploads)
		pfx := appendEsc(nil, prefix)
		c := d.Bucket(subUploadIdx).Cursor()
		for k, id := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, id = c.Next() {
			u := new(meta.Upload)
			ok, err := getJSON(ups, id, u)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("meta/bolt: upload index of %q points to missing upload %q", bucket, id)
			}
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// removeUpload deletes the upload record, its index entry and its parts,
// returning the parts.
func removeUpload(d *bbolt.Bucket, u *meta.Upload) ([]meta.Part, error) {
	id := []byte(u.ID)
	var parts []meta.Part
	if pb := d.Bucket(subParts).Bucket(id); pb != nil {
		var err error
		if parts, err = readParts(pb); err != nil {
			return nil, err
		}
		if err := d.Bucket(subParts).DeleteBucket(id); err != nil {
			return nil, err
		}
	}
	if err := d.Bucket(subUploadIdx).Delete(uploadIdxKey(u)); err != nil {
		return nil, err
	}
	return parts, d.Bucket(subUploads).Delete(id)
}

type completedRecord struct {
	meta.CompletedUpload
	Completed time.Time
}

// CompleteUpload implements meta.Store. o.Key must be the upload's key and
// o.Bucket empty or bucket. A part is unused when no part of o has its
// BlobID.
func (s *Store) CompleteUpload(ctx context.Context, bucket, uploadID string, o *meta.Object, cond meta.Precondition) (*meta.Object, []meta.Part, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, nil, err
	}
	if err := s.reserve.room(); err != nil {
		return nil, nil, err
	}
	if o == nil {
		return nil, nil, fmt.Errorf("%w: nil object", ErrInvalid)
	}
	if o.Bucket == "" {
		c := *o
		c.Bucket = bucket
		o = &c
	}
	if err := checkObject(bucket, o); err != nil {
		return nil, nil, err
	}
	used := make(map[string]bool, len(o.Parts))
	for _, p := range o.Parts {
		used[p.BlobID] = true
	}
	var (
		replaced *meta.Object
		unused   []meta.Part
	)
	err := s.batch(func(tx *bbolt.Tx) error {
		replaced, unused = nil, nil
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		u, err := getUpload(d, bucket, uploadID)
		if err != nil {
			return unwritten(err)
		}
		if u.Key != o.Key {
			return unwritten(fmt.Errorf("%w: upload %q is for key %q, not %q", ErrInvalid, uploadID, u.Key, o.Key))
		}
		parts, err := removeUpload(d, u)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if !used[p.BlobID] {
				unused = append(unused, p)
			}
		}
		if replaced, err = installIn(tx, d, o, cond, &s.buckets); err != nil {
			return written(err) // the upload was removed already
		}
		if err := s.settleSwap(tx, o.Parts, replaced); err != nil {
			return err
		}
		if err := s.pendParts(tx, unused); err != nil {
			return err
		}
		if err := s.queueVersion(tx, o); err != nil {
			return err
		}
		return s.recordCompleted(d, &completedRecord{
			CompletedUpload: meta.CompletedUpload{ID: uploadID, Key: o.Key, ETag: o.ETag, Parts: meta.PartsDigest(o.Parts)},
			Completed:       s.now(),
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return replaced, unused, nil
}

// recordCompleted stores r and prunes records that are too old or too many.
// The number of records is kept beside them (keyCompletedCount), so a
// Complete does not count them all.
func (s *Store) recordCompleted(d *bbolt.Bucket, r *completedRecord) error {
	cb, tb := d.Bucket(subCompleted), d.Bucket(subDoneTimes)
	n := completedCount(d, tb)
	if err := putJSON(cb, []byte(r.ID), r); err != nil {
		return err
	}
	if err := tb.Put(append(appendTime(nil, r.Completed), r.ID...), nil); err != nil {
		return err
	}
	n++ // IDs are unique: CreateUpload refuses a completed one
	cutoff := r.Completed.Add(-CompletedRetention)
	var drop [][]byte
	c := tb.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if n-len(drop) <= s.maxCompleted && !decodeTime(k).Before(cutoff) {
			break
		}
		drop = append(drop, k)
	}
	for _, k := range drop {
		if err := cb.Delete(k[12:]); err != nil {
			return err
		}
		if err := tb.Delete(k); err != nil {
			return err
		}
	}
	return d.Put(keyCompletedCount, binary.BigEndian.AppendUint64(nil, uint64(n-len(drop))))
}

// completedCount returns the number of completed records of a bucket; a
// bucket from before the count was kept is counted once.
func completedCount(d, tb *bbolt.Bucket) int {
	if v := d.Get(keyCompletedCount); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	n := 0
	c := tb.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// GetCompletedUpload implements meta.Store: meta.ErrNoSuchUpload when the
// upload is unknown or was completed more than CompletedRetention ago.
func (s *Store) GetCompletedUpload(ctx context.Context, bucket, uploadID string) (*meta.CompletedUpload, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var r completedRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		ok, err := getJSON(d.Bucket(subCompleted), []byte(uploadID), &r)
		if err == nil && (!ok || s.now().Sub(r.Completed) > CompletedRetention) {
			err = fmt.Errorf("%w: %q in %q", meta.ErrNoSuchUpload, uploadID, bucket)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r.CompletedUpload, nil
}

// AbortUpload implements meta.Store: it removes the upload and returns its
// parts.
func (s *Store) AbortUpload(ctx context.Context, bucket, uploadID string) ([]meta.Part, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var parts []meta.Part
	err := s.db.Update(func(tx *bbolt.Tx) error {
		d, err := data(tx, bucket)
		if err != nil {
			return err
		}
		u, err := getUpload(d, bucket, uploadID)
		if err != nil {
			return err
		}
		if parts, err = removeUpload(d, u); err != nil {
			return err
		}
		return s.pendParts(tx, parts)
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// ---- users ----

// PutUser implements meta.Store. Access key IDs must be unique across users
// (ErrAccessKeyInUse); keys the user no longer has are released.
func (s *Store) PutUser(ctx context.Context, u *meta.User) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := s.reserve.room(); err != nil {
		return err
	}
	if u == nil || u.Name == "" {
		return fmt.Errorf("%w: empty user name", ErrInvalid)
	}
	ids := make(map[string]bool, len(u.Keys))
	for _, k := range u.Keys {
		if k.ID == "" {
			return fmt.Errorf("%w: empty access key ID", ErrInvalid)
		}
		if ids[k.ID] {
			return fmt.Errorf("%w: %q appears twice", ErrAccessKeyInUse, k.ID)
		}
		ids[k.ID] = true
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		users, keys := tx.Bucket(bkUsers), tx.Bucket(bkKeys)
		for id := range ids {
			if owner := keys.Get([]byte(id)); owner != nil && string(owner) != u.Name {
				return fmt.Errorf("%w: %q", ErrAccessKeyInUse, id)
			}
		}
		var old meta.User
		ok, err := getJSON(users, []byte(u.Name), &old)
		if err != nil {
			return err
		}
		if ok {
			for _, k := range old.Keys {
				if !ids[k.ID] {
					if err := keys.Delete([]byte(k.ID)); err != nil {
						return err
					}
				}
			}
		}
		for id := range ids {
			if err := keys.Put([]byte(id), []byte(u.Name)); err != nil {
				return err
			}
		}
		return putJSON(users, []byte(u.Name), u)
	})
}

// GetUser implements meta.Store.
func (s *Store) GetUser(ctx context.Context, name string) (*meta.User, error) {
	return getRecord[meta.User](ctx, s, bkUsers, name, meta.ErrNoSuchUser)
}

// DeleteUser implements meta.Store: meta.ErrNoSuchUser if there is none.
// The user's access keys are released. Buckets the user owns are untouched.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		users, keys := tx.Bucket(bkUsers), tx.Bucket(bkKeys)
		var u meta.User
		ok, err := getJSON(users, []byte(name), &u)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchUser, name)
		}
		for _, k := range u.Keys {
			if string(keys.Get([]byte(k.ID))) == name {
				if err := keys.Delete([]byte(k.ID)); err != nil {
					return err
				}
			}
		}
		if err := forgetUserInKeyPolicies(tx, name); err != nil { // keypolicies.go
			return err
		}
		return users.Delete([]byte(name))
	})
}

// ListUsers implements meta.Store; users come in name order.
func (s *Store) ListUsers(ctx context.Context) ([]*meta.User, error) {
	return listRecords[meta.User](ctx, s, bkUsers, "user")
}

// UserByAccessKey implements meta.Store. The user is returned whether or not
// the key (or the user) is disabled; the caller checks.
func (s *Store) UserByAccessKey(ctx context.Context, accessKeyID string) (*meta.User, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var u meta.User
	err := s.db.View(func(tx *bbolt.Tx) error {
		name := tx.Bucket(bkKeys).Get([]byte(accessKeyID))
		if name == nil {
			return fmt.Errorf("%w: %q", meta.ErrNoSuchAccessKey, accessKeyID)
		}
		ok, err := getJSON(tx.Bucket(bkUsers), name, &u)
		if err == nil && !ok {
			err = fmt.Errorf("meta/bolt: access key %q points to missing user %q", accessKeyID, name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ---- orphan sweeping ----

// BlobRefs implements meta.Store. It reads one consistent snapshot, so a
// blob moving from an upload's parts to an object (CompleteUpload) is seen
// exactly once. fn therefore runs inside a read transaction: it must not
// call back into the Store (that can deadlock with a writer growing the
// file) and should be quick (e.g. add to a set). Returning meta.ErrStop
// ends the walk without error. IDs may repeat.
func (s *Store) BlobRefs(ctx context.Context, fn func(id string) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.View(func(tx *bbolt.Tx) error { return blobRefs(ctx, tx, fn) })
	if errors.Is(err, meta.ErrStop) {
		return nil
	}
	return err
}

// blobRefs calls fn with every blob ID tx's objects, versions and parts
// reference.
func blobRefs(ctx context.Context, tx *bbolt.Tx, fn func(id string) error) error {
	emit := func(id string) error {
		if id == "" {
			return nil
		}
		return fn(id)
	}
	return tx.Bucket(bkData).ForEachBucket(func(name []byte) error {
		d := tx.Bucket(bkData).Bucket(name)
		n := 0
		objRefs := func(k, v []byte) error {
			if n++; n%4096 == 0 {
				if err := ctxErr(ctx); err != nil {
					return err
				}
			}
			r, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			for _, p := range r.Parts {
				if err := emit(p.BlobID); err != nil {
					return err
				}
			}
			return nil
		}
		if err := d.Bucket(subObjects).ForEach(objRefs); err != nil {
			return err
		}
		if vb := d.Bucket(subVersions); vb != nil {
			if err := vb.ForEach(objRefs); err != nil {
				return err
			}
		}
		pbs := d.Bucket(subParts)
		return pbs.ForEachBucket(func(id []byte) error {
			return pbs.Bucket(id).ForEach(func(k, v []byte) error {
				var p struct{ BlobID string }
				if err := json.Unmarshal(v, &p); err != nil {
					return fmt.Errorf("meta/bolt: decode part %q/%x: %w", id, k, err)
				}
				return emit(p.BlobID)
			})
		})
	})
}
