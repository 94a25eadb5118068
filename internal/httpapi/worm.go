package httpapi

import (
	"encoding/xml"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/service"
)

// OSS's bucket retention policy (WORM) documents.

type initiateWormConfiguration struct {
	XMLName               xml.Name `xml:"InitiateWormConfiguration"`
	RetentionPeriodInDays int      `xml:"RetentionPeriodInDays"`
}

type extendWormConfiguration struct {
	XMLName               xml.Name `xml:"ExtendWormConfiguration"`
	RetentionPeriodInDays int      `xml:"RetentionPeriodInDays"`
}

type wormConfiguration struct {
	XMLName               xml.Name `xml:"WormConfiguration"`
	WormID                string   `xml:"WormId"`
	State                 string   `xml:"State"`
	RetentionPeriodInDays int      `xml:"RetentionPeriodInDays"`
	CreationDate          string   `xml:"CreationDate"`
	ExpirationDate        string   `xml:"ExpirationDate,omitempty"`
}

// wormDialect reports whether the dialect has OSS's bucket retention
// policy (the others answer 501).
func wormDialect(q *request) bool { return q.d.Name() == "oss" }

// routeWorm serves the ?worm, ?wormId and ?wormExtend sub-resources of a
// bucket; handled is false when the request names none of them.
func (s *Server) routeWorm(q *request, m string, has func(string) bool) (handled bool, err error) {
	if !has("worm") && !has("wormId") && !has("wormExtend") {
		return false, nil
	}
	if !wormDialect(q) {
		return true, notImplemented(q, "WORM (?worm)")
	}
	ctx := q.r.Context()
	switch {
	case m == http.MethodPost && has("worm"):
		var doc initiateWormConfiguration
		if err := s.readWormDoc(q, service.ActInitiateBucketWorm, &doc); err != nil {
			return true, err
		}
		id, err := s.svc.InitiateBucketWorm(ctx, q.principal, q.bucket, doc.RetentionPeriodInDays)
		if err != nil {
			return true, err
		}
		q.w.Header().Set(q.d.Prefix()+"worm-id", id)
		return true, emptyResponse(q, http.StatusOK, nil)
	case m == http.MethodPost && has("wormExtend") && has("wormId"):
		var doc extendWormConfiguration
		if err := s.readWormDoc(q, service.ActExtendBucketWorm, &doc); err != nil {
			return true, err
		}
		return true, emptyResponse(q, http.StatusOK, s.svc.ExtendBucketWorm(ctx, q.principal, q.bucket, q.query.Get("wormId"), doc.RetentionPeriodInDays))
	case m == http.MethodPost && has("wormId"):
		return true, emptyResponse(q, http.StatusOK, s.svc.CompleteBucketWorm(ctx, q.principal, q.bucket, q.query.Get("wormId")))
	case m == http.MethodDelete && has("worm"):
		return true, emptyResponse(q, http.StatusNoContent, s.svc.AbortBucketWorm(ctx, q.principal, q.bucket))
	case m == http.MethodGet && has("worm"):
		w, err := s.svc.GetBucketWorm(ctx, q.principal, q.bucket)
		if err != nil {
			return true, err
		}
		doc := wormConfiguration{WormID: w.ID, State: w.State, RetentionPeriodInDays: w.Days, CreationDate: isoTime(w.Created)}
		if w.State == service.WormInProgress {
			doc.ExpirationDate = isoTime(w.Expires())
		}
		return true, writeXML(q, doc)
	}
	return true, notImplemented(q, "")
}

// readWormDoc reads a retention policy document into v after authorizing
// action on the bucket.
func (s *Server) readWormDoc(q *request, action string, v any) error {
	data, err := s.readConfig(q, action)
	if err != nil {
		return err
	}
	return decodeXML(data, v)
}
