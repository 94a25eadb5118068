package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// The pending-blob journal (meta.PendingBlobs; its contract is in
// internal/meta/pending.go), in the pending_blobs table
// (migrations/0003_pending_blobs.sql). Entries carry the node that made
// them (SetNode): a node's start-up sweep deletes its own entries, as no
// write of its is in flight then, and another node's entries only once
// they are older than ForeignPendingGrace, which no write lasts; so a node
// that died for good is swept by whichever node starts next after that.

// ForeignPendingGrace is how old another node's journal entry must be
// before ListPending offers it (the sweep then deletes its blob): longer
// than any blob write or deferred deletion of a live node takes.
const ForeignPendingGrace = 24 * time.Hour

// pendingChunk bounds the entries ListPending reads per query.
const pendingChunk = 1024

var _ meta.PendingBlobs = (*Store)(nil)

// SetNode names this process in the journal: stable across restarts and
// unique among the nodes sharing the database (the server's node ID).
// Call it before use; the default is "".
func (s *Store) SetNode(id string) { s.node = id }

// AddPending implements meta.PendingBlobs.
func (s *Store) AddPending(ctx context.Context, at time.Time, ids ...string) error {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" })
	if len(ids) == 0 {
		return ctx.Err()
	}
	return s.tx(ctx, func(tx pgx.Tx) error { return s.pendIDs(ctx, tx, at, ids) })
}

// RemovePending implements meta.PendingBlobs.
func (s *Store) RemovePending(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "DELETE FROM pending_blobs WHERE id = ANY($1)", ids)
	return mapErr(ctx, err)
}

// ListPending implements meta.PendingBlobs: this node's entries added
// before `before`, and other nodes' added before ForeignPendingGrace ago
// too, in ID order, a chunk per query.
func (s *Store) ListPending(ctx context.Context, before time.Time, fn func(id string, added time.Time) error) error {
	foreign := min(before.UnixNano(), s.now().Add(-ForeignPendingGrace).UnixNano())
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, `SELECT id, added_ns FROM pending_blobs
			WHERE id > $1 AND ((node = $2 AND added_ns < $3) OR (node <> $2 AND added_ns < $4))
			ORDER BY id LIMIT $5`, after, s.node, before.UnixNano(), foreign, pendingChunk)
		if err != nil {
			return mapErr(ctx, err)
		}
		type entry struct {
			id    string
			added int64
		}
		chunk, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
			var e entry
			return e, r.Scan(&e.id, &e.added)
		})
		if err != nil {
			return mapErr(ctx, err)
		}
		for _, e := range chunk {
			if err := fn(e.id, time.Unix(0, e.added)); err != nil {
				if errors.Is(err, meta.ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(chunk) < pendingChunk {
			return nil
		}
		after = chunk[len(chunk)-1].id
	}
}

// pendIDs journals ids as this node's, added at.
func (s *Store) pendIDs(ctx context.Context, tx execer, at time.Time, ids []string) error {
	_, err := tx.Exec(ctx, `INSERT INTO pending_blobs (node, id, added_ns) SELECT $1, unnest($2::text[]), $3
		ON CONFLICT (id) DO UPDATE SET node = excluded.node, added_ns = excluded.added_ns`, s.node, ids, at.UnixNano())
	if err != nil {
		return fmt.Errorf("journaling blobs: %w", err)
	}
	return nil
}

// blobIDs are the blob IDs of parts.
func blobIDs(parts ...[]meta.Part) []string {
	var ids []string
	for _, ps := range parts {
		for _, p := range ps {
			if p.BlobID != "" {
				ids = append(ids, p.BlobID)
			}
		}
	}
	return ids
}

// pendParts journals, in tx, the blobs of parts that lost their last
// reference there (a replaced or removed version, dropped upload parts).
func (s *Store) pendParts(ctx context.Context, tx execer, parts ...[]meta.Part) error {
	ids := blobIDs(parts...)
	if len(ids) == 0 {
		return nil
	}
	return s.pendIDs(ctx, tx, s.now(), ids)
}

// pendObject is pendParts for a version that may be nil.
func (s *Store) pendObject(ctx context.Context, tx execer, o *meta.Object) error {
	if o == nil {
		return nil
	}
	return s.pendParts(ctx, tx, o.Parts)
}

// settle removes, in tx, the entries of the blobs parts now reference: the
// transaction installing them is what makes them safe from the sweep.
func settle(ctx context.Context, tx execer, parts []meta.Part) error {
	ids := blobIDs(parts)
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "DELETE FROM pending_blobs WHERE id = ANY($1)", ids)
	return err
}

// settleUpdate is settle for UpdateObjectVersion: blobs the update put in
// are settled, and blobs it dropped (a re-encryption rewriting a part) are
// journaled.
func (s *Store) settleUpdate(ctx context.Context, tx execer, before, after []meta.Part) error {
	if err := settle(ctx, tx, after); err != nil {
		return err
	}
	kept := make(map[string]bool, len(after))
	for _, p := range after {
		kept[p.BlobID] = true
	}
	gone := slices.DeleteFunc(slices.Clone(before), func(p meta.Part) bool { return kept[p.BlobID] })
	return s.pendParts(ctx, tx, gone)
}
