package httpapi

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func replicationShape(d dialect.Dialect) replication.Shape {
	if r, ok := d.(dialect.ReplicationShape); ok {
		return r.ReplicationShape()
	}
	return replication.S3
}

// putBucketReplication replaces the configuration (S3, COS, OBS: PUT
// ?replication).
func (s *Server) putBucketReplication(q *request) error {
	shape := replicationShape(q.d)
	c, err := s.readReplication(q, shape)
	if err != nil {
		return err
	}
	if err := s.svc.PutBucketReplication(q.r.Context(), q.principal, q.bucket, c, shape); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) readReplication(q *request, shape replication.Shape) (*replication.Config, error) {
	data, err := s.readConfig(q, service.ActPutReplication)
	if err != nil {
		return nil, err
	}
	return replication.Parse(data, shape)
}

// postBucketReplication is OSS's: ?replication&comp=add adds the
// document's rules (answering the rule's ID in x-oss-replication-rule-id),
// comp=delete removes the rules a ReplicationRules document names.
func (s *Server) postBucketReplication(q *request) error {
	ctx := q.r.Context()
	switch q.query.Get("comp") {
	case "add":
		shape := replicationShape(q.d)
		c, err := s.readReplication(q, shape)
		if err != nil {
			return err
		}
		if err := s.svc.AddBucketReplicationRules(ctx, q.principal, q.bucket, c, shape); err != nil {
			return err
		}
		q.w.Header().Set(q.d.Prefix()+"replication-rule-id", c.Rules[0].ID)
	case "delete":
		data, err := s.readConfig(q, service.ActPutReplication)
		if err != nil {
			return err
		}
		ids, err := replication.RuleIDs(data)
		if err != nil {
			return err
		}
		if err := s.svc.DeleteBucketReplicationRules(ctx, q.principal, q.bucket, ids); err != nil {
			return err
		}
	default:
		return errs.InvalidArgument.WithMessage("comp must be add or delete.")
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketReplication(q *request) error {
	c, region, err := s.svc.GetBucketReplication(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, c.Document(replicationShape(q.d), region))
}

func (s *Server) deleteBucketReplication(q *request) error {
	if err := s.svc.DeleteBucketReplication(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// getBucketReplicationLocation is OSS's ?replicationLocation: the regions
// a destination may name.
func (s *Server) getBucketReplicationLocation(q *request) error {
	locs, err := s.svc.ReplicationLocations(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, replication.Locations(locs))
}

// getBucketReplicationProgress is OSS's ?replicationProgress&rule-id=.
// NewObject is the time before which every new object of the rule has
// been replicated (the oldest still queued, else now); historical objects
// are not replicated (HistoricalObjectReplication disabled).
func (s *Server) getBucketReplicationProgress(q *request) error {
	id := q.query.Get("rule-id")
	c, region, err := s.svc.GetBucketReplication(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	r := c.Rule(id)
	if r == nil {
		return errs.NoSuchReplicationRule
	}
	at, err := s.svc.ReplicationProgress(q.r.Context(), q.bucket, id)
	if err != nil {
		return err
	}
	return writeXML(q, r.ProgressDocument(region, at.Format(http.TimeFormat)))
}
