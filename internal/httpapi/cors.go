package httpapi

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// maxCORSBody is S3's limit on a CORS configuration document.
const maxCORSBody = 64 << 10

// corsConfiguration is the CORSConfiguration document of ?cors (S3's
// shape in every dialect; OSS and COS add ResponseVary).
type corsConfiguration struct {
	XMLName      xml.Name   `xml:"CORSConfiguration"`
	NS           string     `xml:"xmlns,attr,omitempty"`
	Rules        []corsRule `xml:"CORSRule"`
	ResponseVary *bool      `xml:",omitempty"`
}

type corsRule struct {
	ID             string   `xml:",omitempty"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int     `xml:",omitempty"`
}

func (s *Server) putBucketCORS(q *request) error {
	data, err := s.readConfig(q, service.ActPutBucketCORS)
	if err != nil {
		return err
	}
	if len(data) > maxCORSBody {
		return errs.MalformedXML.WithMessage("The CORS configuration must be no larger than 64 KB.")
	}
	var doc corsConfiguration
	if err := xml.Unmarshal(data, &doc); err != nil {
		return errs.MalformedXML
	}
	c := &service.CORSConfig{ResponseVary: doc.ResponseVary != nil && *doc.ResponseVary}
	for _, r := range doc.Rules {
		c.Rules = append(c.Rules, service.CORSRule(r))
	}
	return emptyResponse(q, http.StatusOK, s.svc.PutBucketCORS(q.r.Context(), q.principal, q.bucket, c))
}

func (s *Server) getBucketCORS(q *request) error {
	c, err := s.svc.GetBucketCORS(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	doc := corsConfiguration{NS: s3NS}
	for _, r := range c.Rules {
		doc.Rules = append(doc.Rules, corsRule(r))
	}
	if _, ok := q.d.(dialect.CORSVary); ok {
		doc.ResponseVary = &c.ResponseVary
	}
	return writeXML(q, doc)
}

func (s *Server) deleteBucketCORS(q *request) error {
	return emptyResponse(q, http.StatusNoContent, s.svc.DeleteBucketCORS(q.r.Context(), q.principal, q.bucket))
}

// preflight answers a browser's OPTIONS preflight from the bucket's CORS
// configuration. It is not authenticated (browsers never sign it).
func (s *Server) preflight(q *request) error {
	origin := q.r.Header.Get("Origin")
	method := q.r.Header.Get("Access-Control-Request-Method")
	switch {
	case origin == "":
		return errs.BadRequest.WithMessage("Insufficient information. Origin request header needed.")
	case method == "":
		return errs.BadRequest.WithMessage("Invalid Access-Control-Request-Method: null")
	case q.bucket == "":
		return errs.CORSForbidden
	}
	c, err := s.svc.BucketCORS(q.r.Context(), q.bucket)
	switch {
	case errors.Is(err, errs.NoSuchBucket):
		return errs.CORSForbidden.WithMessage("CORSResponse: Bucket not found")
	case err != nil:
		return err
	case c == nil:
		return errs.CORSForbidden.WithMessage("CORSResponse: CORS is not enabled for this bucket.")
	}
	var headers []string
	for _, v := range q.r.Header.Values("Access-Control-Request-Headers") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				headers = append(headers, h)
			}
		}
	}
	rule, allowed := c.Match(origin, method, headers)
	if rule == nil {
		return errs.CORSForbidden
	}
	h := q.w.Header()
	setCORSHeaders(h, rule, allowed, origin)
	if len(headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	h.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// addCORSHeaders gives a request with an Origin header the CORS response
// headers of the bucket's first matching rule. They are set before the
// operation runs, so error responses carry them too (a browser could not
// read the error otherwise).
func (s *Server) addCORSHeaders(q *request) {
	origin := q.r.Header.Get("Origin")
	if origin == "" || q.bucket == "" {
		return
	}
	c, err := s.svc.BucketCORS(q.r.Context(), q.bucket)
	if err != nil || c == nil {
		return
	}
	h := q.w.Header()
	rule, allowed := c.Match(origin, q.r.Method, nil)
	if rule != nil {
		setCORSHeaders(h, rule, allowed, origin)
	}
	if rule != nil || c.ResponseVary {
		h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	}
}

// setCORSHeaders writes what a matched rule allows. A rule that allows any
// origin answers "*"; one naming origins echoes the request's and allows
// credentials.
func setCORSHeaders(h http.Header, r *service.CORSRule, allowed, origin string) {
	if allowed == "*" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(r.AllowedMethods, ", "))
	if len(r.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(r.ExposeHeaders, ", "))
	}
	if r.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(*r.MaxAgeSeconds))
	}
}
