package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/sealed"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

type fixture struct {
	svc  *Service
	meta *bolt.Store
	dir  string
	p    Principal
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, func(b blob.Store) blob.Store { return b })
}

// newFixtureWith is newFixture with the data tier wrapped by wrap.
func newFixtureWith(t testing.TB, wrap func(blob.Store) blob.Store) *fixture {
	t.Helper()
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	b, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	root := make([]byte, 32)
	rand.Read(root)
	k, err := kms.OpenKeyring(filepath.Join(dir, "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	svc := New(m, wrap(b), Options{Sealer: sse.NewSealer(k)})
	f := &fixture{svc: svc, meta: m, dir: dir, p: Principal{User: "alice"}}
	if _, err := svc.CreateBucket(context.Background(), f.p, "bkt", "", ""); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) put(t testing.TB, key string, data []byte, spec *sse.Spec) *meta.Object {
	t.Helper()
	o, err := f.svc.PutObject(context.Background(), f.p, PutObjectInput{
		Bucket: "bkt", Key: key, SSE: spec,
		Body: Body{Reader: bytes.NewReader(data), Size: int64(len(data))},
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) get(key string, r *Range) ([]byte, error) {
	ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: key, Range: r})
	if err != nil {
		return nil, err
	}
	defer ob.Body.Close()
	return io.ReadAll(ob.Body)
}

func (f *fixture) blobFiles(t *testing.T) int {
	t.Helper()
	n := 0
	root := filepath.Join(f.dir, "blobs")
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err == nil && !info.IsDir() && !strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			n++
		}
		return nil
	})
	return n
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestInlineParts: small parts live in their metadata record (no blob
// file), large ones in blobs; both read back whole and by range, and the
// boundary is the stored (sealed) size.
func TestInlineParts(t *testing.T) {
	managed := &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	maxPlainSealed := InlineMax - int(sealed.HeaderSize) - sealed.TagSize // one segment
	maxPlain := InlineMax - sealed.PlainHeaderSize - sealed.SumSize
	tests := []struct {
		name   string
		size   int
		spec   *sse.Spec
		inline bool
	}{
		{"empty", 0, nil, true},
		{"4 KiB", 4 << 10, nil, true},
		{"plain at the limit", maxPlain, nil, true},
		{"plain one byte over", maxPlain + 1, nil, false},
		{"sealed 4 KiB", 4 << 10, managed, true},
		{"sealed at the limit", maxPlainSealed, managed, true},
		{"sealed one byte over", maxPlainSealed + 1, managed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			data := random(tt.size)
			o := f.put(t, "k", data, tt.spec)
			if got := o.Parts[0].BlobID == ""; got != tt.inline {
				t.Fatalf("inline = %v, want %v (stored %d bytes)", got, tt.inline, o.Parts[0].StoredSize)
			}
			if files := f.blobFiles(t); (files == 0) != tt.inline {
				t.Fatalf("%d blob files for an inline=%v part", files, tt.inline)
			}
			got, err := f.get("k", nil)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET: %v (%d bytes)", err, len(got))
			}
			if tt.size > 10 {
				got, err := f.get("k", &Range{Start: 3, End: 9})
				if err != nil || !bytes.Equal(got, data[3:10]) {
					t.Fatalf("range GET: %v", err)
				}
			}
		})
	}
}

// TestInlineSealedIsCiphertext: an encrypted inline part keeps no
// plaintext in the metadata file, and tampering with it is an error,
// never wrong bytes.
func TestInlineSealedIsCiphertext(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	canary := bytes.Repeat([]byte("STRONGROOM-INLINE-CANARY "), 100)
	f.put(t, "secret", canary, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256})
	if err := f.meta.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(f.dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("STRONGROOM-INLINE-CANARY")) {
		t.Fatal("plaintext of an encrypted inline object is in meta.db")
	}
	m, err := bolt.Open(filepath.Join(f.dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f.svc.meta, f.meta = m, m
	if err := m.UpdateObject(ctx, "bkt", "secret", func(o *meta.Object) error {
		o.Parts[0].Inline[len(o.Parts[0].Inline)/2] ^= 1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := f.get("secret", nil)
	if !errors.Is(err, sealed.ErrAuth) {
		t.Fatalf("GET of tampered inline ciphertext: %d bytes, err %v; want sealed.ErrAuth", len(got), err)
	}
}

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"abc": true, "my-bucket.2": true, "examplebucket-1250000000": true,
		"ab": false, strings.Repeat("a", 64): false, "Abc": false, "-abc": false, "abc-": false,
		"a..b": false, "a.-b": false, "a-.b": false, "192.168.1.1": false, "a_b": false,
		// S3's reserved prefixes and suffixes.
		"xn--abc": false, "sthree-abc": false, "amzn-s3-demo-abc": false, "abc-s3alias": false,
		"abc--ol-s3": false, "abc.mrap": false, "abc--x-s3": false, "abc--table-s3": false,
		"axn--b": true, "abc-s3aliasx": true,
	} {
		if got := ValidBucketName(name); got != want {
			t.Errorf("ValidBucketName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRangeResolve(t *testing.T) {
	tests := []struct {
		r      Range
		size   int64
		off, n int64
		bad    bool
	}{
		{Range{0, 9}, 100, 0, 10, false},
		{Range{90, -1}, 100, 90, 10, false},
		{Range{90, 200}, 100, 90, 10, false},
		{Range{-10, -1}, 100, 90, 10, false},
		{Range{-200, -1}, 100, 0, 100, false},
		{Range{100, -1}, 100, 0, 0, true},
		{Range{-5, -1}, 0, 0, 0, true},
		{Range{0, 0}, 0, 0, 0, true},
	}
	for _, tt := range tests {
		off, n, err := tt.r.Resolve(tt.size)
		if tt.bad {
			if !errors.Is(err, errs.InvalidRange) {
				t.Errorf("%+v of %d: err %v, want InvalidRange", tt.r, tt.size, err)
			}
			continue
		}
		if err != nil || off != tt.off || n != tt.n {
			t.Errorf("%+v of %d = %d,%d,%v; want %d,%d", tt.r, tt.size, off, n, err, tt.off, tt.n)
		}
	}
}

func TestConditions(t *testing.T) {
	lm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := &meta.Object{ETag: "abc", LastModified: lm}
	before, after := lm.Add(-time.Hour), lm.Add(time.Hour)
	tests := []struct {
		name string
		c    Conditions
		copy bool
		want *errs.Error
	}{
		{"none", Conditions{}, false, nil},
		{"if-match hit", Conditions{IfMatch: `"abc"`}, false, nil},
		{"if-match list", Conditions{IfMatch: `"x", "abc"`}, false, nil},
		{"if-match miss", Conditions{IfMatch: `"x"`}, false, errs.PreconditionFailed},
		{"if-match beats unmodified-since", Conditions{IfMatch: "*", IfUnmodifiedSince: &before}, false, nil},
		{"unmodified-since fails", Conditions{IfUnmodifiedSince: &before}, false, errs.PreconditionFailed},
		{"if-none-match hit", Conditions{IfNoneMatch: `W/"abc"`}, false, errs.NotModified},
		{"if-none-match on copy", Conditions{IfNoneMatch: "abc"}, true, errs.PreconditionFailed},
		{"if-none-match beats modified-since", Conditions{IfNoneMatch: "x", IfModifiedSince: &after}, false, nil},
		{"not modified since", Conditions{IfModifiedSince: &after}, false, errs.NotModified},
		{"modified since", Conditions{IfModifiedSince: &before}, false, nil},
	}
	for _, tt := range tests {
		err := tt.c.check(o, tt.copy)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestListDelimiter: common prefixes roll up, paging resumes after a
// prefix without repeating it, and max-keys counts prefixes.
func TestListDelimiter(t *testing.T) {
	f := newFixture(t)
	for _, k := range []string{"a/1", "a/2", "b", "c/1", "c/2/x", "d"} {
		f.put(t, k, []byte("x"), nil)
	}
	var got []string
	after := ""
	for pages := 0; pages < 10; pages++ {
		res, err := f.svc.ListObjects(context.Background(), f.p, ListInput{Bucket: "bkt", Delimiter: "/", After: after, MaxKeys: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			got = append(got, o.Key)
		}
		got = append(got, res.CommonPrefixes...)
		if !res.Truncated {
			break
		}
		after = res.Next
	}
	sort.Strings(got) // a page holds objects and prefixes separately
	want := "a/ b c/ d"
	if strings.Join(got, " ") != want {
		t.Fatalf("listing = %q, want %q", strings.Join(got, " "), want)
	}
}

// TestTruncatedBlob: stored data shorter than its metadata is an error on
// both read paths (Read and WriteTo), never a hang or a short success.
func TestTruncatedBlob(t *testing.T) {
	for _, spec := range []*sse.Spec{nil, {Mode: sse.Managed, Algorithm: sse.AES256}} {
		f := newFixture(t)
		data := random(3 << 20)
		o := f.put(t, "big", data, spec)
		id := o.Parts[0].BlobID
		path := filepath.Join(f.dir, "blobs", id[:2], id[2:4], id)
		if err := os.Truncate(path, o.Parts[0].StoredSize-100_000); err != nil {
			t.Fatal(err)
		}
		for _, via := range []string{"Read", "WriteTo"} {
			ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: "big"})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			done := make(chan error, 1)
			go func() {
				if via == "Read" {
					_, err = io.Copy(&got, struct{ io.Reader }{ob.Body})
				} else {
					_, err = io.Copy(&got, ob.Body)
				}
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("sse=%v %s: read of a truncated blob hangs", spec != nil, via)
			}
			ob.Body.Close()
			if err == nil {
				t.Fatalf("sse=%v %s: truncated blob read without error (%d bytes)", spec != nil, via, got.Len())
			}
			if !bytes.Equal(got.Bytes(), data[:got.Len()]) {
				t.Fatalf("sse=%v %s: wrong bytes before the error", spec != nil, via)
			}
		}
	}
}

// TestWriteToMatchesRead: the WriteTo path (buffers filled on one
// goroutine, written on another) returns exactly what Read returns, for whole objects and
// ranges, plaintext and sealed, single and multipart.
func TestWriteToMatchesRead(t *testing.T) {
	for _, spec := range []*sse.Spec{nil, {Mode: sse.Managed, Algorithm: sse.AES256}, {Mode: sse.KMS, Algorithm: sse.SM4}} {
		f := newFixture(t)
		data := random(5<<20 + 12345)
		f.put(t, "obj", data, spec)
		for _, r := range []*Range{nil, {Start: 1, End: 1}, {Start: 70_000, End: 4_000_000}, {Start: -300_000, End: -1}} {
			ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: "obj", Range: r})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if _, err := io.Copy(&got, ob.Body); err != nil {
				t.Fatal(err)
			}
			ob.Body.Close()
			want := data[ob.Offset : ob.Offset+ob.Length]
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("sse=%v range %+v: %d bytes differ from the object", spec != nil, r, got.Len())
			}
		}
	}
}

// TestCompleteChecksCustomerKey: a Complete that sends an SSE-C key must
// send the upload's; one without a key is allowed (as S3).
func TestCompleteChecksCustomerKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := func() *sse.Spec {
		k := random(32)
		return &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256, CustomerKey: k, CustomerKeyMD5: "md5"}
	}
	right, wrong := key(), key()
	u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "mp", SSE: right})
	if err != nil {
		t.Fatal(err)
	}
	data := random(1000)
	part, err := f.svc.UploadPart(ctx, f.p, UploadPartInput{Bucket: "bkt", Key: "mp", UploadID: u.ID, PartNumber: 1, SSE: right,
		Body: Body{Reader: bytes.NewReader(data), Size: int64(len(data))}})
	if err != nil {
		t.Fatal(err)
	}
	in := CompleteUploadInput{Bucket: "bkt", Key: "mp", UploadID: u.ID, Parts: []CompletePart{{Number: 1, ETag: part.ETag}}}
	in.SSE = wrong
	if _, err := f.svc.CompleteMultipartUpload(ctx, f.p, in); !errors.Is(err, errs.AccessDenied) {
		t.Fatalf("Complete with another SSE-C key: %v, want AccessDenied", err)
	}
	in.SSE = nil
	if _, err := f.svc.CompleteMultipartUpload(ctx, f.p, in); err != nil {
		t.Fatalf("Complete without a key: %v", err)
	}
}

// failingWriter accepts limit bytes, then fails (a client that hung up).
type failingWriter struct{ limit int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errors.New("connection reset")
	}
	w.limit -= len(p)
	return len(p), nil
}

// TestWriteToClientGone: when the response writer fails mid-object, the
// overlapped decryption stops and reports the error instead of decrypting
// the rest or hanging.
func TestWriteToClientGone(t *testing.T) {
	f := newFixture(t)
	f.put(t, "obj", random(8<<20), &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256})
	ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: "obj"})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Body.Close()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(&failingWriter{limit: 1 << 20}, ob.Body)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a failed response write was not reported")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteTo hangs after the writer failed")
	}
}

// TestReadCountsUntilClose: a GET is a client (whom key jobs yield to)
// until its body is closed, not only while it is looked up; a failed GET
// is none.
func TestReadCountsUntilClose(t *testing.T) {
	f := newFixture(t)
	f.put(t, "k", random(100<<10), nil)
	ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.svc.clients.Load(); n != 1 {
		t.Fatalf("%d clients while the body is open, want 1", n)
	}
	ob.Body.Close()
	ob.Body.Close() // twice: counted once
	if n := f.svc.clients.Load(); n != 0 {
		t.Fatalf("%d clients after Close, want 0", n)
	}
	for _, in := range []GetObjectInput{
		{Bucket: "bkt", Key: "missing"},
		{Bucket: "bkt", Key: "k", Range: &Range{Start: 1 << 30, End: -1}},
	} {
		if _, err := f.svc.GetObject(context.Background(), f.p, in); err == nil {
			t.Fatalf("GET %+v succeeded", in)
		}
		if n := f.svc.clients.Load(); n != 0 {
			t.Fatalf("%d clients after a failed GET, want 0", n)
		}
	}
}

// TestUploadIDNeverLooksLikeAFlag: an upload ID starting with '-' would be
// read as a flag by the aws CLI (one in 64 did before).
func TestUploadIDNeverLooksLikeAFlag(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 0; i < 500; i++ {
		u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "mp"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(u.ID, "-") {
			t.Fatalf("upload ID %q starts with '-'", u.ID)
		}
	}
}
