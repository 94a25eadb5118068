package service

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// ReplicaTarget receives replicas for one destination bucket: a bucket of
// this node or of a remote strongroom deployment.
type ReplicaTarget interface {
	// PutReplica makes the destination hold a replica of src, a version of
	// an object of this node (read under the node's own authority), with
	// the encryption the seed's rules give it, and returns the bytes
	// moved. Replicating the same version again is harmless: the replica
	// keeps src's version ID. Errors wrapping replication.ErrPermanent are
	// not worth retrying.
	PutReplica(ctx context.Context, src *meta.Object, rule *replication.Rule) (int64, error)
	// PutDeleteMarker replicates a delete marker (src.DeleteMarker).
	PutDeleteMarker(ctx context.Context, src *meta.Object, rule *replication.Rule) error
}
