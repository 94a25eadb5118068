package httpapi

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func inventoryShape(d dialect.Dialect) inventory.Shape {
	if s, ok := d.(dialect.InventoryShape); ok {
		return s.InventoryShape()
	}
	return inventory.S3
}

// inventoryID is the configuration named by the query: ?id= (S3, COS) or
// OSS's ?inventoryId=.
func inventoryID(q *request) (string, error) {
	id := q.query.Get("id")
	if id == "" {
		id = q.query.Get("inventoryId")
	}
	if id == "" {
		return "", errs.InvalidArgument.WithMessage("The inventory configuration id is missing.")
	}
	return id, nil
}

func (s *Server) putBucketInventory(q *request) error {
	id, err := inventoryID(q)
	if err != nil {
		return err
	}
	// Authorized before the body is read, as readConfig does; but S3's
	// PutBucketInventoryConfiguration has no Content-MD5 requirement (the
	// SDKs send none), so a digest is checked only when one is sent.
	if err := s.svc.Precheck(q.r.Context(), q.principal, service.ActPutInventory, q.bucket, ""); err != nil {
		return err
	}
	data, err := readCheckedBody(q, true)
	if err != nil {
		return err
	}
	c, err := inventory.Parse(data, id)
	if err != nil {
		return err
	}
	if err := s.svc.PutBucketInventory(q.r.Context(), q.principal, q.bucket, c); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// getBucketInventory answers GetBucketInventoryConfiguration, or with no
// id ListBucketInventoryConfigurations.
func (s *Server) getBucketInventory(q *request) error {
	if q.query.Get("id") == "" && q.query.Get("inventoryId") == "" {
		e, err := s.svc.ListBucketInventory(q.r.Context(), q.principal, q.bucket)
		if err != nil {
			return err
		}
		doc, err := e.ListDocument(inventoryShape(q.d), q.query.Get("continuation-token"))
		if err != nil {
			return err
		}
		return writeXML(q, doc)
	}
	id, err := inventoryID(q)
	if err != nil {
		return err
	}
	c, err := s.svc.GetBucketInventory(q.r.Context(), q.principal, q.bucket, id)
	if err != nil {
		return err
	}
	return writeXML(q, c.Document(inventoryShape(q.d)))
}

func (s *Server) deleteBucketInventory(q *request) error {
	id, err := inventoryID(q)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteBucketInventory(q.r.Context(), q.principal, q.bucket, id); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
