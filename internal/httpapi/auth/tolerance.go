package auth

import (
	"net/http"
	"strings"
)

// The OBS tolerance. The Huawei OBS SDK sends encryption-selection headers
// under the other prefix of its pair, where its signature does not reach
// them: custom x-obs-* headers in its AWS V2 mode (V2 signs only x-amz-*),
// x-amz-* ones in its native OBS mode (which signs only x-obs-*). These,
// and only these, may arrive unsigned, and only to fill in what the
// signature left unset:
//
//   - never to override a signed value: a field the signature sets under
//     either prefix (say x-amz-server-side-encryption) refuses its
//     unsigned twin (x-obs-server-side-encryption);
//   - never to add to the signed choice of key: the method and the key id
//     are one choice, so with either of them signed, neither may come
//     unsigned (an unsigned key id must not pick the key of a signed
//     aws:kms);
//   - never to choose the dialect (MayGoUnsigned), and only where the
//     request's dialect reads that prefix (Result.CheckTolerated).
//
// The data algorithm (AES256/SM4) and the OBS project id of the key are
// fields of their own: they decide neither who can decrypt nor which key.
// SSE-C keys, the KMS context and every other header must be signed.
// A refused header is AccessDenied, as any unsigned vendor header.

// toleratedFields maps the tolerated headers (prefix removed) to the
// choice each makes.
var toleratedFields = map[string]string{
	"server-side-encryption":                "key",
	"server-side-encryption-kms-key-id":     "key",
	"server-side-encryption-aws-kms-key-id": "key",
	"server-side-data-encryption":           "data",
	"sse-kms-key-project-id":                "project",
}

// tolerated reports whether an unsigned vendor header (lowercase) may pass
// under res's tolerance: see above.
func tolerated(h http.Header, name string, res *Result) bool {
	if res.tolerate == "" || !strings.HasPrefix(name, res.tolerate) {
		return false
	}
	choice := toleratedFields[name[len(res.tolerate):]]
	if choice == "" {
		return false
	}
	for k := range h {
		lk := strings.ToLower(k)
		if res.signed(lk) && toleratedFields[withoutVendorPrefix(lk)] == choice {
			return false // the signature made this choice
		}
	}
	return true
}

func withoutVendorPrefix(name string) string {
	for _, p := range vendorPrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest
		}
	}
	return name
}

// toleratedPrefix is the prefix the scheme r is signed with tolerates
// ("" for none), found as verify finds the scheme.
func toleratedPrefix(r *http.Request) string {
	authz := r.Header.Get("Authorization")
	for _, s := range []*hmacScheme{awsV2, obsScheme} {
		if authz != "" && strings.HasPrefix(authz, s.authPrefix) ||
			authz == "" && r.URL.Query().Has(s.akParam) {
			return s.tolerated
		}
	}
	return ""
}

// MayGoUnsigned returns a test of whether a header (lowercase name) is one
// the OBS tolerance may accept outside r's signature. Dialect detection
// ignores such headers: what the signature does not cover must not decide
// how a request is read.
func MayGoUnsigned(r *http.Request) func(name string) bool {
	p := toleratedPrefix(r)
	return func(name string) bool {
		return p != "" && strings.HasPrefix(name, p) && toleratedFields[name[len(p):]] != ""
	}
}

// CheckTolerated refuses the headers the OBS tolerance let through
// unsigned when reads (does the request's dialect take this header?) says
// no: the dialect would ignore them, and a client asking for encryption
// would silently get none.
func (r *Result) CheckTolerated(reads func(name string) bool) error {
	for _, name := range r.unsigned {
		if !reads(name) {
			return detail(errHeadersNotSigned, "%s (not read in this dialect)", name)
		}
	}
	return nil
}
