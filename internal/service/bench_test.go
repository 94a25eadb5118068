package service

import (
	"context"
	"crypto/rand"
	"io"
	"testing"

	"strongroom/internal/sse"
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
