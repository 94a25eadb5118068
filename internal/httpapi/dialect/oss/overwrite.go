package oss

import (
	"net/http"
	"strings"
)

// ForbidOverwrite reads x-oss-forbid-overwrite: true, which the HTTP layer
// turns into If-None-Match: * (dialect.WriteGuard).
func (Dialect) ForbidOverwrite(h http.Header) bool {
	return strings.EqualFold(names.Get(h, "forbid-overwrite"), "true")
}
