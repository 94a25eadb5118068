// Package all lists every dialect strongroom serves.
package all

import (
	"strongroom/internal/httpapi/dialect"
	"strongroom/internal/httpapi/dialect/cos"
	"strongroom/internal/httpapi/dialect/obs"
	"strongroom/internal/httpapi/dialect/oss"
	"strongroom/internal/httpapi/dialect/s3"
)

// Dialects returns the served dialects.
func Dialects() []dialect.Dialect {
	return []dialect.Dialect{s3.Dialect{}, oss.Dialect{}, cos.Dialect{}, obs.Dialect{}}
}
