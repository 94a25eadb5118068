package httpapi

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// putReplica receives a replica from another strongroom deployment:
// PUT /BUCKET/KEY?x-strongroom-replica&versionId=V (see
// internal/service/replica_wire.go). Only a header-signed SigV4 request
// whose every chunk is signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) is
// accepted: the payload is authenticated byte for byte, and the
// credential's secret derives the key the object key travels under.
func (s *Server) putReplica(q *request) error {
	if q.auth == nil || q.auth.Scheme != auth.SchemeSigV4 || q.auth.AccessKeyID == "" {
		return errs.AccessDenied.WithMessage("A replica transfer must be signed with Signature Version 4.")
	}
	if q.r.Header.Get("X-Amz-Content-Sha256") != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" {
		return errs.InvalidRequest.WithMessage("A replica transfer must sign its payload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).")
	}
	if q.auth.ContentLength < 0 {
		return errs.MissingContentLength
	}
	ctx := q.r.Context()
	secret, err := s.ids.SecretKey(ctx, q.auth.AccessKeyID)
	if err != nil {
		return err
	}
	installed, err := s.svc.ReceiveReplica(ctx, q.principal, service.ReplicaUpload{
		Bucket: q.bucket, Key: q.key, VersionID: q.query.Get("versionId"),
		Secret: secret, Body: q.auth.Body, Size: q.auth.ContentLength,
	})
	if err != nil {
		return err
	}
	result := "exists"
	if installed {
		result = "installed"
	}
	q.w.Header().Set(service.ReplicaResultHeader, result)
	q.w.WriteHeader(http.StatusOK)
	return nil
}
