package httpapi

import (
	"encoding/xml"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
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

// publicAccessSwitch is the one-switch document of dialects.PublicAccessSwitch.
type publicAccessSwitch struct {
	XMLName           xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAccess bool
}

// publicAccessInput reads either shape: OSS's BlockPublicAccess sets all
// four of S3's settings.
type publicAccessInput struct {
	XMLName               xml.Name
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
	BlockPublicAccess     *bool
}

func (s *Server) putPublicAccessBlock(q *request) error {
	data, err := s.readConfig(q, service.ActPutPublicAccessBlock)
	if err != nil {
		return err
	}
	var doc publicAccessInput
	if err := xml.Unmarshal(data, &doc); err != nil || doc.XMLName.Local != "PublicAccessBlockConfiguration" {
		return errs.MalformedXML
	}
	c := service.PublicAccessBlock{
		BlockPublicAcls: doc.BlockPublicAcls, IgnorePublicAcls: doc.IgnorePublicAcls,
		BlockPublicPolicy: doc.BlockPublicPolicy, RestrictPublicBuckets: doc.RestrictPublicBuckets,
	}
	if v := doc.BlockPublicAccess; v != nil {
		c = service.PublicAccessBlock{BlockPublicAcls: *v, IgnorePublicAcls: *v, BlockPublicPolicy: *v, RestrictPublicBuckets: *v}
	}
	return emptyResponse(q, http.StatusOK, s.svc.PutPublicAccessBlock(q.r.Context(), q.principal, q.bucket, c))
}

func (s *Server) getPublicAccessBlock(q *request) error {
	c, err := s.svc.GetPublicAccessBlock(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	if _, ok := q.d.(dialect.PublicAccessSwitch); ok {
		all := c.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets
		return writeXML(q, publicAccessSwitch{BlockPublicAccess: all})
	}
	return writeXML(q, publicAccessBlockConfiguration{
		NS: s3NS, BlockPublicAcls: c.BlockPublicAcls, IgnorePublicAcls: c.IgnorePublicAcls,
		BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets,
	})
}

func (s *Server) deletePublicAccessBlock(q *request) error {
	return emptyResponse(q, http.StatusNoContent, s.svc.DeletePublicAccessBlock(q.r.Context(), q.principal, q.bucket))
}
