package sse

// Object keys unwrapped under a cached bucket key are cached with it.
//
// What it keeps: the plaintext object keys (32 bytes each) of objects read
// recently under a bucket key, at most maxOEKsPerBucketKey per bucket key,
// inside that bucket key's cache entry. For how long: exactly as long as
// the bucket key itself is fresh (--kms-cache-ttl, the KMS state serial,
// ForgetBucketKeys), and they are zeroed when it is evicted. Why that adds
// no exposure: the bucket key in the same entry unwraps every one of these
// object keys (and all others of its bucket), so memory that shows an
// object key already showed the key above it; and no KMS decision is
// skipped that the cached bucket key did not already skip. What it saves
// per GET: an AES key schedule, a GCM setup and the unwrap of the object
// key (with their allocations).
//
// Not cached: SSE-S3 and SSE-KMS object keys without a bucket key (each
// read asks the KMS, as S3 does) and SSE-C keys (the customer's key is
// checked on every request).

// maxOEKsPerBucketKey bounds the object keys kept per bucket key: 256
// keys are 8 KiB, and with the bucket-key cache's own bound (1000 by
// default) at most about 8 MiB of object keys.
const maxOEKsPerBucketKey = 256

// oekID names an object key under its bucket key: the additional data it
// was wrapped with (which binds bucket, key and context, and is
// self-delimiting) followed by the wrapped key. buf is scratch space.
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
	if oek, ok := bk.oeks[string(id)]; ok {
		return append([]byte(nil), oek...)
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
	if len(bk.oeks) >= maxOEKsPerBucketKey {
		bk.forgetObjectKeys()
	}
	if bk.oeks == nil {
		bk.oeks = make(map[string][]byte)
	}
	bk.oeks[string(id)] = append([]byte(nil), oek...)
}

// forgetObjectKeys zeroes and drops the object keys cached under bk.
func (bk *bucketKey) forgetObjectKeys() {
	for _, oek := range bk.oeks {
		clear(oek)
	}
	bk.oeks = nil
}
