package httpapi

import (
	"fmt"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/lifecycle"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func lifecycleShape(d dialect.Dialect) lifecycle.Shape {
	if l, ok := d.(dialect.LifecycleShape); ok {
		return l.LifecycleShape()
	}
	return lifecycle.S3
}

func (s *Server) putBucketLifecycle(q *request) error {
	data, err := s.readConfig(q, service.ActPutLifecycle)
	if err != nil {
		return err
	}
	c, err := lifecycle.Parse(data)
	if err != nil {
		return err
	}
	if err := s.svc.PutBucketLifecycle(q.r.Context(), q.principal, q.bucket, c); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketLifecycle(q *request) error {
	c, err := s.svc.GetBucketLifecycle(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, c.Document(lifecycleShape(q.d)))
}

func (s *Server) deleteBucketLifecycle(q *request) error {
	if err := s.svc.DeleteBucketLifecycle(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// setExpiration writes S3's x-amz-expiration (in the dialect's prefix)
// when a lifecycle rule expires the object (x nil: none does).
func setExpiration(q *request, x *service.Expiration) {
	if x == nil {
		return
	}
	q.w.Header().Set(q.d.Prefix()+"expiration",
		fmt.Sprintf(`expiry-date="%s", rule-id="%s"`, x.Date.UTC().Format(http.TimeFormat), x.RuleID))
}
