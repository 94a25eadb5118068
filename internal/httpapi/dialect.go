package httpapi

import (
	"encoding/xml"
	"net/http"
	"strconv"

	"strongroom/internal/errs"
)

// Dialect is what differs between the S3-compatible wire protocols:
// header prefixes, error codes and how errors are written. Everything a
// dialect does is translation; operations live in internal/service.
type Dialect interface {
	Name() string
	// Prefix is the vendor header prefix, e.g. "x-amz-".
	Prefix() string
	// WriteError writes a canonical error in the dialect's shape.
	WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string)
	// SetRequestID sets the dialect's request-id response headers.
	SetRequestID(h http.Header, id string)
}

// s3Dialect is the AWS S3 wire dialect.
type s3Dialect struct{}

func (s3Dialect) Name() string   { return "s3" }
func (s3Dialect) Prefix() string { return "x-amz-" }

func (s3Dialect) SetRequestID(h http.Header, id string) {
	h.Set("x-amz-request-id", id)
	h.Set("x-amz-id-2", id)
}

type s3ErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

func (s3Dialect) WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string) {
	if r.Method == http.MethodHead || e.Status == http.StatusNotModified {
		// HEAD and 304 responses carry no body; clients read the status.
		w.WriteHeader(e.Status)
		return
	}
	body, _ := xml.Marshal(s3ErrorBody{Code: e.Code, Message: e.Message, Resource: resource, RequestID: requestID, HostID: requestID})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
