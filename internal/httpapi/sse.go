package httpapi

import (
	"errors"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// requestSSE parses a request's encryption headers in its dialect. SSE-C
// keys travel only over TLS, unless the operator declared a TLS-terminating
// proxy in front (or allowed it explicitly).
func (s *Server) requestSSE(q *request, use dialect.Use) (*sse.Spec, error) {
	spec, err := q.d.ObjectSSE(q.r.Header, use)
	if err != nil {
		return nil, err
	}
	return spec, s.checkCustomerTransport(q, spec)
}

// copySourceSSE parses the copy source's SSE-C key.
func (s *Server) copySourceSSE(q *request) (*sse.Spec, error) {
	spec, err := q.d.CopySourceSSE(q.r.Header)
	if err != nil {
		return nil, err
	}
	return spec, s.checkCustomerTransport(q, spec)
}

func (s *Server) checkCustomerTransport(q *request, spec *sse.Spec) error {
	if spec != nil && spec.Mode == sse.Customer && q.r.TLS == nil && !s.cfg.AllowInsecureSSEC {
		return errs.InvalidRequest.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
	}
	return nil
}

// setSSEHeaders echoes how an object is encrypted, in the dialect.
func setSSEHeaders(q *request, enc *meta.Encryption, req *sse.Spec) {
	q.d.SetObjectSSE(q.w.Header(), enc, req)
}

func (s *Server) putBucketEncryption(q *request) error {
	data, err := s.readConfig(q, service.ActPutEncryption)
	if err != nil {
		return err
	}
	c, err := q.d.ParseEncryption(data)
	if err != nil {
		return err
	}
	if err := s.svc.PutBucketEncryption(q.r.Context(), q.principal, q.bucket, c); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketEncryption(q *request) error {
	c, err := s.svc.GetBucketEncryption(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, q.d.EncryptionDocument(c))
}

func (s *Server) deleteBucketEncryption(q *request) error {
	if err := s.svc.DeleteBucketEncryption(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// getBucketInfo serves a dialect's bucket-information document (OSS).
func (s *Server) getBucketInfo(q *request) error {
	b, err := s.svc.HeadBucket(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	c, err := s.svc.GetBucketEncryption(q.r.Context(), q.principal, q.bucket)
	if err != nil && !errors.Is(err, errs.NoEncryptionConfig) {
		return err
	}
	doc, err := q.d.BucketInfo(b, c)
	if err != nil {
		return err
	}
	return writeXML(q, doc)
}
