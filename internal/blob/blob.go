// Package blob defines the data tier: where object bytes (ciphertext, once
// encryption is on) live. A blob is immutable once committed and is named by
// an opaque ID that the metadata store records.
//
// Implementations: fs (embedded default, files under the data directory) and,
// for scale-out, an S3-compatible remote store.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned by Open and Delete for an unknown ID.
var ErrNotFound = errors.New("blob: not found")

// ErrUnavailable wraps failures of a remote data tier that say it cannot
// serve now (unreachable, timing out, 5xx, throttling): the request may
// succeed later, so the service answers 503 rather than 500.
var ErrUnavailable = errors.New("blob: data store unavailable")

// Store creates, reads and deletes blobs.
type Store interface {
	// Create starts a new blob. Nothing is visible until Commit returns.
	Create(ctx context.Context) (Writer, error)
	// Open returns a random-access reader of a committed blob.
	Open(ctx context.Context, id string) (Reader, error)
	// Delete removes a committed blob. Readers already open keep working.
	Delete(ctx context.Context, id string) error
	// Walk calls fn for every committed blob, for orphan sweeping.
	Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error
}

// Writer receives a blob's bytes.
type Writer interface {
	io.Writer
	// Commit makes the blob durable (data and name survive a crash) and
	// returns its ID. After Commit the writer is closed.
	Commit(ctx context.Context) (id string, err error)
	// Abort discards the blob. Safe to call after Commit (no-op) or twice.
	Abort() error
}

// Reader reads a committed blob.
type Reader interface {
	io.ReaderAt
	io.Closer
	// Size is the stored size: the bytes written, rounded up to
	// PadQuantum by a padding store.
	Size() int64
}

// Linker is implemented by stores that can give a committed blob a second
// ID without copying it (the fs store: a hard link). Each ID is deleted on
// its own; the bytes live while one remains. A copy of a sealed object
// that keeps its key uses it to skip rewriting the data.
type Linker interface {
	Link(ctx context.Context, id string) (newID string, err error)
}
