// Package all lists every dialect strongroom serves.
package all

import (
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/cos"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/obs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/oss"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
)

// Dialects returns the served dialects.
func Dialects() []dialect.Dialect {
	return []dialect.Dialect{s3.Dialect{}, oss.Dialect{}, cos.Dialect{}, obs.Dialect{}}
}
