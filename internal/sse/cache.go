package sse

import (
	"bytes"
	"time"
)

// Defaults of the cache of plaintext bucket keys (--kms-cache-ttl,
// --kms-cache-size). Five minutes bounds how long a key disabled in an
// external KMS (which cannot tell this node at once) keeps serving here,
// and how long an unwrapped key stays in memory, while a KMS outage
// shorter than that stays invisible to writers under bucket keys. 1000
// keys cover many buckets times master keys in use for about 100 KiB of
// memory, and bound what a memory dump could show.
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 1000
)

// SetCacheLimits bounds the cache of plaintext bucket keys: entries older
// than ttl are asked of the KMS again, and at most size are kept (the
// oldest leave first). ttl or size 0 turns the cache off: every bucket-key
// write then creates a new bucket key and every read unwraps its own. Keys
// leaving the cache are zeroed. Call it before use.
func (s *Sealer) SetCacheLimits(ttl time.Duration, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucketTTL, s.cacheSize = ttl, size
}

// SetClock sets the clock the cache ages its keys by (tests).
func (s *Sealer) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

// CachedKeys is the number of bucket keys cached (object keys not
// counted).
func (s *Sealer) CachedKeys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bucketKeys)
}

func (bk *bucketKey) copy() *bucketKey {
	c := *bk
	c.plain = bytes.Clone(bk.plain)
	c.oeks = nil // they stay in the cache, under s.mu
	return &c
}

// evict removes a cached key and zeroes it: callers only ever got copies.
// Caller holds s.mu.
func (s *Sealer) evict(id string) {
	if bk := s.bucketKeys[id]; bk != nil {
		clear(bk.plain)
		s.forgetObjectKeys(bk)
		delete(s.bucketKeys, id)
	}
}

// dropExpired evicts the keys that are no longer fresh (and SSE-S3 object
// keys). Caller holds s.mu.
func (s *Sealer) dropExpired() {
	for id, bk := range s.bucketKeys {
		if !s.fresh(bk) {
			s.evict(id)
		}
	}
	s.dropStaleManaged()
}

// makeRoom evicts the oldest keys until one more fits. Caller holds s.mu.
func (s *Sealer) makeRoom() {
	for len(s.bucketKeys) >= s.cacheSize && len(s.bucketKeys) > 0 {
		oldest, at := "", time.Time{}
		for id, bk := range s.bucketKeys {
			if oldest == "" || bk.fetched.Before(at) {
				oldest, at = id, bk.fetched
			}
		}
		s.evict(oldest)
	}
}

// scheduleSweep arranges for expired keys to be zeroed even when no
// request comes to notice them. Caller holds s.mu.
func (s *Sealer) scheduleSweep() {
	if s.sweeper != nil || len(s.bucketKeys)+len(s.oeks) == 0 {
		return
	}
	s.sweeper = time.AfterFunc(s.bucketTTL, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sweeper = nil
		s.dropExpired()
		s.scheduleSweep()
	})
}
