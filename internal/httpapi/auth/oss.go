package auth

import (
	"net/http"
	"net/url"
)

// Alibaba Cloud OSS signatures: V1 ("OSS ak:sig", HMAC-SHA1) and V4
// ("OSS4-HMAC-SHA256"), header and presigned forms.

func (v *Verifier) verifyOSSV1Header(r *http.Request, authz, vhostBucket string) (*Result, error) {
	return nil, errUnsupportedAuth
}

func (v *Verifier) verifyOSSV1Query(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	return nil, errUnsupportedAuth
}

func (v *Verifier) verifyOSSV4Header(r *http.Request, authz, vhostBucket string) (*Result, error) {
	return nil, errUnsupportedAuth
}

func (v *Verifier) verifyOSSV4Query(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	return nil, errUnsupportedAuth
}
