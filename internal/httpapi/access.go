package httpapi

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// maxPolicySize is S3's limit on a bucket policy document.
const maxPolicySize = 20 << 10

func (s *Server) putBucketPolicy(q *request) error {
	if err := s.svc.Precheck(q.r.Context(), q.principal, service.ActPutBucketPolicy, q.bucket, ""); err != nil {
		return err
	}
	doc, err := readBody(q, maxPolicySize, errs.MalformedPolicy.WithMessage("Policies must be no larger than 20 KB"))
	if err != nil {
		return err
	}
	if err := s.svc.PutBucketPolicy(q.r.Context(), q.principal, q.bucket, doc); err != nil {
		return err
	}
	status := http.StatusNoContent
	if p, ok := q.d.(dialect.PolicyStatus); ok {
		status = p.PutBucketPolicyStatus()
	}
	q.w.WriteHeader(status)
	return nil
}

func (s *Server) getBucketPolicy(q *request) error {
	doc, err := s.svc.GetBucketPolicy(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(doc)
	return nil
}

func (s *Server) deleteBucketPolicy(q *request) error {
	if err := s.svc.DeleteBucketPolicy(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// putACL sets a bucket's or an object's canned ACL, from the canned-ACL
// header or an ACL document.
func (s *Server) putACL(q *request) error {
	object := q.key != ""
	acl, present, err := q.d.CannedACL(q.r.Header, object)
	if err != nil {
		return err
	}
	if !present {
		action := service.ActPutBucketACL
		if object {
			action = service.ActPutObjectACL
		}
		if err := s.svc.Precheck(q.r.Context(), q.principal, action, q.bucket, q.key); err != nil {
			return err
		}
		body, err := readBody(q, maxXMLBody, errXMLTooLarge)
		if err != nil {
			return err
		}
		if len(body) == 0 {
			return errs.MissingSecurityHeader.WithMessage("Your request was missing a required header: x-amz-acl, or an AccessControlPolicy document.")
		}
		if acl, err = q.d.ParseACL(body, object); err != nil {
			return err
		}
	}
	if object {
		vid, verr := versionID(q)
		if verr != nil {
			return verr
		}
		err = s.svc.PutObjectACL(q.r.Context(), q.principal, q.bucket, q.key, vid, acl)
		setVersionHeader(q, "version-id", vid)
	} else {
		err = s.svc.PutBucketACL(q.r.Context(), q.principal, q.bucket, acl)
	}
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getACL(q *request) error {
	var owner, acl string
	var err error
	if q.key != "" {
		vid, verr := versionID(q)
		if verr != nil {
			return verr
		}
		owner, acl, err = s.svc.GetObjectACL(q.r.Context(), q.principal, q.bucket, q.key, vid)
		setVersionHeader(q, "version-id", vid)
	} else {
		owner, acl, err = s.svc.GetBucketACL(q.r.Context(), q.principal, q.bucket)
	}
	if err != nil {
		return err
	}
	if d, ok := q.d.(dialect.RequestACLDocument); ok {
		return writeXML(q, d.ACLDocumentFor(q.r, owner, acl, q.key != ""))
	}
	return writeXML(q, q.d.ACLDocument(owner, acl, q.key != ""))
}
