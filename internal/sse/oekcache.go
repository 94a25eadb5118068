package sse

import "time"

// Object keys are cached: those unwrapped under a cached bucket key (in
// that key's entry) and SSE-S3 object keys (on their own).
//
// What it keeps: plaintext object keys (32 bytes each) of objects read
// recently, at most maxObjectKeys in all; when full, an arbitrary one
// leaves (Go's map order), so a working set larger than the cache still
// hits in proportion instead of thrashing.
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

// maxObjectKeys bounds the object keys cached: 16384 keys are 512 KiB of
// key material (about 3 MiB with their map entries).
const maxObjectKeys = 16384

// cachedOEK is a cached plaintext object key. fetched and serial age an
// SSE-S3 key (see fresh); a key under a bucket key ages with that key.
type cachedOEK struct {
	key     []byte
	fetched time.Time
	serial  uint64
}

// oekID names an object key: the additional data it was wrapped with
// (which binds bucket, key and context, and is self-delimiting) followed
// by the wrapped key. buf is scratch space.
func oekID(buf []byte, aad, wrapped []byte) []byte {
	return append(append(buf[:0], aad...), wrapped...)
}

// cachedObjectKey returns a copy of the object key cached under bucket key
// wrappedBK of bucket, or nil.
func (s *Sealer) cachedObjectKey(bucket, wrappedBK string, aad, wrapped []byte) []byte {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	cid := cacheID(bucket, wrappedBK)
	s.mu.Lock()
	defer s.mu.Unlock()
	bk := s.bucketKeys[cid]
	if !s.fresh(bk) {
		s.evict(cid) // stale (disabled, expired): zero it and its object keys now
		return nil
	}
	if c, ok := bk.oeks[string(id)]; ok {
		return append([]byte(nil), c.key...)
	}
	return nil
}

// rememberObjectKey caches a copy of oek, unwrapped under bucket key
// wrappedBK of bucket, in that key's entry (if it is still cached).
func (s *Sealer) rememberObjectKey(bucket, wrappedBK string, aad, wrapped, oek []byte) {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	s.mu.Lock()
	defer s.mu.Unlock()
	bk := s.bucketKeys[cacheID(bucket, wrappedBK)]
	if !s.fresh(bk) {
		return
	}
	if bk.oeks == nil {
		bk.oeks = make(map[string]*cachedOEK)
	}
	s.addOEK(bk.oeks, string(id), &cachedOEK{key: append([]byte(nil), oek...)})
}

// cachedManagedKey returns a copy of the SSE-S3 object key cached for the
// wrapped key with additional data aad, or nil.
func (s *Sealer) cachedManagedKey(aad, wrapped []byte) []byte {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.managed[string(id)]
	if !ok {
		return nil
	}
	if !s.freshOEK(c) {
		s.dropOEK(s.managed, string(id))
		return nil
	}
	return append([]byte(nil), c.key...)
}

// rememberManagedKey caches a copy of SSE-S3 object key oek, unwrapped by
// the KMS when its state serial was serial.
func (s *Sealer) rememberManagedKey(aad, wrapped, oek []byte, serial uint64) {
	var buf [512]byte
	id := oekID(buf[:], aad, wrapped)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucketTTL <= 0 || s.cacheSize <= 0 || serial != s.keyStateSerial() {
		return // caching is off, or the keys changed during the unwrap
	}
	s.addOEK(s.managed, string(id), &cachedOEK{key: append([]byte(nil), oek...), fetched: s.now(), serial: serial})
	s.scheduleSweep()
}

// freshOEK reports whether an SSE-S3 key may still be served.
func (s *Sealer) freshOEK(c *cachedOEK) bool {
	return s.now().Sub(c.fetched) < s.bucketTTL && c.serial == s.keyStateSerial()
}

// addOEK adds c to m as id, making room first. Caller holds s.mu.
func (s *Sealer) addOEK(m map[string]*cachedOEK, id string, c *cachedOEK) {
	if _, ok := m[id]; ok {
		s.dropOEK(m, id)
	}
	if s.oekCount >= s.oekLimit && !s.dropAnyOEK(m) && !s.dropAnyOEK(s.managed) {
		for _, bk := range s.bucketKeys {
			if s.dropAnyOEK(bk.oeks) {
				break
			}
		}
	}
	m[id] = c
	s.oekCount++
}

// dropAnyOEK drops one key of m, if it has any. Caller holds s.mu.
func (s *Sealer) dropAnyOEK(m map[string]*cachedOEK) bool {
	for id := range m {
		s.dropOEK(m, id)
		return true
	}
	return false
}

// dropOEK zeroes and drops key id of m. Caller holds s.mu.
func (s *Sealer) dropOEK(m map[string]*cachedOEK, id string) {
	if c, ok := m[id]; ok {
		clear(c.key)
		delete(m, id)
		s.oekCount--
	}
}

// forgetObjectKeys zeroes and drops the object keys cached under bk.
// Caller holds s.mu.
func (s *Sealer) forgetObjectKeys(bk *bucketKey) {
	for id := range bk.oeks {
		s.dropOEK(bk.oeks, id)
	}
	bk.oeks = nil
}

// dropStaleManaged zeroes the SSE-S3 keys no longer fresh. Caller holds s.mu.
func (s *Sealer) dropStaleManaged() {
	for id, c := range s.managed {
		if !s.freshOEK(c) {
			s.dropOEK(s.managed, id)
		}
	}
}
