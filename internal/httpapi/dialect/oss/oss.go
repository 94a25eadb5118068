// Package oss is the Alibaba Cloud OSS wire dialect.
package oss

import (
	"net/http"

	"strongroom/internal/httpapi/dialect"
	"strongroom/internal/httpapi/dialect/s3"
)

const prefix = "x-oss-"

// Dialect is the OSS dialect. (Scaffold: S3 behaviour under the OSS header
// prefix until the OSS specifics land.)
type Dialect struct{ s3.Dialect }

var _ dialect.Dialect = Dialect{}

func (Dialect) Name() string                             { return "oss" }
func (Dialect) Prefix() string                           { return prefix }
func (Dialect) Header(h http.Header, name string) string { return h.Get(prefix + name) }
func (Dialect) SetRequestID(h http.Header, id string)    { h.Set("x-oss-request-id", id) }
