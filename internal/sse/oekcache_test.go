package sse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sealed"
)

// cachedOEKs returns the object keys cached, under bucket keys and SSE-S3,
// checking that each bucket key lists exactly the cached keys under it and
// that the SSE-S3 count (CachedObjectKeys) is right.
func cachedOEKs(s *Sealer) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	under := 0
	for h, sl := range s.oeks {
		c := sl.c
		if c.h != h || s.oekHash(c.id) != h {
			panic(fmt.Sprintf("key cached at %x names itself %q (hash %x)", h, c.id, c.h))
		}
		if c.bk != nil {
			under++
			if s.bucketKeys[c.bk.id] != c.bk {
				panic("a cached object key's bucket key is not cached")
			}
		}
		out = append(out, c.key[:])
	}
	listed := 0
	for _, bk := range s.bucketKeys {
		for c := bk.oeks; c != nil; c = c.next {
			if s.oeks[c.h].c != c || c.bk != bk || (c.next != nil && c.next.prev != c) {
				panic("a bucket key lists an object key not cached under it")
			}
			listed++
		}
	}
	if want := len(s.oeks) - under; s.managed != want {
		panic(fmt.Sprintf("%d SSE-S3 keys cached, %d counted", want, s.managed))
	}
	if listed != under {
		panic(fmt.Sprintf("%d object keys under bucket keys, %d listed", under, listed))
	}
	return out
}

// decryptsFor reads b/k's object key reads times (checking it against want,
// when given) and returns how many KMS Decrypt calls that took.
func decryptsFor(t *testing.T, s *Sealer, c *kms.Counting, enc *meta.Encryption, want []byte, reads int) uint64 {
	t.Helper()
	c.Reset()
	for range reads {
		got, err := s.readKey(context.Background(), enc, "b", "k", nil)
		if err != nil || (want != nil && !bytes.Equal(got, want)) {
			t.Fatalf("read: %v (key matches: %v)", err, bytes.Equal(got, want))
		}
	}
	return c.Calls()[kms.OpDecrypt]
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
		oek, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := s.readKey(ctx, enc, "b", "k", nil)
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
		if _, err := s.readKey(ctx, enc, "b", "k", nil); err == nil {
			t.Fatal("object key served from the cache after its master key was disabled")
		}
		if !zeroed(held) {
			t.Error("the cached object key was not zeroed")
		}
	})
	t.Run("other bucket key", func(t *testing.T) {
		// A record naming another bucket key of the bucket is not served
		// the key cached under the first: it unwraps under the one it
		// names, and fails there.
		s, _, k, _, enc := setup(t)
		if _, err := k.CreateKey(ctx, "second"); err != nil {
			t.Fatal(err)
		}
		_, other, err := s.createKey(ctx, &Spec{Mode: KMS, Algorithm: AES256, KeyID: "second", BucketKey: true}, "b", "k2")
		if err != nil {
			t.Fatal(err)
		}
		if other.WrappedBucketKey == enc.WrappedBucketKey {
			t.Fatal("two master keys, one bucket key")
		}
		swapped := *enc
		swapped.WrappedBucketKey = other.WrappedBucketKey
		if _, err := s.readKey(ctx, &swapped, "b", "k", nil); err == nil {
			t.Fatal("object key served under a bucket key it was not wrapped under")
		}
	})
	t.Run("rotate", func(t *testing.T) {
		s, _, k, oek, enc := setup(t)
		if _, err := k.RotateKey(ctx, "named"); err != nil {
			t.Fatal(err)
		}
		// A rotation keeps older versions readable: same key, cached or not.
		if got, err := s.readKey(ctx, enc, "b", "k", nil); err != nil || !bytes.Equal(got, oek) {
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
		if n := decryptsFor(t, s, c, enc, oek, 1); n != 1 {
			t.Errorf("%d KMS Decrypt calls after forgetting, want 1 (the bucket key)", n)
		}
	})
	t.Run("ttl", func(t *testing.T) {
		s, c, _, _, enc := setup(t)
		now := time.Now()
		s.SetClock(func() time.Time { return now.Add(DefaultCacheTTL + time.Second) })
		if n := decryptsFor(t, s, c, enc, nil, 1); n != 1 {
			t.Errorf("%d KMS Decrypt calls after the TTL, want 1", n)
		}
	})
	t.Run("context", func(t *testing.T) {
		// The same stored material under another key does not unwrap
		// (its context differs), cached or not.
		s, _, _, _, enc := setup(t)
		if _, err := s.readKey(ctx, enc, "b", "other", nil); err == nil {
			t.Fatal("object key of b/k served for b/other")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		s, _, _, _, _ := setup(t)
		s.oekLimit = 50
		readMany(t, s, spec, 60)
		if n := len(cachedOEKs(s)); n != s.oekLimit {
			t.Errorf("%d object keys cached, want the limit %d", n, s.oekLimit)
		}
	})
}

// underBucketKeys counts the object keys cached under bucket keys.
func underBucketKeys(s *Sealer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sl := range s.oeks {
		if sl.c.bk != nil {
			n++
		}
	}
	return n
}

// readMany creates and reads n objects of bucket b under spec, and reads
// them all again, checking each key.
func readMany(t *testing.T, s *Sealer, spec *Spec, n int) {
	t.Helper()
	ctx := context.Background()
	type obj struct {
		key string
		oek []byte
		enc *meta.Encryption
	}
	objs := make([]obj, n)
	for i := range objs {
		key := fmt.Sprintf("k%04d", i)
		oek, enc, err := s.createKey(ctx, spec, "b", key)
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = obj{key, bytes.Clone(oek), enc}
	}
	for range 2 {
		for _, o := range objs {
			got, err := s.readKey(ctx, o.enc, "b", o.key, nil)
			if err != nil || !bytes.Equal(got, o.oek) {
				t.Fatalf("read %s: %v (key matches: %v)", o.key, err, bytes.Equal(got, o.oek))
			}
		}
	}
}

// SSE-S3 object keys are cached on their own: the KMS is asked once per
// object while the key is fresh, and again after the TTL, after any key
// state change (the serial), after ForgetBucketKeys; what leaves is
// zeroed; another object's name never gets the key; the bound holds
// across SSE-S3 and bucket-key entries.
func TestManagedKeyCache(t *testing.T) {
	ctx := context.Background()
	spec := &Spec{Mode: Managed, Algorithm: AES256}
	setup := func(t *testing.T) (*Sealer, *kms.Counting, *kms.Keyring, []byte, *meta.Encryption) {
		s, c, k := newSealer(t)
		oek, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		oek = bytes.Clone(oek)
		if n := decryptsFor(t, s, c, enc, oek, 3); n != 1 {
			t.Fatalf("%d KMS Decrypt calls for 3 reads, want 1", n)
		}
		if n := len(cachedOEKs(s)); n != 1 {
			t.Fatalf("%d object keys cached, want 1", n)
		}
		return s, c, k, oek, enc
	}
	asksAgain := func(t *testing.T, s *Sealer, c *kms.Counting, oek []byte, enc *meta.Encryption) {
		t.Helper()
		if n := decryptsFor(t, s, c, enc, oek, 1); n != 1 {
			t.Errorf("%d KMS Decrypt calls, want 1 (the cached key is stale)", n)
		}
	}
	t.Run("serial", func(t *testing.T) {
		s, c, k, oek, enc := setup(t)
		held := cachedOEKs(s)
		if _, err := k.CreateKey(ctx, "other"); err != nil {
			t.Fatal(err)
		}
		if _, err := k.DisableKey(ctx, "other"); err != nil {
			t.Fatal(err)
		}
		asksAgain(t, s, c, oek, enc)
		if !zeroed(held) {
			t.Error("the stale key was not zeroed")
		}
	})
	t.Run("ttl", func(t *testing.T) {
		s, c, _, oek, enc := setup(t)
		now := time.Now()
		s.SetClock(func() time.Time { return now.Add(DefaultCacheTTL + time.Second) })
		asksAgain(t, s, c, oek, enc)
	})
	t.Run("forget", func(t *testing.T) {
		s, c, _, oek, enc := setup(t)
		held := cachedOEKs(s)
		s.ForgetBucketKeys()
		if !zeroed(held) || len(cachedOEKs(s)) != 0 {
			t.Fatal("ForgetBucketKeys left SSE-S3 keys cached")
		}
		asksAgain(t, s, c, oek, enc)
	})
	t.Run("off", func(t *testing.T) {
		s, c, _ := newSealer(t)
		s.SetCacheLimits(0, 0)
		_, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		if n := decryptsFor(t, s, c, enc, nil, 2); n != 2 {
			t.Errorf("%d KMS Decrypt calls for 2 reads with caching off, want 2", n)
		}
		// Nothing cached, nothing made for it: not even the key's name.
		aad, _ := objectAAD("b", "k", "")
		oek := make([]byte, ObjectKeySize)
		if n := testing.AllocsPerRun(10, func() {
			if s.rememberManagedKey(aad, enc.WrappedKey, oek, s.keyStateSerial()) != nil {
				t.Fatal("cached with caching off")
			}
		}); n != 0 {
			t.Errorf("%v allocations to not cache a key, want 0", n)
		}
	})
	t.Run("context", func(t *testing.T) {
		s, _, _, _, enc := setup(t)
		if _, err := s.readKey(ctx, enc, "b", "other", nil); err == nil {
			t.Fatal("object key of b/k served for b/other")
		}
		if _, err := s.readKey(ctx, enc, "c", "k", nil); err == nil {
			t.Fatal("object key of b/k served for c/k")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		s, _, k, _, _ := setup(t)
		s.oekLimit = 40
		if _, err := k.CreateKey(ctx, "named"); err != nil {
			t.Fatal(err)
		}
		readMany(t, s, &Spec{Mode: KMS, Algorithm: AES256, KeyID: "named", BucketKey: true}, 30)
		readMany(t, s, spec, 30)
		if n := len(cachedOEKs(s)); n != s.oekLimit {
			t.Errorf("%d object keys cached, want the limit %d", n, s.oekLimit)
		}
	})
	t.Run("limit 0", func(t *testing.T) {
		// A cache bounded to nothing still takes writes and reads
		// (it once dropped a nil entry on the first insertion).
		s, _, _, _, _ := setup(t)
		s.mu.Lock()
		for _, sl := range s.oeks {
			s.dropOEK(sl.c)
		}
		s.oekLimit = 0
		s.mu.Unlock()
		readMany(t, s, spec, 3)
		if n := len(cachedOEKs(s)); n > 1 {
			t.Errorf("%d object keys cached under a limit of 0, want at most the one just added", n)
		}
	})
	t.Run("recent kept", func(t *testing.T) {
		// Keys written into a cache full of older ones stay: one
		// arbitrary pick per insertion evicted about 11 of these 100
		// (a new key's odds were an old one's); the oldest of a few
		// picks evicts one in several runs.
		s, _, _, _, _ := setup(t)
		s.oekLimit = 400
		readMany(t, s, spec, 400)
		var recent [][]byte
		for i := range 100 {
			oek, _, _, err := s.NewObjectKey(ctx, spec, "new", fmt.Sprintf("k%d", i))
			if err != nil {
				t.Fatal(err)
			}
			recent = append(recent, bytes.Clone(oek))
		}
		cached := cachedOEKs(s)
		kept := 0
		for _, k := range recent {
			if slices.ContainsFunc(cached, func(c []byte) bool { return bytes.Equal(c, k) }) {
				kept++
			}
		}
		if kept < 97 {
			t.Errorf("%d of the 100 newest object keys cached, want nearly all", kept)
		}
	})
	t.Run("shared", func(t *testing.T) {
		// Once SSE-S3 keys fill the cache, bucket-key reads still get
		// room in proportion to what they add (they once got one slot,
		// and every read of them unwrapped).
		s, _, _, _, _ := setup(t)
		s.oekLimit = 40
		readMany(t, s, spec, 40)
		readMany(t, s, &Spec{Mode: KMS, Algorithm: AES256, BucketKey: true}, 20)
		if n := underBucketKeys(s); n < 10 {
			t.Errorf("%d of 20 bucket-key object keys cached after SSE-S3 keys filled the cache, want most", n)
		}
		if n := len(cachedOEKs(s)); n != s.oekLimit {
			t.Errorf("%d object keys cached, want the limit %d", n, s.oekLimit)
		}
	})
}

// SSE-KMS keys without a bucket key and SSE-C keys are never cached: a
// wrong customer key is refused after a right one, and every KMS read asks
// the KMS.
func TestObjectKeyCacheNotKMSOrCustomer(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSealer(t)
	for _, spec := range []*Spec{{Mode: KMS, Algorithm: AES256}} {
		_, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		if n := decryptsFor(t, s, c, enc, nil, 3); n != 3 {
			t.Errorf("%s: %d KMS Decrypt calls for 3 reads, want 3", spec.Mode, n)
		}
	}
	_, kb64, km5 := customerKey(t)
	_, otherB64, otherMD5 := customerKey(t)
	cust, _ := CustomerSpec(AES256, kb64, km5)
	wrong, _ := CustomerSpec(AES256, otherB64, otherMD5)
	_, enc, err := s.createKey(ctx, cust, "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.readKey(ctx, enc, "b", "c", cust); err != nil {
		t.Fatal(err)
	}
	if _, err := s.readKey(ctx, enc, "b", "c", wrong); err == nil || errors.Is(err, nil) {
		t.Error("a wrong customer key was accepted after the right one")
	}
	if n := len(cachedOEKs(s)); n != 0 {
		t.Errorf("%d object keys cached for SSE-KMS without bucket keys and SSE-C, want 0", n)
	}
}

// sealPart seals pt as part n of an object with key oek.
func sealPart(t *testing.T, enc *meta.Encryption, oek []byte, n int, pt []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, enc, oek, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A cached object key keeps the blob key of the part last read: the next
// read of that blob opens with it, another part or another blob of the
// same part derives its own, and the blob key leaves with its object key.
// Keys that are not cached keep nothing.
func TestKeptBlobKey(t *testing.T) {
	ctx := context.Background()
	pt := []byte("the plaintext of one small object")
	open := func(t *testing.T, kept Kept, enc *meta.Encryption, oek []byte, n int, blob []byte) *sealed.Reader {
		t.Helper()
		rd, err := kept.NewReader(bytes.NewReader(blob), int64(len(blob)), enc, oek, n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rd.NewRangeReader(0, rd.Size()))
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("read part %d: %v (bytes match: %v)", n, err, bytes.Equal(got, pt))
		}
		return rd
	}
	for _, spec := range []*Spec{
		{Mode: Managed, Algorithm: AES256},
		{Mode: KMS, Algorithm: SM4, KeyID: "named", BucketKey: true},
	} {
		t.Run(string(spec.Mode), func(t *testing.T) {
			s, _, k := newSealer(t)
			if _, err := k.CreateKey(ctx, "named"); err != nil {
				t.Fatal(err)
			}
			oek, enc, err := s.createKey(ctx, spec, "b", "k")
			if err != nil {
				t.Fatal(err)
			}
			part0, part1 := sealPart(t, enc, oek, 0, pt), sealPart(t, enc, oek, 1, pt)
			readKey := func() ([]byte, Kept) {
				t.Helper()
				got, kept, err := s.ObjectKey(ctx, enc, "b", "k", nil)
				if err != nil || kept.c == nil {
					t.Fatalf("ObjectKey: %v, kept %v", err, kept.c != nil)
				}
				return got, kept
			}
			got, kept := readKey() // the miss that caches the object key
			first := open(t, kept, enc, got, 0, part0)
			b := kept.c.blob.Load()
			if b == nil || b.part != 0 || b.key != *first.Key() {
				t.Fatal("the blob key of part 0 was not kept")
			}
			if b != &kept.c.first {
				t.Error("the first blob key kept is not in the entry itself")
			}
			slot0 := &b.key
			got, again := readKey()
			if again.c != kept.c {
				t.Fatal("a second read found another cache entry")
			}
			if rd := open(t, again, enc, got, 0, part0); rd.Key() != slot0 {
				t.Error("the kept blob key was not used")
			}
			if rd := open(t, again, enc, got, 1, part1); rd.Key() == slot0 || *rd.Key() == *slot0 {
				t.Error("part 0's blob key opened part 1")
			}
			if b := kept.c.blob.Load(); b == nil || b.part != 1 {
				t.Error("the blob key of the part last read is not the one kept")
			}
			if kept.c.first.part != 0 || kept.c.first.key != *first.Key() {
				t.Error("a later part's blob key overwrote the first, which a reader may hold")
			}
			rewritten := sealPart(t, enc, oek, 1, pt) // same part, another salt
			prev := &kept.c.blob.Load().key
			if rd := open(t, again, enc, got, 1, rewritten); rd.Key() == prev || *rd.Key() == *prev {
				t.Error("the kept blob key opened another blob")
			}
			// Part 0's blob stored as part 1 (swapped parts) does not
			// open with part 0's kept key.
			open(t, again, enc, got, 0, part0)
			rd, err := again.NewReader(bytes.NewReader(part0), int64(len(part0)), enc, got, 1)
			if err == nil {
				_, err = io.ReadAll(rd.NewRangeReader(0, rd.Size()))
			}
			if !errors.Is(err, sealed.ErrAuth) {
				t.Fatalf("part 0's blob read as part 1: %v, want ErrAuth", err)
			}
			s.ForgetBucketKeys()
			if kept.c.blob.Load() != nil {
				t.Error("the blob key stayed after its object key left the cache")
			}
		})
	}
	t.Run("not cached", func(t *testing.T) {
		s, _, _ := newSealer(t)
		_, kb64, km5 := customerKey(t)
		cust, _ := CustomerSpec(AES256, kb64, km5)
		for _, spec := range []*Spec{{Mode: KMS, Algorithm: AES256}, cust} {
			oek, enc, err := s.createKey(ctx, spec, "b", "k")
			if err != nil {
				t.Fatal(err)
			}
			blob := sealPart(t, enc, oek, 0, pt)
			got, kept, err := s.ObjectKey(ctx, enc, "b", "k", cust)
			if err != nil || kept.c != nil {
				t.Fatalf("%s: ObjectKey: %v, keeps blob keys: %v", spec.Mode, err, kept.c != nil)
			}
			open(t, kept, enc, got, 0, blob)
		}
	})
}

// A key created for a write is cached at once where a read would cache it
// (SSE-S3, bucket keys), with the blob key of what was written: reading
// the object back asks no KMS and derives nothing. Other modes, and a cache
// turned off, keep nothing.
func TestNewObjectKeyIsKept(t *testing.T) {
	ctx := context.Background()
	pt := []byte("written, then read back at once")
	_, kb64, km5 := customerKey(t)
	cust, _ := CustomerSpec(AES256, kb64, km5)
	for _, tt := range []struct {
		name string
		spec *Spec
		off  bool // caching turned off
		kept bool
	}{
		{"sse-s3", &Spec{Mode: Managed, Algorithm: AES256}, false, true},
		{"bucket key", &Spec{Mode: KMS, Algorithm: SM4, KeyID: "named", BucketKey: true}, false, true},
		{"sse-s3 cache off", &Spec{Mode: Managed, Algorithm: AES256}, true, false},
		{"sse-kms", &Spec{Mode: KMS, Algorithm: AES256, KeyID: "named"}, false, false},
		{"sse-c", cust, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, c, k := newSealer(t)
			if _, err := k.CreateKey(ctx, "named"); err != nil {
				t.Fatal(err)
			}
			if tt.off {
				s.SetCacheLimits(0, 0)
			}
			oek, enc, kept, err := s.NewObjectKey(ctx, tt.spec, "b", "k")
			if err != nil {
				t.Fatal(err)
			}
			if (kept.c != nil) != tt.kept || len(cachedOEKs(s)) != map[bool]int{true: 1}[tt.kept] {
				t.Fatalf("kept %v with %d keys cached, want kept %v", kept.c != nil, len(cachedOEKs(s)), tt.kept)
			}
			var buf bytes.Buffer
			w, err := kept.NewWriter(&buf, enc, oek, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(pt); err != nil || w.Close() != nil {
				t.Fatal("write failed")
			}
			c.Reset()
			got, rk, err := s.ObjectKey(ctx, enc, "b", "k", cust)
			if err != nil || !bytes.Equal(got, oek) {
				t.Fatalf("read back: %v", err)
			}
			if asked := c.Calls()[kms.OpDecrypt] > 0; asked == tt.kept && tt.spec.Mode != Customer {
				t.Errorf("KMS asked on the read back: %v, want %v", asked, !tt.kept)
			}
			rd, err := rk.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), enc, got, 0)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(rd.NewRangeReader(0, rd.Size())); err != nil || !bytes.Equal(b, pt) {
				t.Fatalf("read back: %v", err)
			}
			if same := *rd.Key() == *w.Key(); same != tt.kept { // the same AEAD: a kept key is a copy of the writer's
				t.Errorf("read with the writer's blob key: %v, want %v", same, tt.kept)
			}
		})
	}
}

// A key of another size than an object key is never cached: an entry holds
// exactly ObjectKeySize bytes, and a shorter key would come back padded
// with zeroes, a longer one cut.
func TestObjectKeyCacheOnlyObjectKeySize(t *testing.T) {
	s, enc := bucketKeyObject(t)
	aad, err := objectAAD("b", "k", "")
	if err != nil {
		t.Fatal(err)
	}
	w := enc.WrappedBucketKey // its bucket key is cached and fresh
	for _, n := range []int{ObjectKeySize - 1, ObjectKeySize + 1} {
		bad := bytes.Repeat([]byte{7}, n)
		if c := s.rememberObjectKey("b", w, aad, []byte("wrapped"), bad); c != nil {
			t.Errorf("a %d-byte key was cached under a bucket key", n)
		}
		if c := s.rememberManagedKey(aad, []byte("wrapped"), bad, s.keyStateSerial()); c != nil {
			t.Errorf("a %d-byte SSE-S3 key was cached", n)
		}
	}
	if n := len(cachedOEKs(s)); n != 0 {
		t.Errorf("%d object keys cached, want 0", n)
	}
	// The right size is cached, both ways (the test's own control).
	good := bytes.Repeat([]byte{7}, ObjectKeySize)
	if s.rememberObjectKey("b", w, aad, []byte("wrapped"), good) == nil || s.rememberManagedKey(aad, []byte("wrapped"), good, s.keyStateSerial()) == nil {
		t.Error("a key of the right size was not cached")
	}
}

// A bucket key cached again under the same name replaces its entry
// whole: the old key and the object keys under it are zeroed and leave,
// not left to the garbage collector.
func TestRememberReplacesEntry(t *testing.T) {
	ctx := context.Background()
	s, enc := bucketKeyObject(t)
	if _, err := s.readKey(ctx, enc, "b", "k", nil); err != nil {
		t.Fatal(err)
	}
	held := cachedOEKs(s)
	if len(held) != 1 {
		t.Fatalf("%d object keys cached, want 1", len(held))
	}
	id := cacheID("b", enc.WrappedBucketKey)
	s.mu.Lock()
	old := s.bucketKeys[id]
	s.remember(id, &bucketKey{plain: bytes.Repeat([]byte{1}, 32), fetched: s.now(), serial: s.keyStateSerial()})
	s.mu.Unlock()
	if !zeroed(held) || !zeroed([][]byte{old.plain}) {
		t.Error("the replaced entry's keys were not zeroed")
	}
	if n := len(cachedOEKs(s)); n != 0 {
		t.Errorf("%d object keys cached after their bucket key was replaced, want 0", n)
	}
}

// bucketKeyObject is a sealer with one object b/k under a bucket key of
// the default master key, whose object key is not cached.
func bucketKeyObject(t *testing.T) (*Sealer, *meta.Encryption) {
	t.Helper()
	s, _, _ := newSealer(t)
	_, enc, err := s.createKey(context.Background(), &Spec{Mode: KMS, Algorithm: AES256, BucketKey: true}, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	return s, enc
}

// A read whose object key is not cached still zeroes its bucket key once
// that key is stale (its master key disabled), not only at the next sweep.
func TestStaleBucketKeyZeroedOnMiss(t *testing.T) {
	ctx := context.Background()
	s, _, k := newSealer(t)
	if _, err := k.CreateKey(ctx, "named"); err != nil {
		t.Fatal(err)
	}
	_, enc, err := s.createKey(ctx, &Spec{Mode: KMS, Algorithm: AES256, KeyID: "named", BucketKey: true}, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	bk := s.bucketKeys[cacheID("b", enc.WrappedBucketKey)]
	s.mu.Unlock()
	if bk == nil {
		t.Fatal("the write's bucket key is not cached")
	}
	if _, err := k.DisableKey(ctx, "named"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.readKey(ctx, enc, "b", "k", nil); err == nil {
		t.Fatal("object key served after its master key was disabled")
	}
	if !zeroed([][]byte{bk.plain}) || s.CachedKeys() != 0 {
		t.Errorf("the stale bucket key is still cached (%d keys) or not zeroed", s.CachedKeys())
	}
}

// A bucket-key write with a client context that is not base64 JSON is
// refused as InvalidArgument before any bucket key is made (no KMS call).
func TestBucketKeyWriteBadContext(t *testing.T) {
	s, c, _ := newSealer(t)
	c.Reset()
	_, _, err := s.createKey(context.Background(), &Spec{Mode: KMS, Algorithm: AES256, BucketKey: true, Context: "!!!"}, "b", "k")
	if !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	if n := c.Calls()[kms.OpGenerateDataKey]; n != 0 || s.CachedKeys() != 0 {
		t.Errorf("%d GenerateDataKey calls, %d bucket keys cached after a refused write, want 0 and 0", n, s.CachedKeys())
	}
}

// Two names of one hash share a slot in the cache's map: a lookup finds
// a key only under its own name, never the other's, and the later key
// takes the slot (the earlier is zeroed). Real collisions of the seeded
// 64-bit hash are not to be found; the test puts a key where another's
// name hashes.
func TestObjectKeyCacheHashCollision(t *testing.T) {
	s, _, _ := newSealer(t)
	aad1, _ := objectAAD("b", "one", "")
	aad2, _ := objectAAD("b", "two", "")
	w1, w2 := []byte("wrapped one"), []byte("wrapped two")
	k1, k2 := bytes.Repeat([]byte{1}, ObjectKeySize), bytes.Repeat([]byte{2}, ObjectKeySize)
	c1 := s.rememberManagedKey(aad1, w1, k1, s.keyStateSerial())
	if c1 == nil {
		t.Fatal("not cached")
	}
	// Key two, cached where name one hashes.
	var buf [512]byte
	h1 := s.oekHash(oekID(buf[:], aad1, w1))
	c2 := newCachedOEK(k2, oekID(buf[:], aad2, w2))
	c2.fetched, c2.serial = s.now(), s.keyStateSerial()
	s.mu.Lock()
	s.addOEK(h1, c2)
	s.mu.Unlock()
	if !zeroed([][]byte{c1.key[:]}) {
		t.Error("the key that lost its slot was not zeroed")
	}
	if got, c := s.cachedManagedKey(aad1, w1); c != nil {
		t.Fatalf("name one found a key (%x...), want a miss", got[:2])
	}
	if n := len(s.oeks); n != 1 {
		t.Errorf("%d slots, want 1", n)
	}
	// Key two's own name hashes elsewhere: not found there either, and
	// nothing found is ever the wrong key.
	if got, c := s.cachedManagedKey(aad2, w2); c != nil && !bytes.Equal(got, k2) {
		t.Fatal("name two found another key")
	}
}

// A name too long for the entry (a long object key) is kept apart and
// found as any other; names that differ only past the inline room miss.
func TestObjectKeyCacheLongName(t *testing.T) {
	s, _, _ := newSealer(t)
	oek := bytes.Repeat([]byte{7}, ObjectKeySize)
	wrapped := bytes.Repeat([]byte{9}, 101)
	long := strings.Repeat("k", 1000)
	aad, err := objectAAD("b", long+"1", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := objectAAD("b", long+"2", "")
	if err != nil {
		t.Fatal(err)
	}
	c := s.rememberManagedKey(aad, wrapped, oek, s.keyStateSerial())
	if c == nil {
		t.Fatal("not cached")
	}
	if len(c.id) <= inlineID || &c.id[0] == &c.idBuf[0] {
		t.Fatalf("a %d-byte name lies in the entry", len(c.id))
	}
	if got, hit := s.cachedManagedKey(aad, wrapped); hit != c || !bytes.Equal(got, oek) {
		t.Error("the long name missed")
	}
	if _, hit := s.cachedManagedKey(other, wrapped); hit != nil {
		t.Error("a name differing in its last bytes hit")
	}
	short, _ := objectAAD("b", "k", "")
	if c := s.rememberManagedKey(short, wrapped, oek, s.keyStateSerial()); c == nil || &c.id[0] != &c.idBuf[0] {
		t.Error("a usual name does not lie in the entry")
	}
}
