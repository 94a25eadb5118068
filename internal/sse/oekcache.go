package sse

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"sync/atomic"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sealed"
)

// Object keys are cached in one map: those unwrapped under a cached bucket
// key (each linked to that key's entry) and SSE-S3 object keys.
//
// What it keeps: plaintext object keys (32 bytes each) of objects read or
// written recently (a write keeps its new key, NewObjectKey, because
// reading back what was just written is the commonest read of all), at
// most MaxObjectKeys in all; when full, the oldest of a few keys picked at
// random leaves (evictSamples). Most reads are of objects written or read
// lately, while keys left from long ago fill a full cache: one arbitrary
// pick evicted a key cached a second before with the odds of one cached an
// hour before (in `strongroom bench`, 2-8% of GETs of objects just written
// missed). The price is paid by a working set read over and over in a
// cycle larger than the cache: simulated, one 1.25 times the cache hits
// 60% (63% with one pick), one 1.5 times 23% (42%), one twice 1% (20%).
// A burst of writes, or of one kind of key, pushes other keys out only in
// proportion to what it adds.
//
// For how long: a key under a bucket key exactly as long as the bucket key
// itself is fresh (--kms-cache-ttl, the KMS state serial,
// ForgetBucketKeys), and it is zeroed with it. An SSE-S3 key ages by the
// same rules on its own: the TTL from its unwrap, the state serial read
// before that unwrap, ForgetBucketKeys. Every key is zeroed as it leaves.
//
// Why that adds no exposure: the bucket key in the same entry unwraps every
// object key under it, so memory that shows an object key already showed
// the key above it. SSE-S3 keys are wrapped by the server's default key;
// with the builtin keyring its material is in this process's memory
// anyway, and with an HSM the cache trades exactly what the bucket-key
// cache trades (a key disabled in the HSM keeps serving here for up to the
// TTL). No access decision is skipped: who may read an object is decided
// before its key is asked for.
//
// What it saves per GET: the KMS unwrap (with the builtin keyring an HKDF,
// an AES key schedule and a GCM open, and their allocations), about a
// sixth of a small SSE-S3 GET's server CPU.
//
// Not cached: SSE-KMS object keys without a bucket key (each read asks the
// KMS, as S3 does: that is what a key without bucket keys is for) and
// SSE-C keys (the customer's key is checked on every request).

// ObjectKeyLookups counts the reads that looked for a cached object key,
// by kind and outcome (the metric strongroom_object_key_cache_lookups_total):
// a hit rate far below the working set's is the first thing to look for
// when encrypted GETs are slow.
type ObjectKeyLookups struct {
	ManagedHits, ManagedMisses     uint64 // SSE-S3
	BucketKeyHits, BucketKeyMisses uint64 // SSE-KMS under a bucket key
}

// ObjectKeyLookups returns how many reads have looked for a cached object
// key, and how many found it.
func (s *Sealer) ObjectKeyLookups() ObjectKeyLookups {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

// CachedObjectKeys returns how many object keys the cache holds, SSE-S3
// keys and keys unwrapped under bucket keys (the metric
// strongroom_object_key_cache_keys): against the bound of MaxObjectKeys,
// and against the working set, it says whether misses are evictions.
func (s *Sealer) CachedObjectKeys() (sseS3, underBucketKeys int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.managed, len(s.oeks) - s.managed
}

// counted adds one lookup to hits or misses (under s.mu, which every
// lookup holds anyway: no shared atomic on the hot path).
func counted(hit bool, hits, misses *uint64) bool {
	if hit {
		*hits++
	} else {
		*misses++
	}
	return hit
}

// MaxObjectKeys bounds the object keys cached (the metrics' help names
// it): 16384 keys are 512 KiB of key material, about 8 MiB in their
// entries (480 bytes each, with the name and the first blob key kept),
// and about 19 MiB with the GCM each blob key holds (768 bytes: AES round
// keys and GCM tables).
const MaxObjectKeys = 16384

// cachedOEK is a cached plaintext object key. An SSE-S3 key ages by
// fetched and serial (see freshOEK); a key unwrapped under a bucket key
// ages with that key (bk), and is linked with the others under it (prev,
// next) so that they leave with it. blob keeps the blob key of the part
// last opened under it (Kept) and leaves with it.
//
// A GET of a small object reaches the entry through a map slot it was
// not expecting to read, and every pointer followed from there is one
// more cache and TLB miss paid in turn (in `strongroom bench` the first
// touch of a kept blob key alone took about 0.6 µs per GET). So the entry
// holds in itself what a hit reads: the key, its name (in idBuf when it
// fits, as usual names do) and the first blob key kept (first); only the
// GCM's tables, which crypto/cipher allocates, lie elsewhere.
type cachedOEK struct {
	key        [ObjectKeySize]byte
	id         []byte     // its name (oekID), checked on every hit: in idBuf if it fits
	h          uint64     // its place in Sealer.oeks: the seeded hash of id
	bk         *bucketKey // nil: an SSE-S3 key
	prev, next *cachedOEK // in bk's list
	fetched    time.Time
	serial     uint64
	blob       atomic.Pointer[keptBlob] // &first, or a later part's
	firstSet   atomic.Bool              // first is taken (written once, before blob points at it)
	first      keptBlob
	idBuf      [inlineID]byte
}

// inlineID is the longest name an entry holds in itself. A name is the
// additional data (the bucket and object key's ARN, some 30 bytes more
// than the two names) and the wrapped key (101 bytes from the keyring, 60
// under a bucket key), so bucket and object key of up to about 125 bytes
// together fit (165 under a bucket key); a longer name is allocated apart.
const inlineID = 256

// newCachedOEK copies oek, an object key (ObjectKeySize bytes: callers
// cache nothing of another size, which no unwrap yields), and its name id
// into a new entry. Callers decide first whether to cache, so that no
// copy is left to the garbage unzeroed.
func newCachedOEK(oek, id []byte) *cachedOEK {
	c := new(cachedOEK)
	copy(c.key[:], oek)
	if len(id) <= len(c.idBuf) {
		c.id = c.idBuf[:copy(c.idBuf[:], id)]
	} else {
		c.id = bytes.Clone(id)
	}
	return c
}

// keep makes b the blob key kept for the entry's next read: in the entry
// itself the first time (first is never written again, so a reader that
// loaded &first reads it whole), in an allocation of its own after that.
func (c *cachedOEK) keep(b keptBlob) {
	if c.firstSet.CompareAndSwap(false, true) {
		c.first = b
		c.blob.Store(&c.first)
		return
	}
	c.blob.Store(&b)
}

// NewWriter seals part n of an object whose key is oek into w, and keeps
// the new blob's key for the reads that follow.
func (k Kept) NewWriter(w io.Writer, enc *meta.Encryption, oek []byte, n int) (*sealed.Writer, error) {
	pk := PartKey(enc, oek, n)
	defer clear(pk) // the writer keeps only its key schedule
	sw, err := sealed.NewWriter(w, algorithm(enc.Algorithm), pk, enc.SegmentSize)
	if err == nil && k.c != nil {
		k.c.keep(keptBlob{part: n, key: *sw.Key()})
	}
	return sw, err
}

// oekSlot is a cached object key's place in Sealer.oeks. seq, when it was
// cached in Sealer.oekSeq's count, lies in the map itself, so that picking
// the oldest of a few entries to evict reads no entry (each one read was
// a cache miss).
type oekSlot struct {
	c   *cachedOEK
	seq uint64
}

// oekHash is where id lies in s.oeks. The map is keyed by this seeded
// hash, computed before the cache's mutex is taken, not by id (an object
// key's additional data and wrapped form, some 200 bytes): keyed by id,
// every lookup, and the insertion and eviction of every SSE-S3 write,
// hashed and compared those bytes, in memory elsewhere, under the mutex
// (BenchmarkObjectKeyCache, one goroutine: an insertion into the full
// cache 1.5 µs, now 1.1). Two ids of one hash share a slot: the later
// evicts the earlier, and a lookup is a hit only when the entry's id is
// the one asked for.
func (s *Sealer) oekHash(id []byte) uint64 { return maphash.Bytes(s.oekSeed, id) }

// keptBlob is the blob key of part n of an object, held by value (one
// object to reach, not two).
type keptBlob struct {
	part int
	key  sealed.BlobKey
}

// Kept is where the cache keeps what it derived from one cached object
// key: the blob key (sealed.BlobKey) of the part last opened, so the next
// read of that part skips both key derivations, the key schedule and the
// GCM set-up, about 5% of a small GET's CPU. The zero Kept, for a key
// that is not cached (SSE-C, SSE-KMS without bucket keys, caching off),
// keeps nothing.
//
// A blob key opens one blob, and only a request that already holds the
// object key (ObjectKey decided it may read) reaches it. It leaves with its
// object key; its key schedule cannot be zeroed and goes with the garbage,
// as that of every blob read does.
type Kept struct{ c *cachedOEK }

// NewReader opens sealed part n of an object whose key is oek, with the
// blob key kept for that part if it is the blob's, and keeps the one it
// opened with for the next read.
func (k Kept) NewReader(r io.ReaderAt, storedSize int64, enc *meta.Encryption, oek []byte, n int) (*sealed.Reader, error) {
	var kept *sealed.BlobKey
	if k.c != nil {
		if b := k.c.blob.Load(); b != nil && b.part == n {
			kept = &b.key
		}
	}
	var pk []byte
	rd, err := sealed.NewReaderKept(r, storedSize, kept, func() []byte {
		pk = PartKey(enc, oek, n)
		return pk
	})
	clear(pk)
	if err != nil {
		return nil, err
	}
	if rd.Algorithm() != algorithm(enc.Algorithm) {
		return nil, fmt.Errorf("sse: part %d sealed with %v, metadata says %s: %w", n, rd.Algorithm(), enc.Algorithm, sealed.ErrAuth)
	}
	if k.c != nil && rd.Key() != kept {
		k.c.keep(keptBlob{part: n, key: *rd.Key()})
	}
	return rd, nil
}

// oekID names an object key: the additional data it was wrapped with
// (which binds bucket, key and context, and is self-delimiting) followed
// by the wrapped key. buf is scratch space.
func oekID(buf []byte, aad, wrapped []byte) []byte {
	return append(append(buf[:0], aad...), wrapped...)
}

// cachedObjectKey returns a copy of the object key cached under bucket key
// wrappedBK of bucket and its entry, or nil. One map lookup: the entry
// names its bucket key, which must be the one the record names.
func (s *Sealer) cachedObjectKey(bucket, wrappedBK string, aad, wrapped []byte) ([]byte, *cachedOEK) {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	h := s.oekHash(id)
	var cb [256]byte
	cid := appendCacheID(cb[:0], bucket, wrappedBK)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.oeks[h].c
	hit := c != nil && bytes.Equal(c.id, id) && c.bk != nil && c.bk.id == string(cid)
	if hit && !s.fresh(c.bk) {
		s.evict(c.bk.id) // stale (disabled, expired): zero it and its object keys now
		hit = false
	}
	if !counted(hit, &s.lookups.BucketKeyHits, &s.lookups.BucketKeyMisses) {
		return nil, nil
	}
	return bytes.Clone(c.key[:]), c
}

// rememberObjectKey caches a copy of oek, unwrapped under bucket key
// wrappedBK of bucket, with that key (if it is still cached), and returns
// the new entry (nil: not cached).
func (s *Sealer) rememberObjectKey(bucket, wrappedBK string, aad, wrapped, oek []byte) *cachedOEK {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	h := s.oekHash(id)
	var cb [256]byte
	cid := appendCacheID(cb[:0], bucket, wrappedBK)
	s.mu.Lock()
	defer s.mu.Unlock()
	bk := s.bucketKeys[string(cid)]
	if !s.fresh(bk) || len(oek) != ObjectKeySize {
		return nil // no copy made: none to zero
	}
	c := newCachedOEK(oek, id)
	c.bk = bk
	s.addOEK(h, c)
	return c
}

// cachedManagedKey returns a copy of the SSE-S3 object key cached for the
// wrapped key with additional data aad and its entry, or nil.
func (s *Sealer) cachedManagedKey(aad, wrapped []byte) ([]byte, *cachedOEK) {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	h := s.oekHash(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.oeks[h].c
	hit := c != nil && bytes.Equal(c.id, id) && c.bk == nil
	if hit && !s.freshOEK(c) {
		s.dropOEK(c)
		hit = false
	}
	if !counted(hit, &s.lookups.ManagedHits, &s.lookups.ManagedMisses) {
		return nil, nil
	}
	return bytes.Clone(c.key[:]), c
}

// rememberManagedKey caches a copy of SSE-S3 object key oek, unwrapped by
// the KMS when its state serial was serial, and returns the new entry (nil:
// not cached).
func (s *Sealer) rememberManagedKey(aad, wrapped, oek []byte, serial uint64) *cachedOEK {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	h, fetched := s.oekHash(id), s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucketTTL <= 0 || s.cacheSize <= 0 || serial != s.keyStateSerial() || len(oek) != ObjectKeySize {
		return nil // caching is off, or the keys changed during the unwrap
	}
	c := newCachedOEK(oek, id)
	c.fetched, c.serial = fetched, serial
	s.addOEK(h, c)
	s.scheduleSweep()
	return c
}

// freshOEK reports whether an SSE-S3 key may still be served.
func (s *Sealer) freshOEK(c *cachedOEK) bool {
	return s.now().Sub(c.fetched) < s.bucketTTL && c.serial == s.keyStateSerial()
}

// evictSamples is how many cached object keys a full cache looks at to
// pick the oldest to drop: a key newer than two thirds of the others
// leaves at most 4·(1/3)³, a seventh, as often as under one pick, one
// newer than five sixths a fiftieth; for four entries read per insertion.
const evictSamples = 4

// addOEK caches c, whose name hashes to h (replacing a key cached there),
// making room first by dropping the oldest of evictSamples keys in Go's
// map order (random): all kinds of object key share the one bound, each
// in proportion to how many it adds. (Dropping a key of c's own kind
// first, as this once did, left SSE-KMS a single slot once SSE-S3 keys
// had filled the cache.) Caller holds s.mu.
func (s *Sealer) addOEK(h uint64, c *cachedOEK) {
	if old, ok := s.oeks[h]; ok {
		s.dropOEK(old.c)
	}
	if len(s.oeks) >= s.oekLimit {
		var oldest oekSlot
		n := 0
		for _, sl := range s.oeks {
			if oldest.c == nil || sl.seq < oldest.seq {
				oldest = sl
			}
			if n++; n == evictSamples {
				break
			}
		}
		if oldest.c != nil { // nil: a limit of 0, and nothing cached
			s.dropOEK(oldest.c)
		}
	}
	s.oekSeq++
	c.h = h
	s.oeks[h] = oekSlot{c, s.oekSeq}
	if bk := c.bk; bk == nil {
		s.managed++
	} else {
		c.next = bk.oeks
		if c.next != nil {
			c.next.prev = c
		}
		bk.oeks = c
	}
}

// dropOEK zeroes and drops cached key c, which is in s.oeks at c.h:
// callers find it there or in its bucket key's list, and a key dropped
// (replaced in its slot too) leaves both. Caller holds s.mu.
func (s *Sealer) dropOEK(c *cachedOEK) {
	clear(c.key[:])
	c.blob.Store(nil)
	delete(s.oeks, c.h)
	if bk := c.bk; bk == nil {
		s.managed--
	} else {
		if c.prev != nil {
			c.prev.next = c.next
		} else {
			bk.oeks = c.next
		}
		if c.next != nil {
			c.next.prev = c.prev
		}
		c.prev, c.next = nil, nil
	}
}

// forgetObjectKeys zeroes and drops the object keys cached under bk.
// Caller holds s.mu.
func (s *Sealer) forgetObjectKeys(bk *bucketKey) {
	for bk.oeks != nil {
		s.dropOEK(bk.oeks)
	}
}

// dropStaleManaged zeroes the SSE-S3 keys no longer fresh. Caller holds s.mu.
func (s *Sealer) dropStaleManaged() {
	for _, sl := range s.oeks {
		if sl.c.bk == nil && !s.freshOEK(sl.c) {
			s.dropOEK(sl.c)
		}
	}
}
