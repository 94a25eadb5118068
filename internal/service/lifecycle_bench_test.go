package service

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/lifecycle"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// BenchmarkLifecyclePass measures a lifecycle pass that expires every
// object of a bucket, in objects per second (metadata records, no blobs:
// the pass's own cost, unpaced). Each iteration is one pass.
//
//	go test -run '^$' -bench LifecyclePass -benchtime 1x ./internal/service/
func BenchmarkLifecyclePass(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				f, clk, e := lifecycleFixtureB(b)
				fill(b, f, n)
				ctx := context.Background()
				if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycleB(b)); err != nil {
					b.Fatal(err)
				}
				clk.Add(72 * time.Hour)
				b.StartTimer()
				start := time.Now()
				j, err := e.RunPass(ctx, LifecycleJob)
				if err != nil {
					b.Fatal(err)
				}
				d := time.Since(start)
				if j.Pass["expired"] != int64(n) {
					b.Fatalf("expired %d of %d", j.Pass["expired"], n)
				}
				b.ReportMetric(float64(n)/d.Seconds(), "objects/s")
			}
		})
	}
}

func lifecycleFixtureB(b *testing.B) (*fixture, *fakeClock, *jobs.Engine) {
	f := newFixture(b)
	clk := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc.now = clk.Now
	e := jobs.New(jobs.Options{Store: f.meta, Node: "bench", Now: clk.Now})
	e.Register(jobs.Spec{Name: LifecycleJob, Task: f.svc.LifecycleTask(), Every: time.Hour})
	return f, clk, e
}

func mustLifecycleB(b *testing.B) *lifecycle.Config {
	return mustLifecycle(b, `<Rule><ID>all</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)
}

// fill writes n small object records straight into the metadata store,
// 64 writers at a time so group commit batches them.
func fill(b testing.TB, f *fixture, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := &meta.Object{Bucket: "bkt", Key: fmt.Sprintf("obj/%08d", i), Size: 1, ETag: "e",
					LastModified: f.svc.now(), Parts: []meta.Part{{Inline: []byte("x"), Size: 1, StoredSize: 1}}}
				if _, err := f.meta.PutObject(ctx, o, nil); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
