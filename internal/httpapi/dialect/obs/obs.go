// Package obs is the Huawei Cloud OBS wire dialect.
package obs

import (
	"net/http"

	"strongroom/internal/httpapi/dialect"
	"strongroom/internal/httpapi/dialect/s3"
)

const prefix = "x-obs-"

// Dialect is the OBS dialect. (Scaffold: S3 behaviour, reading both x-obs-
// and x-amz- headers, until the OBS specifics land.)
type Dialect struct{ s3.Dialect }

var _ dialect.Dialect = Dialect{}

func (Dialect) Name() string   { return "obs" }
func (Dialect) Prefix() string { return prefix }
func (Dialect) Header(h http.Header, name string) string {
	return dialect.HeaderWithPrefixes(h, name, prefix, "x-amz-")
}
func (Dialect) SetRequestID(h http.Header, id string) { h.Set("x-obs-request-id", id) }
