package sse

// ForgetBucketKeys drops (and zeroes) every cached bucket key and object
// key, so the next use of each asks the KMS again: called when another
// node disabled a key or changed the shared keyring, which this node's
// cache cannot see.
func (s *Sealer) ForgetBucketKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.bucketKeys {
		s.evict(id)
	}
	for _, sl := range s.oeks { // the SSE-S3 keys are left
		s.dropOEK(sl.c)
	}
	clear(s.current)
}
