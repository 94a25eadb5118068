package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// bg is these tests' context (their own: the store-generic tests, and
// what they share, may move out of this package).
var bg = context.Background()

// recStore opens a store in a temporary directory (its own helper: the
// store-generic tests may move out of this package).
func recStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fullRecord() *record {
	until := time.Date(2031, 2, 3, 4, 5, 6, 7, time.UTC)
	return &record{Seq: 1<<40 + 3, Object: meta.Object{
		Bucket: "bkt", Key: "a/b\x00c", Size: 1 << 33, ETag: "abc-2", LastModified: time.Unix(1700000000, 123).UTC(),
		Owner:    "alice",
		Headers:  meta.Headers{ContentType: "text/plain", ContentEncoding: "gzip", ContentDisposition: "x", ContentLanguage: "en", CacheControl: "no", Expires: "never"},
		UserMeta: map[string]string{"b": "2", "a": "1"}, Checksums: map[string]string{},
		Parts: []meta.Part{
			{Number: 1, BlobID: "blob1", Size: 5, StoredSize: 40, ETag: "p1", LastModified: time.Unix(5, 6).UTC(), Checksums: map[string]string{"CRC32": "x"}, Format: meta.FormatPlainV1},
			{Number: 2, Size: 0},
		},
		Multipart: true,
		Encryption: &meta.Encryption{Mode: "kms", Algorithm: "AES256", KeyID: "k", ProjectID: "p", Context: "c", BucketKey: true,
			WrappedKey: []byte{1, 2, 3}, Salt: []byte{}, SegmentSize: 65536, Extra: map[string]string{"x": "y"}},
		ACL: "private", VersionID: "vid", DeleteMarker: true, Tags: []meta.Tag{{Key: "t", Value: "v"}},
		ReplicationStatus: "PENDING",
		Lock:              meta.Lock{LockMode: "COMPLIANCE", LockUntil: &until, LegalHold: true, LegalHoldSet: true},
	}}
}

// TestRecordRoundTrip: the binary encoding gives back what JSON did,
// nil and empty collections apart.
func TestRecordRoundTrip(t *testing.T) {
	for name, r := range map[string]*record{
		"full":  fullRecord(),
		"empty": {},
		"plain": {Object: meta.Object{Bucket: "b", Key: "k", Parts: []meta.Part{}, Tags: []meta.Tag{}}},
		// knownStr returns well-known modes and algorithms without
		// allocating; any other value must come back as written.
		"sm4":   {Object: meta.Object{Encryption: &meta.Encryption{Mode: "managed", Algorithm: "SM4"}}},
		"other": {Object: meta.Object{Encryption: &meta.Encryption{Mode: "future-mode", Algorithm: "AES256-X"}}},
		// A wrapped key is decoded into room beside the material when it
		// fits, and into its own allocation when not.
		"wrapped fits": {Object: meta.Object{Encryption: &meta.Encryption{Mode: "kms", WrappedKey: bytes.Repeat([]byte{7}, wrappedKeyRoom)}}},
		"wrapped long": {Object: meta.Object{Encryption: &meta.Encryption{Mode: "kms", WrappedKey: bytes.Repeat([]byte{9}, wrappedKeyRoom+1)}}},
		"wrapped nil":  {Object: meta.Object{Encryption: &meta.Encryption{Mode: "kms"}}},
		// The wrapped bucket key is stored among Extra's entries; a
		// record with no others decodes no map.
		"bucket key":       {Object: meta.Object{Encryption: &meta.Encryption{Mode: "kms", BucketKey: true, WrappedBucketKey: "d2s="}}},
		"bucket key extra": {Object: meta.Object{Encryption: &meta.Encryption{Mode: "kms", BucketKey: true, WrappedBucketKey: "d2s=", Extra: map[string]string{"x": "y", "c": "d"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			v := appendRecord(nil, r)
			if v[0] != recordV1 {
				t.Fatalf("version byte %#x", v[0])
			}
			got, err := decodeRecord([]byte("k"), v)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(r)
			want, err := decodeRecord([]byte("k"), js)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("binary decodes to\n%+v\nJSON to\n%+v", got, want)
			}
			if e := got.Encryption; e != nil && len(e.WrappedKey) > 0 && len(e.WrappedKey) <= wrappedKeyRoom {
				// In the room beside the material, an append to the
				// wrapped key must not write past it.
				if cap(e.WrappedKey) != len(e.WrappedKey) {
					t.Errorf("wrapped key: len %d, cap %d", len(e.WrappedKey), cap(e.WrappedKey))
				}
			}
			for n := range len(v) - 1 { // every truncation is refused
				if _, err := decodeRecord([]byte("k"), v[:n+1]); err == nil && n+1 < len(v) {
					t.Fatalf("record truncated to %d bytes decoded", n+1)
				}
			}
		})
	}
}

// TestBucketKeyStoredAsBefore: a record's wrapped bucket key is stored as
// Extra["bucketKey"], byte for byte as before it had a field of its own,
// in the binary encoding and in JSON (PostgreSQL's, and old bolt records),
// and records stored that way read into the field.
func TestBucketKeyStoredAsBefore(t *testing.T) {
	enc := func(field string, extra map[string]string) *record {
		return &record{Object: meta.Object{Bucket: "b", Key: "k", Encryption: &meta.Encryption{Mode: "kms", BucketKey: true,
			WrappedKey: []byte{1, 2}, WrappedBucketKey: field, Extra: extra}}}
	}
	for name, tc := range map[string]struct{ now, before *record }{
		"alone":       {enc("d2s=", nil), enc("", map[string]string{"bucketKey": "d2s="})},
		"with others": {enc("d2s=", map[string]string{"z": "1", "a": "2"}), enc("", map[string]string{"bucketKey": "d2s=", "z": "1", "a": "2"})},
	} {
		t.Run(name, func(t *testing.T) {
			bin, old := appendRecord(nil, tc.now), appendRecord(nil, tc.before)
			if !bytes.Equal(bin, old) {
				t.Fatalf("binary record changed:\n%x\nwas\n%x", bin, old)
			}
			js, err := json.Marshal(tc.now)
			if err != nil {
				t.Fatal(err)
			}
			type oldEncryption struct { // meta.Encryption's JSON before the field
				Mode, Algorithm, KeyID, ProjectID, Context string
				BucketKey                                  bool
				WrappedKey, Salt                           []byte
				SegmentSize                                int
				Extra                                      map[string]string
			}
			var got struct{ Encryption oldEncryption } // the record embeds its object
			if err := json.Unmarshal(js, &got); err != nil {
				t.Fatal(err)
			}
			if want := tc.before.Encryption.Extra; !reflect.DeepEqual(got.Encryption.Extra, want) {
				t.Fatalf("JSON Extra = %v, want %v (%s)", got.Encryption.Extra, want, js)
			}
			for _, v := range [][]byte{bin, js} {
				r, err := decodeRecord([]byte("k"), v)
				if err != nil {
					t.Fatal(err)
				}
				if e := r.Encryption; e.WrappedBucketKey != "d2s=" || !reflect.DeepEqual(e.Extra, tc.now.Encryption.Extra) {
					t.Fatalf("%.1s record reads bucket key %q, Extra %v", v, e.WrappedBucketKey, e.Extra)
				}
			}
		})
	}
}

// writeJSONRecords builds the fixture of a store written before the binary
// encoding: object records put as JSON directly, inline bytes inside.
func writeJSONRecords(t *testing.T, s *Store, bucket string, recs map[string]*record, versions map[string]*record) {
	t.Helper()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		d := tx.Bucket(bkData).Bucket([]byte(bucket))
		for k, r := range recs {
			if err := putJSON(d.Bucket(subObjects), []byte(k), r); err != nil {
				return err
			}
		}
		vb, err := versionsOf(d, true)
		if err != nil {
			return err
		}
		for k, r := range versions {
			if err := putJSON(vb, []byte(k), r); err != nil {
				return err
			}
		}
		return d.SetSequence(100)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func inlineObj(bucket, key string, data string) *meta.Object {
	return &meta.Object{Bucket: bucket, Key: key, Size: int64(len(data)), ETag: "e-" + key, LastModified: time.Unix(1700000000, 0).UTC(),
		Parts: []meta.Part{{Inline: []byte(data), Size: int64(len(data)), StoredSize: int64(len(data))}}}
}

// rawValue is the stored record of key in bucket's o index.
func rawValue(t *testing.T, s *Store, bucket, key string) []byte {
	t.Helper()
	var v []byte
	s.db.View(func(tx *bbolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bkData).Bucket([]byte(bucket)).Bucket(subObjects).Get([]byte(key)))
		return nil
	})
	return v
}

// inlineCount is the number of inline entries stored apart in bucket.
func inlineCount(t *testing.T, s *Store, bucket string) int {
	t.Helper()
	n := 0
	s.db.View(func(tx *bbolt.Tx) error {
		if ib := tx.Bucket(bkData).Bucket([]byte(bucket)).Bucket(subInline); ib != nil {
			n = ib.Stats().KeyN
		}
		return nil
	})
	return n
}

func wantInline(t *testing.T, o *meta.Object, err error, data string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Parts) != 1 || string(o.Parts[0].Inline) != data {
		t.Fatalf("parts %+v, want inline %q", o.Parts, data)
	}
}

// TestOldJSONRecords opens a store whose object records are the old JSON
// ones (unversioned and versioned buckets, inline and blob data, a
// noncurrent version and a delete marker) and reads, lists, overwrites and
// deletes them.
func TestOldJSONRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := recStore(t, path)
	for _, b := range []string{"plain", "ver"} {
		if err := s.CreateBucket(bg, &meta.Bucket{Name: b, Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateBucket(bg, "ver", func(b *meta.Bucket) error { b.Versioning = meta.VersioningEnabled; return nil }); err != nil {
		t.Fatal(err)
	}
	blobObj := inlineObj("plain", "blob", "")
	blobObj.Parts = []meta.Part{{BlobID: "blob-1", Size: 10, StoredSize: 50}}
	writeJSONRecords(t, s, "plain", map[string]*record{
		"a":    {Object: *inlineObj("plain", "a", "old-a")},
		"b":    {Object: *inlineObj("plain", "b", "old-b")},
		"blob": {Object: *blobObj},
	}, nil)
	cur := &record{Object: *inlineObj("ver", "k", "current"), Seq: 7}
	cur.VersionID = meta.NewVersionID(7)
	old := &record{Object: *inlineObj("ver", "k", "older"), Seq: 5}
	old.VersionID = meta.NewVersionID(5)
	marker := &record{Object: meta.Object{Bucket: "ver", Key: "gone", DeleteMarker: true, LastModified: time.Unix(1, 0).UTC()}, Seq: 9}
	marker.VersionID = meta.NewVersionID(9)
	writeJSONRecords(t, s, "ver", map[string]*record{"k": cur}, map[string]*record{
		string(vkey("k", 5)): old, string(vkey("gone", 9)): marker,
	})
	if v := rawValue(t, s, "plain", "a"); v[0] != '{' {
		t.Fatalf("fixture is not JSON: %q", v)
	}
	s.Close()
	s = recStore(t, path) // reopened as an upgraded node would

	o, err := s.GetObject(bg, "plain", "a")
	wantInline(t, o, err, "old-a")
	if o, err = s.GetObject(bg, "plain", "blob"); err != nil || o.Parts[0].BlobID != "blob-1" {
		t.Fatalf("blob record: %+v, %v", o, err)
	}
	o, err = s.GetObjectVersion(bg, "ver", "k", old.VersionID)
	wantInline(t, o, err, "older")
	var dm *meta.DeleteMarkerError
	if _, err := s.GetObject(bg, "ver", "gone"); !errors.As(err, &dm) {
		t.Fatalf("delete marker: %v", err)
	}
	var keys []string
	if err := s.ListObjects(bg, "plain", "", "", func(o *meta.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "blob"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("listed %q, want %q", keys, want)
	}
	var vers []string
	err = s.ListObjectVersions(bg, "ver", "", "", "", func(o *meta.Object, latest bool) error {
		vers = append(vers, o.Key+"/"+o.VersionID)
		return nil
	})
	if want := []string{"gone/" + marker.VersionID, "k/" + cur.VersionID, "k/" + old.VersionID}; err != nil || !reflect.DeepEqual(vers, want) {
		t.Fatalf("versions %q (%v), want %q", vers, err, want)
	}

	// Overwrite: the old record is replaced (returned with its bytes),
	// the new one is binary with its bytes apart.
	rep, err := s.PutObject(bg, inlineObj("plain", "a", "new-a"), nil)
	if err != nil || rep == nil || string(rep.Parts[0].Inline) != "old-a" {
		t.Fatalf("overwrite replaced %+v, %v", rep, err)
	}
	if v := rawValue(t, s, "plain", "a"); v[0] != recordV1 || bytes.Contains(v, []byte("new-a")) {
		t.Fatalf("rewritten record %q", v)
	}
	o, err = s.GetObject(bg, "plain", "a")
	wantInline(t, o, err, "new-a")
	// Delete of an old record.
	if del, err := s.DeleteObject(bg, "plain", "b", nil); err != nil || del == nil {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	if _, err := s.GetObject(bg, "plain", "b"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("deleted key: %v", err)
	}
	// A versioned write demotes the old JSON current version: it moves to
	// the v index rewritten, its bytes apart, and still reads.
	if _, err := s.PutObject(bg, inlineObj("ver", "k", "newest"), nil); err != nil {
		t.Fatal(err)
	}
	o, err = s.GetObjectVersion(bg, "ver", "k", cur.VersionID)
	wantInline(t, o, err, "current")
	o, err = s.GetObject(bg, "ver", "k")
	wantInline(t, o, err, "newest")
	// Removing an old noncurrent version for good.
	if del, err := s.DeleteObjectVersion(bg, "ver", "k", old.VersionID, nil); err != nil || del.Removed == nil {
		t.Fatalf("delete version: %+v, %v", del, err)
	}
	if _, err := s.GetObjectVersion(bg, "ver", "k", old.VersionID); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Fatalf("removed version: %v", err)
	}
}

// TestInlineApart: inline bytes are not in the object record, listings
// do not carry them, and overwrites and deletes drop them.
func TestInlineApart(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	secret := "inline-bytes-0123456789"
	if _, err := s.PutObject(bg, inlineObj("b", "k", secret), nil); err != nil {
		t.Fatal(err)
	}
	if v := rawValue(t, s, "b", "k"); bytes.Contains(v, []byte(secret)) {
		t.Fatalf("record holds the inline bytes: %q", v)
	}
	if n := inlineCount(t, s, "b"); n != 1 {
		t.Fatalf("%d inline entries, want 1", n)
	}
	o, err := s.GetObject(bg, "b", "k")
	wantInline(t, o, err, secret)
	s.ListObjects(bg, "b", "", "", func(o *meta.Object) error {
		if o.Parts[0].Inline != nil {
			t.Errorf("listing carries inline bytes")
		}
		return nil
	})
	if _, err := s.PutObject(bg, inlineObj("b", "k", "second"), nil); err != nil {
		t.Fatal(err)
	}
	if n := inlineCount(t, s, "b"); n != 1 {
		t.Fatalf("after overwrite: %d inline entries, want 1", n)
	}
	o, err = s.GetObject(bg, "b", "k")
	wantInline(t, o, err, "second")
	if err := s.UpdateObject(bg, "b", "k", func(o *meta.Object) error { o.ACL = "public-read"; return nil }); err != nil {
		t.Fatal(err)
	}
	o, err = s.GetObject(bg, "b", "k")
	wantInline(t, o, err, "second")
	if _, err := s.DeleteObject(bg, "b", "k", nil); err != nil {
		t.Fatal(err)
	}
	if n := inlineCount(t, s, "b"); n != 0 {
		t.Fatalf("after delete: %d inline entries, want 0", n)
	}
	// Suspended versioning: the null version's bytes go with it.
	if err := s.UpdateBucket(bg, "b", func(b *meta.Bucket) error { b.Versioning = meta.VersioningSuspended; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"one", "two"} {
		if _, err := s.PutObject(bg, inlineObj("b", "n", d), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := inlineCount(t, s, "b"); n != 1 {
		t.Fatalf("suspended overwrite: %d inline entries, want 1", n)
	}
}

// BenchmarkRecordDecode compares decoding one 4 KiB inline object's record
// in the old JSON form (bytes inside) and the binary one (bytes apart).
func BenchmarkRecordDecode(b *testing.B) {
	r := fullRecord()
	r.Parts = []meta.Part{{Inline: bytes.Repeat([]byte{7}, 4096), Size: 4096, StoredSize: 4096}}
	js, _ := json.Marshal(r)
	r.ref, r.inl = 1, []uint32{4096}
	bin := appendRecord(nil, r)
	for name, v := range map[string][]byte{"json": js, "binary": bin} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(v)), "bytes")
			for b.Loop() {
				if _, err := decodeRecord(nil, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReadObject: the record without its inline bytes (into nil), or
// with them where into keeps them, for the current version and a named
// one, and the errors GetObject and GetObjectVersion give (missing key,
// missing version, a delete marker).
func TestReadObject(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Owner: "alice", Versioning: meta.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	put := func(key, data string) *meta.Object {
		t.Helper()
		if _, err := s.PutObject(bg, inlineObj("b", key, data), nil); err != nil {
			t.Fatal(err)
		}
		o, err := s.GetObject(bg, "b", key)
		wantInline(t, o, err, data)
		return o
	}
	first := put("k", "first")
	second := put("k", "second!")
	for _, c := range []struct {
		name, versionID string
		full            *meta.Object
	}{
		{"current", "", second},
		{"named, current", second.VersionID, second},
		{"named, noncurrent", first.VersionID, first},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := s.ReadObject(bg, "b", "k", c.versionID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if o.Parts[0].Inline != nil {
				t.Fatalf("inline bytes loaded: %q", o.Parts[0].Inline)
			}
			want := *c.full
			want.Parts = []meta.Part{c.full.Parts[0]}
			want.Parts[0].Inline = nil
			if !reflect.DeepEqual(o, &want) {
				t.Fatalf("record\n%+v\nwant\n%+v", o, &want)
			}
			// Kept where into says: the caller's buffer, not a copy of it.
			buf := make([]byte, 64)
			o, err = s.ReadObject(bg, "b", "k", c.versionID, func(stored []byte) []byte { return append(buf[:0], stored...) })
			if err != nil || !reflect.DeepEqual(o, c.full) {
				t.Fatalf("with into: %+v, %v; want %+v", o, err, c.full)
			}
			if &o.Parts[0].Inline[0] != &buf[0] {
				t.Fatal("inline bytes not kept in into's buffer")
			}
		})
	}
	if _, err := s.ReadObject(bg, "b", "missing", "", nil); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("missing key: %v", err)
	}
	other := put("other", "x") // its version id, valid but none of k's
	if _, err := s.ReadObject(bg, "b", "k", other.VersionID, nil); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Errorf("missing version: %v", err)
	}
	if _, err := s.DeleteObject(bg, "b", "k", nil); err != nil { // a delete marker on top
		t.Fatal(err)
	}
	_, err := s.ReadObject(bg, "b", "k", "", nil)
	var dm *meta.DeleteMarkerError
	if !errors.As(err, &dm) || !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("current delete marker: %v", err)
	}
	o, err := s.ReadObject(bg, "b", "k", first.VersionID, nil)
	if err != nil || o.Parts[0].Inline != nil || o.Parts[0].StoredSize != int64(len("first")) {
		t.Errorf("noncurrent under a marker: %+v, %v", o, err)
	}
}
