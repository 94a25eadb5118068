package service

import "sync/atomic"

// Stats are the service's counters, for a metrics exporter to read.
type Stats struct {
	// IntegrityFailures counts object reads (GETs and copy sources) that
	// found stored data damaged: a segment failing authentication or its
	// checksum, an unreadable header, or a part shorter than its metadata.
	IntegrityFailures atomic.Int64
}

// Stats returns the service's live counters.
func (s *Service) Stats() *Stats { return &s.stats }
