package meta

import "context"

// Kinds of Invalidation.
const (
	// InvalidateUser: a user or its access keys changed (Name: the user).
	InvalidateUser = "user"
	// InvalidateBucket: a bucket was created, configured or deleted
	// (Name: the bucket).
	InvalidateBucket = "bucket"
	// InvalidateKey: a KMS key's state changed, e.g. it was disabled
	// (Name: the key as given).
	InvalidateKey = "key"
	// InvalidateBlob: a shared blob (meta.SharedBlobs) changed, e.g. the
	// builtin keyring (Name: the blob).
	InvalidateBlob = "blob"
	// InvalidateAll: changes may have been missed (the listener
	// connected): drop everything cached.
	InvalidateAll = "all"
	// InvalidateDeaf: the listener lost its connection, so changes go
	// unannounced until the next InvalidateAll: drop everything cached,
	// and cache nothing that a change could make stale until then.
	InvalidateDeaf = "deaf"
)

// Invalidation names something a node may hold cached that another node
// (or this one) changed.
type Invalidation struct {
	Kind string
	Name string
}

// Invalidations carries cache invalidations between the nodes sharing a
// store. A store that only one process opens (bbolt) has no need of it:
// its own writes invalidate in process. On PostgreSQL each change to
// users, access keys and bucket configurations publishes one, in the
// transaction making it, so it is delivered on commit (NOTIFY).
type Invalidations interface {
	// Subscribe calls fn with every invalidation committed by any node,
	// this one included, until ctx ends; it then returns ctx's error.
	// fn gets InvalidateDeaf when the listener's connection is lost and
	// InvalidateAll once it listens (again), so a node never serves
	// from a cache a missed notice would have dropped. fn runs on one
	// goroutine and must not block long.
	Subscribe(ctx context.Context, fn func(Invalidation)) error
	// Invalidate publishes a change made outside the store's own writes
	// (a key disabled in an external KMS).
	Invalidate(ctx context.Context, inv Invalidation) error
}
