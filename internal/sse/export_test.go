package sse

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Encryption is meta.Encryption, named here to keep the tests short.
type Encryption meta.Encryption

func (e *Encryption) meta() *meta.Encryption { return (*meta.Encryption)(e) }

// createKey is NewObjectKey without putting the key in the read cache, so
// a test sees the cache fill from reads alone.
func (s *Sealer) createKey(ctx context.Context, spec *Spec, bucket, key string) ([]byte, *meta.Encryption, error) {
	oek, enc, _, err := s.newObjectKey(ctx, spec, bucket, key, false)
	return oek, enc, err
}

// readKey is ObjectKey for a test that does not look at what is kept.
func (s *Sealer) readKey(ctx context.Context, enc *meta.Encryption, bucket, key string, customer *Spec) ([]byte, error) {
	oek, _, err := s.ObjectKey(ctx, enc, bucket, key, customer)
	return oek, err
}
