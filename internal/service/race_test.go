package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/racetest"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// raceSpecs are the encryption modes every race runs under.
var raceSpecs = []struct {
	name string
	spec *sse.Spec
}{
	{"plain", nil},
	{"SSE-KMS", &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}},
}

// pattern is a body that names its version: every byte is v.
func pattern(v byte, n int) []byte { return bytes.Repeat([]byte{v}, n) }

// TestConditionalPutRace: of many writers racing If-None-Match: * to a new
// key exactly one wins and the rest get 412, and of many writers racing
// If-Match on one ETag exactly one wins; the object is the winner's and the
// losers leave no blob behind.
func TestConditionalPutRace(t *testing.T) {
	type size struct {
		name string
		size int
	}
	inline, blob := size{"inline", 8 << 10}, size{"blob", 300 << 10}
	// Blob writers cost a file and two fsyncs each: fewer cases.
	for _, c := range []struct {
		sz      size
		spec    int // index into raceSpecs
		writers int
	}{{inline, 0, 8}, {inline, 0, 32}, {inline, 1, 8}, {inline, 1, 32}, {blob, 0, 8}, {blob, 1, 16}} {
		sz, sp, writers := c.sz, raceSpecs[c.spec], c.writers
		t.Run(fmt.Sprintf("%s/%s/%d", sz.name, sp.name, writers), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			put := func(key string, v byte, ifMatch, ifNoneMatch string) (*meta.Object, error) {
				return f.svc.PutObject(ctx, f.p, PutObjectInput{
					Bucket: "bkt", Key: key, SSE: sp.spec, IfMatch: ifMatch, IfNoneMatch: ifNoneMatch,
					Body: Body{Reader: bytes.NewReader(pattern(v, sz.size)), Size: int64(sz.size)},
				})
			}
			check := func(key, cond, ifMatch, ifNoneMatch string) {
				var wins atomic.Int32
				var winner atomic.Int32
				racetest.Together(writers, func(i int) {
					_, err := put(key, byte(i+1), ifMatch, ifNoneMatch)
					switch {
					case err == nil:
						wins.Add(1)
						winner.Store(int32(i + 1))
					case errs.As(err) == errs.PreconditionFailed:
					default:
						t.Errorf("%s writer %d: %v", cond, i, err)
					}
				})
				if n := wins.Load(); n != 1 {
					t.Fatalf("%s: %d of %d writers succeeded, want 1", cond, n, writers)
				}
				if got := f.read(t, key, sp.spec); !bytes.Equal(got, pattern(byte(winner.Load()), sz.size)) {
					t.Fatalf("%s: object is not the winner's", cond)
				}
			}
			check("new", "If-None-Match: *", "", "*")
			old := f.put(t, "cas", pattern(0xff, sz.size), sp.spec)
			check("cas", "If-Match", old.ETag, "")
			want := 0
			if sz.size > InlineMax {
				want = 2
			}
			if n := f.blobFiles(t); n != want {
				t.Fatalf("%d blob files, want %d (losers' blobs must be deleted)", n, want)
			}
		})
	}
}

// TestConditionalWriteErrors: the commit-time check answers as S3 does when
// the key changed during the request: 412 when it appeared under If-None-Match
// or changed under If-Match, 409 ConditionalRequestConflict when it vanished
// under If-Match; the early check answers 404 for If-Match on a missing key.
func TestConditionalWriteErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.put(t, "k", []byte("v1"), nil)
	cond, err := f.svc.writeCondition(ctx, bktOf(t, f), "k", `"`+etagOf(t, f, "k")+`"`, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if err := cond(nil); !errors.Is(err, errs.ConditionalRequestConflict) {
		t.Fatalf("If-Match, key deleted meanwhile: %v, want ConditionalRequestConflict", err)
	}
	if err := cond(&meta.Object{ETag: "other"}); !errors.Is(err, errs.PreconditionFailed) {
		t.Fatalf("If-Match, key changed meanwhile: %v, want PreconditionFailed", err)
	}
	if _, err := f.svc.writeCondition(ctx, bktOf(t, f), "k", "x", ""); !errors.Is(err, errs.NoSuchKey) {
		t.Fatalf("If-Match on a missing key: %v, want NoSuchKey", err)
	}
	cond, err = f.svc.writeCondition(ctx, bktOf(t, f), "k", "", "*")
	if err != nil {
		t.Fatal(err)
	}
	if err := cond(&meta.Object{ETag: "new"}); !errors.Is(err, errs.PreconditionFailed) {
		t.Fatalf("If-None-Match, key created meanwhile: %v, want PreconditionFailed", err)
	}
}

func etagOf(t *testing.T, f *fixture, key string) string {
	t.Helper()
	o, err := f.meta.GetObject(context.Background(), "bkt", key)
	if err != nil {
		t.Fatal(err)
	}
	return o.ETag
}

// TestReadRacingOverwrite: GETs and range GETs racing overwrites of the same
// key each answer one version whole (every byte the version's pattern, the
// version's length), never an error; once the reads are done every replaced
// blob is deleted.
func TestReadRacingOverwrite(t *testing.T) {
	sizes := []int{300 << 10, 1 << 20, 3 << 20, 700 << 10}
	for _, sp := range raceSpecs {
		t.Run(sp.name, func(t *testing.T) {
			f := newFixture(t)
			// Each read opens its blob only after the next overwrite has
			// returned (or a second has passed): the gap between a read's
			// lookup and its open (where a KMS call sits) always holds the
			// race, however slow the machine.
			var overwrites atomic.Int64
			gate := func() {
				seen := overwrites.Load()
				for end := time.Now().Add(time.Second); overwrites.Load() == seen && time.Now().Before(end); {
					time.Sleep(time.Millisecond)
				}
			}
			f.svc = New(f.meta, gatedOpen{f.svc.rawBlobs, gate}, Options{Sealer: f.svc.sealer})
			ctx := context.Background()
			sizeOf := func(v byte) int { return sizes[int(v)%len(sizes)] }
			f.put(t, "k", pattern(0, sizeOf(0)), sp.spec)
			deadline := time.Now().Add(2 * time.Second)
			var reads, failures atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the overwriter
				defer wg.Done()
				for v := byte(1); time.Now().Before(deadline); v++ {
					if err := overwrite(ctx, f, pattern(v, sizeOf(v)), sp.spec, v%3 == 0); err != nil {
						t.Errorf("overwrite: %v", err)
						return
					}
					overwrites.Add(1)
				}
			}()
			for r := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(deadline) {
						var rng *Range
						if r%2 == 1 {
							rng = &Range{Start: 100 << 10, End: 250<<10 - 1}
						}
						if err := readOneVersion(ctx, f, rng, sp.spec, sizeOf); err != nil {
							if failures.Add(1) <= 3 {
								t.Errorf("read: %v", err)
							}
						}
						reads.Add(1)
					}
				}()
			}
			wg.Wait()
			t.Logf("%d reads, %d failed, %d overwrites", reads.Load(), failures.Load(), overwrites.Load())
			if n := f.svc.reclaim.pending(); n != 0 {
				t.Fatalf("%d replaced blobs still waiting after every read ended", n)
			}
			cur, err := f.meta.GetObject(ctx, "bkt", "k")
			if err != nil {
				t.Fatal(err)
			}
			if n := f.blobFiles(t); n != len(cur.Parts) {
				t.Fatalf("%d blob files, want %d (replaced blobs must be deleted)", n, len(cur.Parts))
			}
		})
	}
}

// overwrite replaces "k" with data by a PUT or, with multipart, a
// two-part upload (so a read opens a second blob mid-body).
func overwrite(ctx context.Context, f *fixture, data []byte, spec *sse.Spec, multipart bool) error {
	if !multipart {
		_, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: "k", SSE: spec,
			Body: Body{Reader: bytes.NewReader(data), Size: int64(len(data))}})
		return err
	}
	u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "k", SSE: spec})
	if err != nil {
		return err
	}
	in := CompleteUploadInput{Bucket: "bkt", Key: "k", UploadID: u.ID, MinPartSize: 1}
	for i, chunk := range [][]byte{data[:len(data)/2], data[len(data)/2:]} {
		p, err := f.svc.UploadPart(ctx, f.p, UploadPartInput{Bucket: "bkt", Key: "k", UploadID: u.ID, PartNumber: i + 1,
			Body: Body{Reader: bytes.NewReader(chunk), Size: int64(len(chunk))}})
		if err != nil {
			return err
		}
		in.Parts = append(in.Parts, CompletePart{Number: i + 1, ETag: p.ETag})
	}
	_, err = f.svc.CompleteMultipartUpload(ctx, f.p, in)
	return err
}

// gatedOpen runs gate before every blob open.
type gatedOpen struct {
	blob.Store
	gate func()
}

func (s gatedOpen) Open(ctx context.Context, id string) (blob.Reader, error) {
	s.gate()
	return s.Store.Open(ctx, id)
}

// readOneVersion reads the object (or a range) and checks the bytes are one
// version's, whole.
func readOneVersion(ctx context.Context, f *fixture, rng *Range, spec *sse.Spec, sizeOf func(byte) int) error {
	ob, err := f.svc.GetObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "k", Range: rng, SSE: customerOnly(spec)})
	if err != nil {
		return err
	}
	defer ob.Body.Close()
	got, err := io.ReadAll(ob.Body)
	if err != nil {
		return err
	}
	if len(got) == 0 {
		return errors.New("empty body")
	}
	v := got[0]
	want := int64(sizeOf(v))
	if rng != nil {
		want = min(rng.End+1, want) - rng.Start
	}
	if int64(len(got)) != want || !bytes.Equal(got, pattern(v, len(got))) {
		return fmt.Errorf("body of %d bytes is not version %d whole (%d bytes)", len(got), v, want)
	}
	if ob.Object.Size != int64(sizeOf(v)) {
		return fmt.Errorf("metadata of size %d served with version %d's bytes", ob.Object.Size, v)
	}
	return nil
}

// customerOnly is the read-side spec: only SSE-C needs the key on a read.
func customerOnly(spec *sse.Spec) *sse.Spec {
	if spec != nil && spec.Mode == sse.Customer {
		return spec
	}
	return nil
}

// TestConcurrentCompletes: Completes of one upload racing with different
// part lists: exactly one list is installed; a racer that sent the same
// list as the winner learns the winner's result, every other one gets
// NoSuchUpload, and the object holds the winning list's bytes.
func TestConcurrentCompletes(t *testing.T) {
	lists := [][]int{{1}, {1, 2}, {1, 2, 3}, {2, 3}, {1, 3}, {2}, {3}, {1, 2}}
	for _, sp := range raceSpecs {
		t.Run(sp.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			for round := range 10 {
				u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "k", SSE: sp.spec})
				if err != nil {
					t.Fatal(err)
				}
				etags := map[int]string{}
				for n := 1; n <= 3; n++ {
					part, err := f.svc.UploadPart(ctx, f.p, UploadPartInput{Bucket: "bkt", Key: "k", UploadID: u.ID, PartNumber: n,
						Body: Body{Reader: bytes.NewReader(pattern(byte(n), 1000)), Size: 1000}})
					if err != nil {
						t.Fatal(err)
					}
					etags[n] = `"` + part.ETag + `"`
				}
				results := make([]*meta.Object, len(lists))
				failed := make([]error, len(lists))
				racetest.Together(len(lists), func(i int) {
					in := CompleteUploadInput{Bucket: "bkt", Key: "k", UploadID: u.ID, MinPartSize: 1}
					for _, n := range lists[i] {
						in.Parts = append(in.Parts, CompletePart{Number: n, ETag: etags[n]})
					}
					results[i], failed[i] = f.svc.CompleteMultipartUpload(ctx, f.p, in)
				})
				got := f.read(t, "k", sp.spec)
				winner := -1
				for i, l := range lists {
					var body []byte
					for _, n := range l {
						body = append(body, pattern(byte(n), 1000)...)
					}
					if bytes.Equal(body, got) {
						winner = i
					}
				}
				if winner < 0 {
					t.Fatalf("round %d: object of %d bytes is no list's", round, len(got))
				}
				for i, l := range lists {
					same := fmt.Sprint(l) == fmt.Sprint(lists[winner])
					switch {
					case same && failed[i] != nil:
						t.Errorf("round %d: Complete %v (the winning list) failed: %v", round, l, failed[i])
					case same && results[i].ETag != results[winner].ETag:
						t.Errorf("round %d: Complete %v answered ETag %s, the object's is %s", round, l, results[i].ETag, results[winner].ETag)
					case !same && errs.As(failed[i]) != errs.NoSuchUpload:
						t.Errorf("round %d: Complete %v lost to %v but answered %v, want NoSuchUpload", round, l, lists[winner], failed[i])
					}
				}
			}
		})
	}
}

// TestConditionalCopyCompleteRace: CopyObject and CompleteMultipartUpload
// honour If-None-Match: * at commit too: of copies and Completes racing to
// create one key exactly one wins, the others get 412 and a losing copy
// leaves no blob.
func TestConditionalCopyCompleteRace(t *testing.T) {
	for _, sp := range raceSpecs {
		t.Run(sp.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.put(t, "src", pattern(0xee, 300<<10), sp.spec)
			const racers = 8
			uploads := make([]CompleteUploadInput, racers)
			for i := 0; i < racers; i += 2 {
				u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "dst", SSE: sp.spec})
				if err != nil {
					t.Fatal(err)
				}
				p, err := f.svc.UploadPart(ctx, f.p, UploadPartInput{Bucket: "bkt", Key: "dst", UploadID: u.ID, PartNumber: 1,
					Body: Body{Reader: bytes.NewReader(pattern(byte(i), 1000)), Size: 1000}})
				if err != nil {
					t.Fatal(err)
				}
				uploads[i] = CompleteUploadInput{Bucket: "bkt", Key: "dst", UploadID: u.ID, IfNoneMatch: "*",
					Parts: []CompletePart{{Number: 1, ETag: p.ETag}}}
			}
			var wins atomic.Int32
			racetest.Together(racers, func(i int) {
				var err error
				if i%2 == 0 {
					_, err = f.svc.CompleteMultipartUpload(ctx, f.p, uploads[i])
				} else {
					_, err = f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "dst", SSE: sp.spec, IfNoneMatch: "*"})
				}
				switch {
				case err == nil:
					wins.Add(1)
				case errs.As(err) != errs.PreconditionFailed:
					t.Errorf("racer %d: %v, want PreconditionFailed", i, err)
				}
			})
			if n := wins.Load(); n != 1 {
				t.Fatalf("%d of %d racers created the key, want 1", n, racers)
			}
			dst, err := f.meta.GetObject(ctx, "bkt", "dst")
			if err != nil {
				t.Fatal(err)
			}
			want := 1 // the source's blob
			for _, p := range dst.Parts {
				if p.BlobID != "" {
					want++
				}
			}
			if n := f.blobFiles(t); n != want {
				t.Fatalf("%d blob files, want %d (a losing copy's blob must be deleted)", n, want)
			}
		})
	}
}

func bktOf(t *testing.T, f *fixture) *meta.Bucket {
	t.Helper()
	b, err := f.meta.GetBucket(context.Background(), "bkt")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
