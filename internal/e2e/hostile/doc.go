// Package hostile re-runs the classes of an outside attack run as tests, so
// what it found stays fixed: bad input to every document-taking call, slow
// and truncated bodies, oversized headers, disk full, corrupted blobs (plain
// and sealed), concurrent conditional writes and reads racing overwrites.
// Each file owns one class; each test fails without the fix it guards.
package hostile
