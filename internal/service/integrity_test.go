package service

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sealed"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// damage flips one stored byte of part i of key at stored offset off
// (negative: from the end), in its blob file or its inline bytes.
func (f *fixture) damage(t *testing.T, key string, i int, off int64) {
	t.Helper()
	ctx := context.Background()
	o, err := f.meta.GetObject(ctx, "bkt", key)
	if err != nil {
		t.Fatal(err)
	}
	p := o.Parts[i]
	if off < 0 {
		off += p.StoredSize
	}
	if p.BlobID == "" {
		err := f.meta.UpdateObject(ctx, "bkt", key, func(o *meta.Object) error {
			o.Parts[i].Inline[off] ^= 0x20
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	fh, err := os.OpenFile(f.blobPath(p.BlobID), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b := []byte{0}
	if _, err := fh.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	if _, err := fh.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedDataNeverServed flips a byte of plain and sealed, inline,
// blob and multipart objects, in the first, a middle and the last segment:
// reads over the damage fail with DataDamaged, are counted, and never
// return a wrong byte; reads that avoid it succeed.
func TestDamagedDataNeverServed(t *testing.T) {
	managed := &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	const seg = sealed.DefaultSegmentSize
	for _, tt := range []struct {
		name      string
		size      int
		spec      *sse.Spec
		multipart bool
		part      int   // which part to damage
		at        int64 // stored offset (negative: from the end)
		segment   int64 // plaintext segment of the part it falls in
	}{
		{"plain inline", 1000, nil, false, 0, sealed.PlainHeaderSize + 10, 0},
		{"plain inline header", 1000, nil, false, 0, 2, 0},
		{"plain blob first segment", 300 << 10, nil, false, 0, sealed.PlainHeaderSize, 0},
		{"plain blob middle segment", 300 << 10, nil, false, 0, sealed.PlainHeaderSize + 2*(seg+sealed.SumSize) + 7, 2},
		{"plain blob last segment", 300 << 10, nil, false, 0, -1, 4},
		{"plain multipart part 2", 6 << 20, nil, true, 1, sealed.PlainHeaderSize + 5, 0},
		{"sealed inline", 1000, managed, false, 0, sealed.HeaderSize + 10, 0},
		{"sealed blob first segment", 300 << 10, managed, false, 0, sealed.HeaderSize + 1, 0},
		{"sealed blob last segment", 300 << 10, managed, false, 0, -1, 4},
		{"sealed multipart part 1", 6 << 20, managed, true, 0, -3, 79},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			data := random(tt.size)
			if tt.multipart {
				f.putMultipart(t, "k", data, tt.spec)
			} else {
				f.put(t, "k", data, tt.spec)
			}
			f.damage(t, "k", tt.part, tt.at)
			partStart := int64(0)
			if tt.part == 1 {
				partStart = 5 << 20
			}
			bad := partStart + tt.segment*seg // first plaintext byte of the damaged segment
			before := f.svc.Stats().IntegrityFailures.Load()
			for _, r := range []*Range{nil, {Start: bad, End: bad}, {Start: max(bad-10, 0), End: bad + 10}} {
				got, err := f.get("k", r)
				if !errors.Is(err, errs.DataDamaged) || errs.As(err).Message != errs.DataDamaged.Message {
					t.Fatalf("GET %v: %v, want DataDamaged", r, err)
				}
				off := int64(0)
				if r != nil {
					off = r.Start
				}
				if !bytes.Equal(got, data[off:off+int64(len(got))]) {
					t.Fatalf("GET %v returned wrong bytes", r)
				}
			}
			if got := f.svc.Stats().IntegrityFailures.Load() - before; got != 3 {
				t.Errorf("IntegrityFailures grew by %d, want 3", got)
			}
			// A range that avoids the damaged segment (and the header) reads.
			if tt.at != 2 && tt.size > 2*seg {
				other := partStart + ((tt.segment+1)%3)*seg
				if other/seg == bad/seg {
					other += seg
				}
				got, err := f.get("k", &Range{Start: other, End: other + 99})
				if err != nil || !bytes.Equal(got, data[other:other+100]) {
					t.Errorf("GET of an undamaged range: %v", err)
				}
			}
		})
	}
}

// TestPlainPartsAreFramed: PUT, copy and multipart parts (uploaded and
// copied) of plaintext objects are checksummed plain blobs, and the ETag
// is still the MD5 of the data.
func TestPlainPartsAreFramed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	data := random(6 << 20)
	o := f.put(t, "a", data, nil)
	sum := md5.Sum(data)
	if o.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("ETag %s is not the MD5 of the data", o.ETag)
	}
	mp := f.putMultipart(t, "m", data, nil)
	cp, err := f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "a", Bucket: "bkt", Key: "c"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "pc"})
	if err != nil {
		t.Fatal(err)
	}
	up, err := f.svc.UploadPartCopy(ctx, f.p, UploadPartCopyInput{Bucket: "bkt", Key: "pc", UploadID: u.ID, PartNumber: 1, SrcBucket: "bkt", SrcKey: "a"})
	if err != nil {
		t.Fatal(err)
	}
	parts := append(append(append([]meta.Part{}, o.Parts...), mp.Parts...), cp.Parts...)
	parts = append(parts, up.Part)
	for _, p := range parts {
		if p.Format != meta.FormatPlainV1 || p.StoredSize != sealed.PlainSize(p.Size, 0) {
			t.Errorf("part %d: format %d, stored %d for %d bytes", p.Number, p.Format, p.StoredSize, p.Size)
		}
	}
	for _, k := range []string{"a", "m", "c"} {
		if got := f.read(t, k, nil); !bytes.Equal(got, data) {
			t.Errorf("%s reads back wrong", k)
		}
	}
}

// TestRawPartsStillRead: parts stored before framing (raw bytes, Format 0)
// read back whole and by range.
func TestRawPartsStillRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	data := random(200 << 10)
	w, err := f.svc.blobs.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	id, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	small := random(100)
	for _, p := range []meta.Part{
		{BlobID: id, Size: int64(len(data)), StoredSize: int64(len(data))},
		{Inline: small, Size: 100, StoredSize: 100},
	} {
		o := &meta.Object{Bucket: "bkt", Key: "old", Size: p.Size, ETag: "x", Parts: []meta.Part{p}}
		if _, err := f.meta.PutObject(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		want := data
		if p.BlobID == "" {
			want = small
		}
		if got, err := f.get("old", nil); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("GET raw part: %v", err)
		}
		if got, err := f.get("old", &Range{Start: 50, End: 59}); err != nil || !bytes.Equal(got, want[50:60]) {
			t.Fatalf("ranged GET raw part: %v", err)
		}
	}
}

// TestCopyOfDamagedSource: a copy never turns damaged data into a new,
// valid-looking object.
func TestCopyOfDamagedSource(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.put(t, "src", random(200<<10), nil)
	f.damage(t, "src", 0, sealed.PlainHeaderSize+100)
	_, err := f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "dst"})
	if !errors.Is(err, errs.DataDamaged) {
		t.Fatalf("copy of a damaged source: %v, want DataDamaged", err)
	}
	if _, err := f.meta.GetObject(ctx, "bkt", "dst"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("the failed copy left an object: %v", err)
	}
	if f.svc.Stats().IntegrityFailures.Load() != 1 {
		t.Errorf("IntegrityFailures = %d, want 1", f.svc.Stats().IntegrityFailures.Load())
	}
}
