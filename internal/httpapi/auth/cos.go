package auth

import (
	"net/http"
	"net/url"
)

// Tencent Cloud COS signature: "q-sign-algorithm=sha1&..." in the
// Authorization header, or the same fields as query parameters.

func (v *Verifier) verifyCOSHeader(r *http.Request, authz string) (*Result, error) {
	return nil, errUnsupportedAuth
}

func (v *Verifier) verifyCOSQuery(r *http.Request, q url.Values) (*Result, error) {
	return nil, errUnsupportedAuth
}
