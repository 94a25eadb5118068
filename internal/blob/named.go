package blob

import "context"

// Namer is implemented by stores that let the caller name a new blob
// before it exists, so the name can be journaled first (meta.PendingBlobs):
// a crash then never leaves a blob nobody knows of.
type Namer interface {
	// NewID returns a fresh ID in the store's format.
	NewID() (string, error)
	// CreateAs is Create for a blob that Commit installs under id; Commit
	// fails if that ID exists.
	CreateAs(ctx context.Context, id string) (Writer, error)
}

// NamedLinker is Linker with the new ID chosen by the caller (from
// Namer.NewID).
type NamedLinker interface {
	LinkAs(ctx context.Context, id, newID string) error
}
