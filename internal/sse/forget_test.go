package sse

import (
	"bytes"
	"context"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// TestForgetBucketKeys: another node's key disable (a notice) empties the
// cache of plaintext bucket keys, zeroing them, so the next write and
// read under a bucket key ask the KMS again.
func TestForgetBucketKeys(t *testing.T) {
	ctx := context.Background()
	s, calls, _ := newSealer(t)
	spec := &Spec{Mode: KMS, Algorithm: AES256, BucketKey: true}
	_, enc, err := s.createKey(ctx, spec, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	var held *bucketKey
	for _, bk := range s.bucketKeys {
		held = bk
	}
	s.mu.Unlock()
	if held == nil {
		t.Fatal("no bucket key cached")
	}
	s.ForgetBucketKeys()
	if n := s.CachedKeys(); n != 0 || !bytes.Equal(held.plain, make([]byte, len(held.plain))) {
		t.Fatalf("after ForgetBucketKeys: %d keys cached, zeroed %v", n, bytes.Equal(held.plain, make([]byte, len(held.plain))))
	}
	calls.Reset()
	if _, err := s.readKey(ctx, enc, "b", "k", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.createKey(ctx, spec, "b", "k2"); err != nil {
		t.Fatal(err)
	}
	got := calls.Calls()
	if got[kms.OpDecrypt] == 0 || got[kms.OpGenerateDataKey] != 1 {
		t.Errorf("KMS calls after forgetting %v: want a decrypt for the read and one GenerateDataKey for the write", got)
	}
}
