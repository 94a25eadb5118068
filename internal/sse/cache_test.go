package sse

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// TestBucketKeyCacheLimits: the cache of plaintext bucket keys holds at
// most its size (the oldest leave first), forgets keys past its TTL, and
// zeroes every key it lets go; the keys callers got are copies, so a
// zeroed cache entry never changes a request's key; size or TTL 0 turns
// the cache off (one KMS call per bucket-key write).
func TestBucketKeyCacheLimits(t *testing.T) {
	ctx := context.Background()
	s, calls, _ := newSealer(t)
	now := time.Unix(1_700_000_000, 0)
	s.SetClock(func() time.Time { return now })
	s.SetCacheLimits(time.Minute, 3)
	spec := &Spec{Mode: KMS, Algorithm: AES256, BucketKey: true}
	write := func(bucket string) *Encryption {
		t.Helper()
		_, enc, err := s.createKey(ctx, spec, bucket, "k")
		if err != nil {
			t.Fatal(err)
		}
		return (*Encryption)(enc)
	}
	cached := func(bucket string) *bucketKey {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.bucketKeys[cacheID(bucket, s.current[bucket+"\x00"])]
	}
	write("b0")
	first := cached("b0")
	held := bytes.Clone(first.plain)
	for i := 1; i <= 3; i++ {
		now = now.Add(time.Second)
		write("b" + string(rune('0'+i)))
	}
	if n := s.CachedKeys(); n != 3 {
		t.Errorf("%d keys cached, want at most 3", n)
	}
	if cached("b0") != nil || !bytes.Equal(first.plain, make([]byte, len(first.plain))) {
		t.Error("the oldest key was not evicted and zeroed")
	}
	if bytes.Equal(held, make([]byte, len(held))) {
		t.Fatal("test bug: the key copy is zero")
	}

	// Past the TTL every key is forgotten and zeroed, even with no request.
	keep := cached("b3")
	now = now.Add(2 * time.Minute)
	s.mu.Lock()
	s.dropExpired()
	s.mu.Unlock()
	if n := s.CachedKeys(); n != 0 || !bytes.Equal(keep.plain, make([]byte, len(keep.plain))) {
		t.Errorf("after the TTL: %d keys cached, the last one zeroed: %v", n, bytes.Equal(keep.plain, make([]byte, len(keep.plain))))
	}

	// A read of an object whose bucket key left the cache still works.
	enc := write("r")
	s.SetCacheLimits(0, 0)
	if _, err := s.readKey(ctx, enc.meta(), "r", "k", nil); err != nil {
		t.Fatal(err)
	}
	calls.Reset()
	for range 3 {
		write("off")
	}
	if got := calls.Calls()[kms.OpGenerateDataKey]; got != 3 {
		t.Errorf("cache off: %d GenerateDataKey calls for 3 writes, want 3", got)
	}
	if n := s.CachedKeys(); n != 0 {
		t.Errorf("cache off: %d keys cached", n)
	}
}
