package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Object records
//
// An object version (in o or v) is stored in a compact binary encoding:
// a version byte (recordV1) and then the fields in a fixed order, as
// varints and length-prefixed strings (appendRecord is the reference).
// Records written before it are JSON (their first byte is '{') and are
// still read; they are rewritten in the binary form when next written
// (a version moving between o and v included).
//
// Inline part bytes are not inside the record: they live apart in
//
//	data/<bucket>/n   be64(ref) | be32(part index) -> the part's stored bytes
//
// where ref is a number taken from the bucket's sequence when the record
// is first written and kept by the record wherever it moves, so listings,
// overwrites and deletes neither read nor decode them; only GetObject and
// GetObjectVersion load them. A record removed for good drops its entries
// (dropInline). Old JSON records keep their inline bytes inside (base64)
// until rewritten.

var subInline = []byte("n")

// inlineFill is the n index's fill percent in write transactions. Its
// keys come from the bucket's sequence, so every new entry is appended
// after the last one; at bbolt's default (0.5) each split leaves a page
// half full for good, which with ~1 KiB values is two values to a 4 KiB
// page (2 KiB of page per 1 KiB stored). Full pages hold three.
const inlineFill = 1.0

// inlineBucket is d's n index for writing (created if create), filled
// to inlineFill. bbolt reads FillPercent from the handle when the
// transaction commits, and a write transaction hands out one handle per
// bucket, so setting it on any write path covers the whole commit.
func inlineBucket(d *bbolt.Bucket, create bool) (*bbolt.Bucket, error) {
	var ib *bbolt.Bucket
	if create {
		var err error
		if ib, err = d.CreateBucketIfNotExists(subInline); err != nil {
			return nil, err
		}
	} else if ib = d.Bucket(subInline); ib == nil {
		return nil, nil
	}
	ib.FillPercent = inlineFill
	return ib, nil
}

// recordV1 is the first byte of a binary record: never '{'.
const recordV1 = 0x01

// Record flags.
const (
	flagMultipart = 1 << iota
	flagDeleteMarker
	flagLegalHold
	flagLegalHoldSet
	flagEncryption
	flagLockUntil
	flagBucketKey
)

var errCorrupt = errors.New("meta/bolt: corrupt object record")

// appendRecord appends r's binary encoding. Parts whose bytes are stored
// apart (r.inl) are marked with their length; their bytes are not
// written.
func appendRecord(dst []byte, r *record) []byte {
	o := &r.Object
	var flags uint64
	set := func(f uint64, on bool) {
		if on {
			flags |= f
		}
	}
	set(flagMultipart, o.Multipart)
	set(flagDeleteMarker, o.DeleteMarker)
	set(flagLegalHold, o.LegalHold)
	set(flagLegalHoldSet, o.LegalHoldSet)
	set(flagEncryption, o.Encryption != nil)
	set(flagLockUntil, o.LockUntil != nil)
	set(flagBucketKey, o.Encryption != nil && o.Encryption.BucketKey)
	dst = append(dst, recordV1)
	dst = binary.AppendUvarint(dst, flags)
	dst = binary.AppendUvarint(dst, r.Seq)
	dst = binary.AppendUvarint(dst, r.ref)
	dst = appendStr(dst, o.Bucket)
	dst = appendStr(dst, o.Key)
	dst = binary.AppendVarint(dst, o.Size)
	dst = appendStr(dst, o.ETag)
	dst = appendTimeV(dst, o.LastModified)
	dst = appendStr(dst, o.Owner)
	h := &o.Headers
	for _, s := range [...]string{h.ContentType, h.ContentEncoding, h.ContentDisposition, h.ContentLanguage, h.CacheControl, h.Expires} {
		dst = appendStr(dst, s)
	}
	dst = appendMap(dst, o.UserMeta)
	dst = appendMap(dst, o.Checksums)
	dst = appendCount(dst, len(o.Parts), o.Parts == nil)
	for i := range o.Parts {
		p := &o.Parts[i]
		dst = binary.AppendVarint(dst, int64(p.Number))
		dst = appendStr(dst, p.BlobID)
		n := uint64(0)
		if i < len(r.inl) {
			n = uint64(r.inl[i])
		}
		dst = binary.AppendUvarint(dst, n)
		dst = binary.AppendVarint(dst, p.Size)
		dst = binary.AppendVarint(dst, p.StoredSize)
		dst = appendStr(dst, p.ETag)
		dst = appendTimeV(dst, p.LastModified)
		dst = appendMap(dst, p.Checksums)
		dst = binary.AppendVarint(dst, int64(p.Format))
	}
	if e := o.Encryption; e != nil {
		for _, s := range [...]string{e.Mode, e.Algorithm, e.KeyID, e.ProjectID, e.Context} {
			dst = appendStr(dst, s)
		}
		dst = appendBytes(dst, e.WrappedKey)
		dst = appendBytes(dst, e.Salt)
		dst = binary.AppendVarint(dst, int64(e.SegmentSize))
		dst = appendExtra(dst, e)
	}
	dst = appendStr(dst, o.ACL)
	dst = appendStr(dst, o.VersionID)
	dst = appendCount(dst, len(o.Tags), len(o.Tags) == 0) // omitempty in JSON
	for _, t := range o.Tags {
		dst = appendStr(appendStr(dst, t.Key), t.Value)
	}
	dst = appendStr(dst, o.ReplicationStatus)
	dst = appendStr(dst, o.LockMode)
	if o.LockUntil != nil {
		dst = appendTimeV(dst, *o.LockUntil)
	}
	return dst
}

func appendStr(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// appendCount appends n+1, or 0 for nil (nil and empty differ in JSON
// too, and callers may tell them apart).
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func appendBytes(dst, b []byte) []byte {
	return append(appendCount(dst, len(b), b == nil), b...)
}

// appendMap appends m's entries in key order.
func appendMap(dst []byte, m map[string]string) []byte {
	dst = appendCount(dst, len(m), m == nil)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = appendStr(appendStr(dst, k), m[k])
	}
	return dst
}

// appendExtra appends e.Extra with e.WrappedBucketKey among its entries
// (meta.ExtraBucketKey), as records stored it before it had a field.
func appendExtra(dst []byte, e *meta.Encryption) []byte {
	if e.WrappedBucketKey == "" {
		return appendMap(dst, e.Extra)
	}
	dst = appendCount(dst, len(e.Extra)+1, false)
	keys := make([]string, 0, len(e.Extra)+1)
	keys = append(keys, meta.ExtraBucketKey)
	for k := range e.Extra {
		if k != meta.ExtraBucketKey { // the field wins
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := e.Extra[k]
		if k == meta.ExtraBucketKey {
			v = e.WrappedBucketKey
		}
		dst = appendStr(appendStr(dst, k), v)
	}
	return dst
}

// appendTimeV appends t as Unix seconds and nanoseconds; it is read back
// in UTC (the zero time included).
func appendTimeV(dst []byte, t time.Time) []byte {
	return binary.AppendUvarint(binary.AppendVarint(dst, t.Unix()), uint64(t.Nanosecond()))
}

// recDecoder reads a binary record; the first error sticks.
type recDecoder struct {
	b   []byte
	err error
}

func (d *recDecoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *recDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// raw returns the next n bytes (aliasing the input).
func (d *recDecoder) raw(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) str() string { return string(d.raw(d.uvarint())) }

// knownStr is str for fields with a few well-known values (an encryption
// mode or algorithm, a map key), returned without allocating: every sealed
// object's record carries them, and every read of it decodes them.
func (d *recDecoder) knownStr() string {
	b := d.raw(d.uvarint())
	switch string(b) { // compared without a conversion
	case "managed":
		return "managed"
	case "kms":
		return "kms"
	case "customer":
		return "customer"
	case "AES256":
		return "AES256"
	case "SM4":
		return "SM4"
	case meta.ExtraBucketKey: // the one key of a bucket-key object's Extra
		return meta.ExtraBucketKey
	}
	return string(b)
}

// count reads a count written by appendCount: -1 for nil.
func (d *recDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b))+1 { // every element takes a byte at least
		d.fail()
		return -1
	}
	return int(n) - 1
}

func (d *recDecoder) bytes() []byte {
	n := d.count()
	if n < 0 {
		return nil
	}
	return bytes.Clone(d.raw(uint64(n)))
}

// wrappedKeyRoom fits the usual wrapped object keys: the bucket-key wrap's
// 60 bytes, and the builtin keyring's 91 plus its key id (109 for the
// default key; 127 for an id of 36 characters). A longer one gets its own
// allocation.
const wrappedKeyRoom = 128

// bytesInto is bytes, copying into buf when it has room (the result
// aliases buf then, capped at its length).
func (d *recDecoder) bytesInto(buf []byte) []byte {
	n := d.count()
	if n < 0 {
		return nil
	}
	b := d.raw(uint64(n))
	if len(b) > cap(buf) {
		return bytes.Clone(b)
	}
	return append(buf[:0], b...)[:len(b):len(b)]
}

func (d *recDecoder) strMap() map[string]string {
	n := d.count()
	if n < 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.knownStr()
		m[k] = d.str()
	}
	return m
}

// extra reads an Encryption's Extra written by appendExtra: the wrapped
// bucket key, and a map of the other entries only when there are any (a
// bucket-key object's record has no others, and every read of it decodes
// them).
func (d *recDecoder) extra() (string, map[string]string) {
	n := d.count()
	if n <= 0 {
		if n == 0 {
			return "", map[string]string{}
		}
		return "", nil
	}
	var w string
	var m map[string]string
	for range n {
		k := d.knownStr()
		v := d.str()
		if k == meta.ExtraBucketKey {
			w = v
			continue
		}
		if m == nil {
			m = make(map[string]string, n)
		}
		m[k] = v
	}
	return w, m
}

func (d *recDecoder) time() time.Time {
	sec := d.varint()
	return time.Unix(sec, int64(d.uvarint())).UTC()
}

// decodeBinary decodes a binary record (v[0] == recordV1).
func decodeBinary(v []byte) (*record, error) {
	d := &recDecoder{b: v[1:]}
	r := new(record)
	o := &r.Object
	flags := d.uvarint()
	r.Seq = d.uvarint()
	r.ref = d.uvarint()
	o.Bucket = d.str()
	o.Key = d.str()
	o.Size = d.varint()
	o.ETag = d.str()
	o.LastModified = d.time()
	o.Owner = d.str()
	h := &o.Headers
	for _, s := range [...]*string{&h.ContentType, &h.ContentEncoding, &h.ContentDisposition, &h.ContentLanguage, &h.CacheControl, &h.Expires} {
		*s = d.str()
	}
	o.UserMeta = d.strMap()
	o.Checksums = d.strMap()
	if n := d.count(); n >= 0 {
		o.Parts = make([]meta.Part, n)
		for i := range o.Parts {
			p := &o.Parts[i]
			p.Number = int(d.varint())
			p.BlobID = d.str()
			if in := d.uvarint(); in > 0 {
				if r.inl == nil {
					r.inl = make([]uint32, n)
				}
				r.inl[i] = uint32(in)
			}
			p.Size = d.varint()
			p.StoredSize = d.varint()
			p.ETag = d.str()
			p.LastModified = d.time()
			p.Checksums = d.strMap()
			p.Format = int(d.varint())
		}
	}
	o.Multipart = flags&flagMultipart != 0
	o.DeleteMarker = flags&flagDeleteMarker != 0
	o.LegalHold = flags&flagLegalHold != 0
	o.LegalHoldSet = flags&flagLegalHoldSet != 0
	if flags&flagEncryption != 0 {
		// The material and its wrapped key in one allocation: every read
		// of a sealed object decodes them.
		ew := new(struct {
			e meta.Encryption
			w [wrappedKeyRoom]byte
		})
		e := &ew.e
		e.BucketKey = flags&flagBucketKey != 0
		e.Mode, e.Algorithm = d.knownStr(), d.knownStr()
		for _, s := range [...]*string{&e.KeyID, &e.ProjectID, &e.Context} {
			*s = d.str()
		}
		e.WrappedKey = d.bytesInto(ew.w[:0])
		e.Salt = d.bytes()
		e.SegmentSize = int(d.varint())
		e.WrappedBucketKey, e.Extra = d.extra()
		o.Encryption = e
	}
	o.ACL = d.str()
	o.VersionID = d.str()
	if n := d.count(); n >= 0 {
		o.Tags = make([]meta.Tag, n)
		for i := range o.Tags {
			o.Tags[i].Key = d.str()
			o.Tags[i].Value = d.str()
		}
	}
	o.ReplicationStatus = d.str()
	o.LockMode = d.str()
	if flags&flagLockUntil != 0 {
		t := d.time()
		o.LockUntil = &t
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// decodeRecord decodes a stored object version (binary or, written
// before it, JSON); nil v is no record. Inline bytes stored apart are not
// loaded (loadInline).
func decodeRecord(k, v []byte) (*record, error) {
	if v == nil {
		return nil, nil
	}
	var r *record
	var err error
	switch {
	case len(v) > 0 && v[0] == recordV1:
		r, err = decodeBinary(v)
	case len(v) > 0 && v[0] == '{':
		r = new(record)
		err = json.Unmarshal(v, r)
	default:
		err = errCorrupt
	}
	if err != nil {
		return nil, fmt.Errorf("meta/bolt: decode object %q: %w", k, err)
	}
	return r, nil
}

func inlineKey(ref uint64, part int) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(make([]byte, 0, 12), ref), uint32(part))
}

// putRecord stores r at k of b (d's o or v index). Inline bytes the
// record carries (a new version, or an old JSON record being rewritten)
// are moved apart under a new ref; a record read from the binary form
// keeps its ref and its stored bytes.
func putRecord(d, b *bbolt.Bucket, k []byte, r *record) error {
	if r.ref == 0 {
		var ib *bbolt.Bucket
		for i := range r.Parts {
			p := &r.Parts[i]
			if len(p.Inline) == 0 {
				continue
			}
			if ib == nil {
				var err error
				if ib, err = inlineBucket(d, true); err != nil {
					return err
				}
				if r.ref, err = d.NextSequence(); err != nil {
					return err
				}
				r.inl = make([]uint32, len(r.Parts))
			}
			if err := ib.Put(inlineKey(r.ref, i), p.Inline); err != nil {
				return err
			}
			r.inl[i] = uint32(len(p.Inline))
		}
	}
	return b.Put(k, appendRecord(make([]byte, 0, 256), r))
}

// loadInline reads the inline bytes r keeps apart into its parts, each as
// into keeps it (bytes.Clone: a copy of its own; nil: none read). The
// stored bytes are bbolt's, valid only in the transaction.
func loadInline(d *bbolt.Bucket, r *record, into func([]byte) []byte) error {
	if r == nil || r.ref == 0 || into == nil {
		return nil
	}
	ib := d.Bucket(subInline)
	for i, n := range r.inl {
		if n == 0 || i >= len(r.Parts) {
			continue
		}
		var v []byte
		if ib != nil {
			v = ib.Get(inlineKey(r.ref, i))
		}
		if len(v) != int(n) {
			return fmt.Errorf("meta/bolt: inline data of %q part %d: %d bytes stored, %d expected", r.Key, i, len(v), n)
		}
		r.Parts[i].Inline = into(v)
	}
	return nil
}

// dropInline deletes the inline bytes of r, a version removed for good.
func dropInline(d *bbolt.Bucket, r *record) error {
	if r == nil || r.ref == 0 {
		return nil
	}
	ib, _ := inlineBucket(d, false)
	if ib == nil {
		return nil
	}
	for i, n := range r.inl {
		if n > 0 {
			if err := ib.Delete(inlineKey(r.ref, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncInline writes back the inline bytes of r (loaded by loadInline)
// that differ from the stored ones.
func syncInline(d *bbolt.Bucket, r *record) error {
	if r.ref == 0 {
		return nil // none apart: putRecord moves any there
	}
	ib, _ := inlineBucket(d, false)
	for i, n := range r.inl {
		if n == 0 || i >= len(r.Parts) {
			continue
		}
		k := inlineKey(r.ref, i)
		if in := r.Parts[i].Inline; len(in) > 0 && ib != nil && !bytes.Equal(ib.Get(k), in) {
			if err := ib.Put(k, in); err != nil {
				return err
			}
			r.inl[i] = uint32(len(in))
		}
	}
	return nil
}
