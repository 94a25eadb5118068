package sse

import (
	"crypto/rand"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkObjectKeyCache measures the object-key cache at its bound, as
// a busy server keeps it: every insertion evicts, and reads look keys up.
// Parallel, for the cache's mutex is shared by every request.
//
//	insert  caching a new SSE-S3 key (what every SSE-S3 PUT does)
//	hit     finding one cached a while ago (an SSE-S3 GET)
func BenchmarkObjectKeyCache(b *testing.B) {
	oek := make([]byte, ObjectKeySize)
	rand.Read(oek)
	// Wrapped keys of the keyring's size, with distinct bytes (the salt).
	wrapped := func(i int64) []byte {
		w := make([]byte, 101)
		copy(w, "SRKR\x01\x00\x07default\x00\x00\x00\x01")
		copy(w[20:], strconv.FormatInt(i, 10))
		return w
	}
	full := func(b *testing.B) (*Sealer, [][]byte, [][]byte) {
		s, _, _ := newSealer(b)
		aads, ws := make([][]byte, MaxObjectKeys), make([][]byte, MaxObjectKeys)
		for i := range MaxObjectKeys {
			aad, err := objectAAD("bench-bucket", "fill/"+strconv.Itoa(i), "")
			if err != nil {
				b.Fatal(err)
			}
			aads[i], ws[i] = aad, wrapped(int64(-i-1))
			if s.rememberManagedKey(aad, ws[i], oek, s.keyStateSerial()) == nil {
				b.Fatal("not cached")
			}
		}
		return s, aads, ws
	}
	parallel := func(b *testing.B, op func(i int64)) {
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op(n.Add(1))
			}
		})
	}
	b.Run("insert", func(b *testing.B) {
		s, _, _ := full(b)
		parallel(b, func(i int64) {
			aad, _ := objectAAD("bench-bucket", "obj/"+strconv.FormatInt(i, 10), "")
			s.rememberManagedKey(aad, wrapped(i), oek, s.keyStateSerial())
		})
	})
	b.Run("hit", func(b *testing.B) {
		s, aads, ws := full(b)
		parallel(b, func(i int64) {
			j := int(i*7919) % MaxObjectKeys
			k, c := s.cachedManagedKey(aads[j], ws[j])
			if c == nil {
				panic("a key cached a while ago was not found")
			}
			clear(k)
		})
	})
}
