package bolt

import (
	"context"
	"io"

	bbolt "go.etcd.io/bbolt"
)

// Snapshot is a consistent copy of the store being taken: the database file
// as of one read transaction and the blob IDs that state references.
type Snapshot struct {
	ctx context.Context
	tx  *bbolt.Tx
}

// Size is the size in bytes of the database file WriteTo writes.
func (s *Snapshot) Size() int64 { return s.tx.Size() }

// WriteTo writes the database file (a complete bbolt file that Open takes).
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) { return s.tx.WriteTo(w) }

// BlobRefs calls fn with every blob ID the snapshot references.
func (s *Snapshot) BlobRefs(fn func(id string) error) error { return blobRefs(s.ctx, s.tx, fn) }

// Snapshot calls fn with a consistent snapshot of the store, valid until fn
// returns. Writers go on meanwhile, but a long fn keeps a read transaction
// open, which stalls a writer that must grow the file: copy what is needed
// to local files inside fn, and do the slow rest after.
func (s *Store) Snapshot(ctx context.Context, fn func(*Snapshot) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error { return fn(&Snapshot{ctx: ctx, tx: tx}) })
}
