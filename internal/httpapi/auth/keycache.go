package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"sync"
)

// maxSigningKeys bounds the signing-key cache; when full it is emptied
// (entries are cheap to derive again, and a day's scopes are few).
const maxSigningKeys = 1024

// signingKeys caches derived SigV4 signing keys per access key and scope
// (date, region, service), saving the four HMACs of the derivation on
// every request but the first of the day. An entry holds a hash of the
// secret it was derived from, so a changed secret misses (compared in
// constant time); the secret itself is not kept. Keys expire with their
// date: a new day is a new scope, and the cache is emptied when full.
type signingKeys struct {
	mu sync.Mutex
	m  map[string]signingKeyEntry
}

type signingKeyEntry struct {
	secretSum [sha256.Size]byte
	key       []byte
}

// get returns the signing key of secret for scope c.
func (s *signingKeys) get(secret string, c v4Scope) []byte {
	id := c.accessKey + "\x00" + c.String()
	sum := sha256.Sum256([]byte(secret))
	s.mu.Lock()
	e, ok := s.m[id]
	s.mu.Unlock()
	if ok && subtle.ConstantTimeCompare(e.secretSum[:], sum[:]) == 1 {
		return e.key
	}
	key := signingKey(secret, c)
	s.mu.Lock()
	if s.m == nil || len(s.m) >= maxSigningKeys {
		s.m = make(map[string]signingKeyEntry)
	}
	s.m[id] = signingKeyEntry{secretSum: sum, key: key}
	s.mu.Unlock()
	return key
}
