package service

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// benchObjects is the object count of the key job benchmarks:
// STRONGROOM_BENCH_KEYJOB_OBJECTS (the rate is over 100000), else
// a count that runs in seconds.
func benchObjects(def int) int {
	if n, err := strconv.Atoi(os.Getenv("STRONGROOM_BENCH_KEYJOB_OBJECTS")); err == nil && n > 0 {
		return n
	}
	return def
}

// benchKeyJobFixture stores n objects of size bytes under SSE-KMS
// (key "bench"), a third of them with a bucket key.
func benchKeyJobFixture(b *testing.B, n, size int) (*fixture, *kms.Keyring, *jobs.Engine) {
	b.Helper()
	f := newFixture(b)
	ctx := context.Background()
	k := f.svc.sealer.Provider().(*kms.Keyring)
	if _, err := k.CreateKey(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	// Written 32 at a time, so the group commit makes a large fixture
	// quick.
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	sem := make(chan struct{}, 32)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			spec := &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "bench", BucketKey: i%3 == 0}
			if _, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: fmt.Sprintf("o/%07d", i), SSE: spec,
				Body: Body{Reader: bytes.NewReader(data), Size: int64(size)}}); err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	e := jobs.New(jobs.Options{Store: f.meta, Node: "bench"})
	return f, k, e
}

// runKeyJob runs one pass of a key job over the fixture and returns what
// it did.
func runKeyJob(b *testing.B, f *fixture, e *jobs.Engine, name string, req KeyJobRequest) map[string]int64 {
	b.Helper()
	ctx := context.Background()
	req.Requested = time.Now()
	if err := StartKeyJob(ctx, f.meta, name, req); err != nil {
		b.Fatal(err)
	}
	j, err := e.RunPass(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	return j.Pass
}

// BenchmarkRewrap: one rewrap pass after a rotation, over every object
// (metadata only). Reports objects/s.
func BenchmarkRewrap(b *testing.B) {
	n := benchObjects(2000)
	f, k, e := benchKeyJobFixture(b, n, 1024)
	e.Register(jobs.Spec{Name: RewrapJob, Task: f.svc.RewrapTask("builtin"), Every: KeyJobOnce})
	var objs int64
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := k.RotateKey(context.Background(), "bench"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		c := runKeyJob(b, f, e, RewrapJob, KeyJobRequest{Key: "bench"})
		took += time.Since(start)
		if c["rewrapped"] != int64(n) {
			b.Fatalf("rewrapped %d of %d", c["rewrapped"], n)
		}
		objs += c["rewrapped"]
	}
	b.ReportMetric(float64(objs)/took.Seconds(), "objects/s")
}

// BenchmarkReencrypt: one re-encrypt pass over every object (256 KiB
// each, blobs), alternating SM4 and AES256. Reports MB/s of plaintext
// (compare with internal/sealed's BenchmarkSeal*: the sealing limit) and
// objects/s.
func BenchmarkReencrypt(b *testing.B) {
	const size = 256 << 10
	n := benchObjects(2000) / 10
	f, _, e := benchKeyJobFixture(b, n, size)
	e.Register(jobs.Spec{Name: ReencryptJob, Task: f.svc.ReencryptTask(), Every: KeyJobOnce})
	var objs int64
	var took time.Duration
	for i := 0; b.Loop(); i++ {
		alg := sse.SM4
		if i%2 == 1 {
			alg = sse.AES256
		}
		start := time.Now()
		c := runKeyJob(b, f, e, ReencryptJob, KeyJobRequest{Bucket: "bkt", Algorithm: alg})
		took += time.Since(start)
		if c["reencrypted"] != int64(n) {
			b.Fatalf("reencrypted %d of %d", c["reencrypted"], n)
		}
		objs += c["reencrypted"]
	}
	b.ReportMetric(float64(objs)*size/1e6/took.Seconds(), "MB/s")
	b.ReportMetric(float64(objs)/took.Seconds(), "objects/s")
}
