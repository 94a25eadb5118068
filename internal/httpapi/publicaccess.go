package httpapi

import (
	"encoding/xml"
	"net/http"

	"strongroom/internal/errs"
	"strongroom/internal/service"
)

// publicAccessBlockConfiguration is the ?publicAccessBlock document (S3's
// shape; OBS uses the same).
type publicAccessBlockConfiguration struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	NS                    string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

func (s *Server) putPublicAccessBlock(q *request) error {
	data, err := readConfigBody(q)
	if err != nil {
		return err
	}
	var doc publicAccessBlockConfiguration
	if err := xml.Unmarshal(data, &doc); err != nil {
		return errs.MalformedXML
	}
	c := service.PublicAccessBlock{
		BlockPublicAcls: doc.BlockPublicAcls, IgnorePublicAcls: doc.IgnorePublicAcls,
		BlockPublicPolicy: doc.BlockPublicPolicy, RestrictPublicBuckets: doc.RestrictPublicBuckets,
	}
	if err := s.svc.PutPublicAccessBlock(q.r.Context(), q.principal, q.bucket, c); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getPublicAccessBlock(q *request) error {
	c, err := s.svc.GetPublicAccessBlock(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, publicAccessBlockConfiguration{
		NS: s3NS, BlockPublicAcls: c.BlockPublicAcls, IgnorePublicAcls: c.IgnorePublicAcls,
		BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets,
	})
}

func (s *Server) deletePublicAccessBlock(q *request) error {
	if err := s.svc.DeletePublicAccessBlock(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
