// Package cos is the Tencent Cloud COS wire dialect.
package cos

import (
	"net/http"

	"strongroom/internal/httpapi/dialect"
	"strongroom/internal/httpapi/dialect/s3"
)

const prefix = "x-cos-"

// Dialect is the COS dialect. (Scaffold: S3 behaviour under the COS header
// prefix until the COS specifics land.)
type Dialect struct{ s3.Dialect }

var _ dialect.Dialect = Dialect{}

func (Dialect) Name() string                             { return "cos" }
func (Dialect) Prefix() string                           { return prefix }
func (Dialect) Header(h http.Header, name string) string { return h.Get(prefix + name) }
func (Dialect) SetRequestID(h http.Header, id string)    { h.Set("x-cos-request-id", id) }
