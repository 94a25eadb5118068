package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/origin"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// originExtension is the S3 dialect's sub-resource for origin rules (a
// strongroom extension; S3 has no back-to-source): it takes COS's
// OriginConfiguration document.
const originExtension = "x-strongroom-origin"

// maxOriginBody bounds an origin or website configuration document.
const maxOriginBody = 64 << 10

// routeOrigin routes the back-to-source configuration sub-resources:
// COS ?origin, OSS ?website, the S3 extension ?x-strongroom-origin.
func (s *Server) routeOrigin(q *request, m string, has func(string) bool) (bool, error) {
	switch name := q.d.Name(); {
	case has(originExtension) || (name == "cos" && has("origin")):
		switch m {
		case http.MethodPut:
			return true, s.putBucketOrigin(q)
		case http.MethodGet:
			return true, s.getBucketOrigin(q)
		case http.MethodDelete:
			return true, emptyResponse(q, http.StatusNoContent, s.svc.DeleteBucketOrigin(q.r.Context(), q.principal, q.bucket))
		}
	case name == "obs" && has("mirrorBackToSource"):
		switch m {
		case http.MethodPut:
			return true, s.putBucketMirror(q)
		case http.MethodGet:
			return true, s.getBucketMirror(q)
		case http.MethodDelete:
			return true, emptyResponse(q, http.StatusNoContent, s.svc.DeleteBucketOrigin(q.r.Context(), q.principal, q.bucket))
		}
	case name == "oss" && has("website"):
		switch m {
		case http.MethodPut:
			return true, s.putBucketWebsite(q)
		case http.MethodGet:
			return true, s.getBucketWebsite(q)
		case http.MethodDelete:
			return true, emptyResponse(q, http.StatusNoContent, s.svc.DeleteBucketWebsite(q.r.Context(), q.principal, q.bucket))
		}
	}
	return false, nil
}

func (s *Server) readOriginDoc(q *request, action string) ([]byte, error) {
	data, err := s.readConfig(q, action)
	if err != nil {
		return nil, err
	}
	if len(data) > maxOriginBody {
		return nil, errs.MalformedXML.WithMessage("The configuration must be no larger than 64 KB.")
	}
	return data, nil
}

func originDocError(err error) error {
	switch {
	case errors.Is(err, origin.ErrMalformed):
		return errs.MalformedXML
	case errors.Is(err, origin.ErrInvalid):
		return errs.InvalidArgument.WithMessage(err.Error())
	}
	return err
}

func (s *Server) putBucketOrigin(q *request) error {
	data, err := s.readOriginDoc(q, service.ActPutBucketOrigin)
	if err != nil {
		return err
	}
	c, err := origin.ParseCOS(data)
	if err != nil {
		return originDocError(err)
	}
	return emptyResponse(q, http.StatusOK, s.svc.PutBucketOrigin(q.r.Context(), q.principal, q.bucket, c))
}

func (s *Server) getBucketOrigin(q *request) error {
	c, err := s.svc.GetBucketOrigin(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, c.COSDocument())
}

// putBucketMirror is OBS's PUT ?mirrorBackToSource: 201 when it
// changes the rules, 200 when they were already these (OBS's idempotent
// answer).
func (s *Server) putBucketMirror(q *request) error {
	data, err := s.readOriginDoc(q, service.ActPutBucketOrigin)
	if err != nil {
		return err
	}
	c, err := origin.ParseOBS(data)
	if err != nil {
		return originDocError(err)
	}
	status := http.StatusCreated
	if cur, err := s.svc.GetBucketOrigin(q.r.Context(), q.principal, q.bucket); err == nil && sameJSON(cur, c) {
		status = http.StatusOK
	}
	return emptyResponse(q, status, s.svc.PutBucketOrigin(q.r.Context(), q.principal, q.bucket, c))
}

func (s *Server) getBucketMirror(q *request) error {
	c, err := s.svc.GetBucketOrigin(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	body, err := c.OBSDocument()
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(body)
	return nil
}

func (s *Server) putBucketWebsite(q *request) error {
	data, err := s.readOriginDoc(q, service.ActPutBucketWebsite)
	if err != nil {
		return err
	}
	w, err := origin.ParseOSSWebsite(data)
	if err != nil {
		return originDocError(err)
	}
	return emptyResponse(q, http.StatusOK, s.svc.PutBucketWebsite(q.r.Context(), q.principal, q.bucket, w))
}

func (s *Server) getBucketWebsite(q *request) error {
	w, err := s.svc.GetBucketWebsite(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, w.OSSDocument())
}

// pullMiss retries a GET or HEAD that found no object at the bucket's
// origin. handled false: no rule applies and the miss stands. A redirect
// is answered here.
func (s *Server) pullMiss(q *request, in service.GetObjectInput, head bool) (*service.PullOutput, bool, error) {
	if head && q.d.Name() == "oss" {
		return nil, false, nil // OSS: a HEAD never triggers mirroring
	}
	out, err := s.svc.Pull(q.r.Context(), q.principal, service.PullInput{
		Get:    in,
		Query:  originQuery(q.query),
		Header: q.r.Header,
		HTTPS:  q.r.TLS != nil,
		Head:   head,
	})
	if errors.Is(err, service.ErrNoOrigin) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if out.Redirect != "" {
		q.w.Header().Set("Location", out.Redirect)
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(out.RedirectCode)
		return nil, true, nil
	}
	return out, true, nil
}

// originQuery is the client's query an origin may see: without the
// signature's parameters and strongroom's own (response overrides,
// versionId, partNumber).
func originQuery(v url.Values) string {
	out := url.Values{}
	for k, vs := range v {
		if auth.IsQueryParam(k) || k == "versionId" || k == "partNumber" || k == "x-id" || strings.HasPrefix(k, "response-") {
			continue
		}
		out[k] = vs
	}
	return out.Encode()
}

// sameJSON compares two configurations as stored.
func sameJSON(a, b *origin.Config) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
