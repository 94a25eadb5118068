package service

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// bucketMemoKey keys a request's bucketMemo in its context.
type bucketMemoKey struct{}

// bucketMemo holds the bucket a write read, so the response's later
// reads of it (ObjectExpiration) cost no second metadata round trip.
type bucketMemo struct{ b *meta.Bucket }

// WithBucketMemo returns a context in which a PutObject remembers the
// bucket it read for ObjectExpiration on the same context: the response
// then describes the bucket as the write saw it.
func WithBucketMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, bucketMemoKey{}, &bucketMemo{})
}

func rememberBucket(ctx context.Context, b *meta.Bucket) {
	if m, ok := ctx.Value(bucketMemoKey{}).(*bucketMemo); ok {
		m.b = b
	}
}

func rememberedBucket(ctx context.Context, name string) *meta.Bucket {
	if m, ok := ctx.Value(bucketMemoKey{}).(*bucketMemo); ok && m.b != nil && m.b.Name == name {
		return m.b
	}
	return nil
}
