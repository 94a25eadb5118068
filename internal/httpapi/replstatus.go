package httpapi

import "github.com/strongroom-dev/strongroom/internal/meta"

// setReplicationStatus reports a version's replication state on GET and
// HEAD: PENDING, COMPLETED or FAILED on a source a rule replicates, REPLICA
// on a replica. The name is the dialect's prefix + "replication-status"
// (x-amz-, x-oss-, x-cos-, x-obs-), as for the other x-amz- object headers.
func setReplicationStatus(q *request, o *meta.Object) {
	if o.ReplicationStatus != "" {
		q.w.Header().Set(q.d.Prefix()+"replication-status", o.ReplicationStatus)
	}
}
