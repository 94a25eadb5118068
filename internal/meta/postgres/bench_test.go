package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

func benchObject(i int64) *meta.Object {
	return &meta.Object{Bucket: "b", Key: fmt.Sprintf("bench/%012d", i), Size: 4096, ETag: "0123456789abcdef0123456789abcdef",
		LastModified: time.Now(), Parts: []meta.Part{{BlobID: "0123456789abcdef0123456789abcdef", Size: 4096, StoredSize: 4144}}}
}

// BenchmarkPutObject: small records, one writer and 32, against the
// private test instance (fsync off: this measures round trips and locks).
//
//	go test -run '^$' -bench PutObject -benchtime 2000x ./internal/meta/postgres/
func BenchmarkPutObject(b *testing.B) {
	for _, versioned := range []bool{false, true} {
		s, _ := openTest(b)
		metatest.MustBucket(b, s, "b")
		if versioned {
			metatest.SetVersioning(b, s, "b", meta.VersioningEnabled)
		}
		var n atomic.Int64
		b.Run(fmt.Sprintf("serial/versioned=%v", versioned), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.PutObject(ctx, benchObject(n.Add(1)), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("parallel32/versioned=%v", versioned), func(b *testing.B) {
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.PutObject(ctx, benchObject(n.Add(1)), nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(fmt.Sprintf("get/versioned=%v", versioned), func(b *testing.B) {
			i := int64(0)
			for b.Loop() {
				i = i%n.Load() + 1
				if _, err := s.GetObject(ctx, "b", benchObject(i).Key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
