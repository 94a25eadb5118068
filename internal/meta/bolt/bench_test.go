package bolt

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

var hotModes = []struct {
	name string
	mode hotMode
}{
	{"groupcommit", hotGroupCommit},
	{"dbBatch", hotDBBatch},
	{"update", hotUpdate},
}

func benchObject(i int64) *meta.Object {
	return &meta.Object{Bucket: "b", Key: fmt.Sprintf("bench/%012d", i), Size: 4096, ETag: "0123456789abcdef0123456789abcdef",
		LastModified: time.Now(), Parts: []meta.Part{{BlobID: "0123456789abcdef0123456789abcdef", Size: 4096, StoredSize: 4144}}}
}

// BenchmarkPutObjectParallel: 32 concurrent writers of small records. With
// group commit they share fsyncs; "update" is one fsync'd transaction each.
func BenchmarkPutObjectParallel(b *testing.B) {
	for _, m := range hotModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b)
			s.hot = m.mode
			mustBucket(b, s, "b")
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.PutObject(ctx, benchObject(n.Add(1)), nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkPutObjectSerial: one writer; group commit must add no latency.
func BenchmarkPutObjectSerial(b *testing.B) {
	for _, m := range hotModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b)
			s.hot = m.mode
			mustBucket(b, s, "b")
			var i int64
			for b.Loop() {
				i++
				if _, err := s.PutObject(ctx, benchObject(i), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
