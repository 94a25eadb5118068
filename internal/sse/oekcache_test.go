package sse

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// cachedOEKs returns the object keys cached under every bucket key.
func cachedOEKs(s *Sealer) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, bk := range s.bucketKeys {
		for _, oek := range bk.oeks {
			out = append(out, oek)
		}
	}
	return out
}

func zeroed(keys [][]byte) bool {
	for _, k := range keys {
		if !bytes.Equal(k, make([]byte, len(k))) {
			return false
		}
	}
	return true
}

// An object key read under a bucket key is cached with it, and only while
// the bucket key is: disabling the master key (the state serial), a notice
// from another node (ForgetBucketKeys) and the cache TTL each make the next
// read ask the KMS again, and what was cached is zeroed.
func TestObjectKeyCacheFollowsBucketKey(t *testing.T) {
	ctx := context.Background()
	spec := &Spec{Mode: KMS, Algorithm: AES256, KeyID: "named", BucketKey: true}
	setup := func(t *testing.T) (*Sealer, *kms.Counting, *kms.Keyring, []byte, *meta.Encryption) {
		s, c, k := newSealer(t)
		if _, err := k.CreateKey(ctx, "named"); err != nil {
			t.Fatal(err)
		}
		oek, enc, err := s.NewObjectKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := s.ObjectKey(ctx, enc, "b", "k", nil)
			if err != nil || !bytes.Equal(got, oek) {
				t.Fatalf("read: %v", err)
			}
		}
		if n := len(cachedOEKs(s)); n != 1 {
			t.Fatalf("%d object keys cached after two reads, want 1", n)
		}
		return s, c, k, oek, enc
	}

	t.Run("disable", func(t *testing.T) {
		s, _, k, _, enc := setup(t)
		held := cachedOEKs(s)
		if _, err := k.DisableKey(ctx, "named"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ObjectKey(ctx, enc, "b", "k", nil); err == nil {
			t.Fatal("object key served from the cache after its master key was disabled")
		}
		if !zeroed(held) {
			t.Error("the cached object key was not zeroed")
		}
	})
	t.Run("rotate", func(t *testing.T) {
		s, _, k, oek, enc := setup(t)
		if _, err := k.RotateKey(ctx, "named"); err != nil {
			t.Fatal(err)
		}
		// A rotation keeps older versions readable: same key, cached or not.
		if got, err := s.ObjectKey(ctx, enc, "b", "k", nil); err != nil || !bytes.Equal(got, oek) {
			t.Fatalf("after rotation: %v", err)
		}
	})
	t.Run("forget", func(t *testing.T) {
		s, c, _, oek, enc := setup(t)
		held := cachedOEKs(s)
		s.ForgetBucketKeys()
		if !zeroed(held) || len(cachedOEKs(s)) != 0 {
			t.Fatal("ForgetBucketKeys left object keys cached")
		}
		c.Reset()
		if got, err := s.ObjectKey(ctx, enc, "b", "k", nil); err != nil || !bytes.Equal(got, oek) {
			t.Fatalf("after forgetting: %v", err)
		}
		if n := c.Calls()[kms.OpDecrypt]; n != 1 {
			t.Errorf("%d KMS Decrypt calls after forgetting, want 1 (the bucket key)", n)
		}
	})
	t.Run("ttl", func(t *testing.T) {
		s, c, _, _, enc := setup(t)
		now := time.Now()
		s.SetClock(func() time.Time { return now.Add(DefaultCacheTTL + time.Second) })
		c.Reset()
		if _, err := s.ObjectKey(ctx, enc, "b", "k", nil); err != nil {
			t.Fatal(err)
		}
		if n := c.Calls()[kms.OpDecrypt]; n != 1 {
			t.Errorf("%d KMS Decrypt calls after the TTL, want 1", n)
		}
	})
	t.Run("context", func(t *testing.T) {
		// The same stored material under another key does not unwrap
		// (its context differs), cached or not.
		s, _, _, _, enc := setup(t)
		if _, err := s.ObjectKey(ctx, enc, "b", "other", nil); err == nil {
			t.Fatal("object key of b/k served for b/other")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		s, _, _, _, _ := setup(t)
		for i := range maxOEKsPerBucketKey + 10 {
			key := string(rune('a'+i%26)) + string(rune('a'+i/26))
			_, enc, err := s.NewObjectKey(ctx, spec, "b", key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ObjectKey(ctx, enc, "b", key, nil); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(cachedOEKs(s)); n > maxOEKsPerBucketKey {
			t.Errorf("%d object keys cached under one bucket key, want at most %d", n, maxOEKsPerBucketKey)
		}
	})
}

// SSE-S3, SSE-KMS without a bucket key and SSE-C keys are never cached: a
// wrong customer key is refused after a right one, and every KMS read asks
// the KMS.
func TestObjectKeyCacheOnlyBucketKeys(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSealer(t)
	for _, spec := range []*Spec{{Mode: Managed, Algorithm: AES256}, {Mode: KMS, Algorithm: AES256}} {
		_, enc, err := s.NewObjectKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		c.Reset()
		for range 3 {
			if _, err := s.ObjectKey(ctx, enc, "b", "k", nil); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.Calls()[kms.OpDecrypt]; n != 3 {
			t.Errorf("%s: %d KMS Decrypt calls for 3 reads, want 3", spec.Mode, n)
		}
	}
	_, kb64, km5 := customerKey(t)
	_, otherB64, otherMD5 := customerKey(t)
	cust, _ := CustomerSpec(AES256, kb64, km5)
	wrong, _ := CustomerSpec(AES256, otherB64, otherMD5)
	_, enc, err := s.NewObjectKey(ctx, cust, "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ObjectKey(ctx, enc, "b", "c", cust); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ObjectKey(ctx, enc, "b", "c", wrong); err == nil || errors.Is(err, nil) {
		t.Error("a wrong customer key was accepted after the right one")
	}
	if n := len(cachedOEKs(s)); n != 0 {
		t.Errorf("%d object keys cached without bucket keys, want 0", n)
	}
}
