package meta

import (
	"context"
	"time"
)

// PendingBlobs is the journal of blobs that may exist in the blob store
// without metadata referencing them: blobs being written, and blobs whose
// last reference was removed but which are not deleted yet. The start-up
// orphan sweep reads it instead of walking every blob (which would grow
// with the object count).
//
// The journal's contract, which a store implementing it must keep:
//
//   - AddPending is called (and durable) before a blob is created under
//     that ID, so no crash can leave an unjournaled blob.
//   - Every transaction that makes a blob referenced (PutObject,
//     PutReplica, PutPart, CompleteUpload, UpdateObjectVersion) removes
//     the entries of the blob IDs it records, in that transaction.
//   - Every transaction that drops a blob's last reference (a replaced or
//     removed version, a replaced part, an upload's parts on Abort,
//     CompleteUpload's unused parts, DeleteBucket's uploads) adds an entry
//     for it, in that transaction.
//   - RemovePending is called once the blob store no longer holds the blob
//     (deleted, or never committed).
//
// So at every commit each blob is referenced or journaled, and a sweep may
// delete the blob of any entry that no writer in flight owns. Stores
// implement it beside Store (bolt: the "pending" bucket, pending.go).
type PendingBlobs interface {
	// AddPending records ids as pending since at; re-adding keeps one
	// entry per ID.
	AddPending(ctx context.Context, at time.Time, ids ...string) error
	// RemovePending drops the entries of ids (unknown ones are ignored).
	RemovePending(ctx context.Context, ids ...string) error
	// ListPending calls fn for every entry added before `before`, in ID
	// order, outside any transaction (fn may call RemovePending).
	// meta.ErrStop ends the listing without error.
	ListPending(ctx context.Context, before time.Time, fn func(id string, added time.Time) error) error
}
