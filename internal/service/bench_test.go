package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/sse"
)

// BenchmarkGet64MiB streams a 64 MiB object through the read pipeline
// (objectReader.WriteTo, as a GET's body copy does) into io.Discard.
func BenchmarkGet64MiB(b *testing.B) {
	for _, bc := range []struct {
		name string
		spec *sse.Spec
	}{
		{"plain", nil},
		{"sse-s3", &sse.Spec{Mode: sse.Managed, Algorithm: "AES256"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b)
			data := make([]byte, 64<<20)
			rand.Read(data)
			f.put(b, "big", data, bc.spec)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			defer reportCPU(b, cpuTime(), int64(len(data)))
			for range b.N {
				ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: "big"})
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, ob.Body); err != nil || n != int64(len(data)) {
					b.Fatal(n, err)
				}
				ob.Body.Close()
			}
		})
	}
}

// cpuTime is the process's user+system CPU time: on a shared machine it is
// a steadier cost measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/MiB metric for what ran since start.
func reportCPU(b *testing.B, start time.Duration, bytes int64) {
	b.ReportMetric(float64(cpuTime()-start)/(float64(b.N)*float64(bytes)/(1<<20)), "cpu-ns/MiB")
}

// BenchmarkDeleteObjects1000 deletes 1000 keys in one DeleteObjects
// request; the keys are put again (untimed) between rounds.
func BenchmarkDeleteObjects1000(b *testing.B) {
	f := newFixture(b)
	objs := make([]ObjectVersion, 1000)
	for i := range objs {
		objs[i].Key = fmt.Sprintf("k%04d", i)
	}
	for b.Loop() {
		b.StopTimer()
		var wg sync.WaitGroup
		for i := range objs {
			wg.Go(func() { f.put(b, objs[i].Key, []byte("x"), nil) })
		}
		wg.Wait()
		b.StartTimer()
		res, err := f.svc.DeleteObjects(context.Background(), f.p, "bkt", objs, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}
