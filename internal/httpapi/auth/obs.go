package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Huawei Cloud OBS native signature: "OBS ak:sig" (the V2 scheme over
// x-obs-* headers) and its presigned form (AccessKeyId, Expires, Signature).
//
// String to sign (huaweicloud-sdk-go-obs, dialects.md §5.1):
//
//	VERB \n Content-MD5 \n Content-Type \n Date \n
//	x-obs-name:value \n ...   (only x-obs-*, lowercased, sorted, repeats joined by ',')
//	CanonicalizedResource
//
// The Date line is empty when x-obs-date is sent (it is then signed among
// the x-obs-* headers); in the presigned form it is the Expires value. The
// resource is /bucket/key as sent, then the sub-resources (the SigV2 list,
// plus every x-obs-* query parameter) sorted, with decoded values. x-amz-*
// headers are not signed by this scheme.

const obsPrefix = "x-obs-"

var (
	errOBSMalformed   = errs.AuthorizationHeaderMalformed.WithMessage("The authorization header is malformed; expected OBS AccessKeyId:Signature.")
	errOBSMissing     = errs.AccessDenied.WithMessage("Query-string authentication requires the Signature, Expires and AccessKeyId parameters")
	errOBSMissingDate = errs.AccessDenied.WithMessage("OBS authentication requires a valid Date or x-obs-date header")
)

func (v *Verifier) verifyOBSHeader(r *http.Request, authz, vhostBucket string) (*Result, error) {
	return v.verifyHMACHeader(r, obsScheme, authz, vhostBucket)
}

// verifyOBSQuery serves the presigned form (AccessKeyId, Expires,
// Signature); the policy form (AccessKeyId, Policy, Signature) is for
// browser POST uploads and not served.
func (v *Verifier) verifyOBSQuery(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	return v.verifyHMACQuery(r, obsScheme, q, vhostBucket)
}

// obsScheme: x-obs-date wins over Date; the Date line is then empty.
var obsScheme = &hmacScheme{
	name: "obs", header: SchemeOBS, query: SchemeOBSQuery,
	authPrefix: "OBS ", akParam: "AccessKeyId", dateHeader: "X-Obs-Date", signedPrefix: "x-obs-", tolerated: "x-amz-",
	errMalformed: errOBSMalformed, errNoDate: errOBSMissingDate, errNoQueryArg: errOBSMissing,
	match: func(r *http.Request, secret, dateLine, vhostBucket, sig string, _ bool) bool {
		return obsMatch(r, secret, dateLine, vhostBucket, sig)
	},
}

// obsMatch compares the request's OBS signature in constant time.
func obsMatch(r *http.Request, secret, dateLine, vhostBucket, sigB64 string) bool {
	got, err := base64.StdEncoding.Strict().DecodeString(sigB64)
	if err != nil {
		return false
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(obsStringToSign(r, dateLine, obsResource(r, vhostBucket))))
	return hmac.Equal(m.Sum(nil), got)
}

// obsStringToSign is the V2 layout with the x-obs-* headers.
func obsStringToSign(r *http.Request, dateLine, resource string) string {
	return v2Head(r, dateLine, obsPrefix) + resource
}

// obsResource is the V2 resource with the OBS rule for query parameters:
// the sub-resource list plus every x-obs-* parameter (the presigned
// credentials themselves are not sub-resources).
func obsResource(r *http.Request, vhostBucket string) string {
	return v2StyleResource(r, vhostBucket, func(k string) bool {
		lk := strings.ToLower(k)
		return v2SubResources[lk] || strings.HasPrefix(lk, obsPrefix)
	})
}
