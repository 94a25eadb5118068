package auth

import (
	"net/http"
	"net/url"
)

// Huawei Cloud OBS native signature: "OBS ak:sig" (the V2 scheme over
// x-obs-* headers) and its presigned form (AccessKeyId, Expires, Signature).

func (v *Verifier) verifyOBSHeader(r *http.Request, authz, vhostBucket string) (*Result, error) {
	return nil, errUnsupportedAuth
}

func (v *Verifier) verifyOBSQuery(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	return nil, errUnsupportedAuth
}
