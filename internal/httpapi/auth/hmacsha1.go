package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// hmacScheme is one of the "AccessKeyId:base64(HMAC-SHA1)" schemes: AWS
// SigV2, Huawei OBS and Alibaba OSS V1. They share the flow (parse, date
// and skew, or expiry when presigned; secret; constant-time compare) and
// differ in their string to sign, which match computes.
type hmacScheme struct {
	name          string // for log details
	header, query Scheme
	authPrefix    string // "AWS ", "OBS ", "OSS "
	akParam       string // presigned access-key parameter
	dateHeader    string // vendor date header that overrides Date
	signedPrefix  string // vendor headers the string to sign covers
	tolerated     string // the OBS tolerance's prefix (tolerance.go)
	// keepDateLine: the Date line stays Date even when dateHeader is sent
	// (OSS); otherwise it is then empty (AWS, OBS).
	keepDateLine                           bool
	errMalformed, errNoDate, errNoQueryArg *errs.Error
	// match reports whether sig (base64) signs r under secret; dateLine is
	// the Date line of the string to sign (Expires when presigned).
	match func(r *http.Request, secret, dateLine, vhostBucket, sig string, presigned bool) bool
}

func (v *Verifier) verifyHMACHeader(r *http.Request, s *hmacScheme, authz, vhostBucket string) (*Result, error) {
	ak, sig, ok := strings.Cut(strings.TrimPrefix(authz, s.authPrefix), ":")
	ak, sig = strings.TrimSpace(ak), strings.TrimSpace(sig)
	if !ok || ak == "" || sig == "" {
		return nil, detail(s.errMalformed, "expected %sAccessKeyId:Signature", s.authPrefix)
	}
	dateLine, ts := r.Header.Get("Date"), r.Header.Get("Date")
	if d := r.Header.Get(s.dateHeader); d != "" {
		ts = d // signed among the vendor headers
		if !s.keepDateLine {
			dateLine = ""
		}
	}
	t, ok := parseHTTPTime(ts)
	if !ok {
		return nil, s.errNoDate
	}
	if err := v.checkSkew(t); err != nil {
		return nil, err
	}
	secret, err := v.secret(r.Context(), ak)
	if err != nil {
		return nil, err
	}
	if !s.match(r, secret, dateLine, vhostBucket, sig, false) {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (%s)", ak, s.name)
	}
	res := &Result{AccessKeyID: ak, Scheme: s.header, signed: signedPrefix(s.signedPrefix), tolerate: s.tolerated}
	return res, setBody(res, r, unsignedPayload, nil)
}

func (v *Verifier) verifyHMACQuery(r *http.Request, s *hmacScheme, q url.Values, vhostBucket string) (*Result, error) {
	ak, sig, exp := q.Get(s.akParam), q.Get("Signature"), q.Get("Expires")
	if ak == "" || sig == "" || exp == "" {
		return nil, s.errNoQueryArg
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return nil, detail(s.errNoQueryArg, "Expires is not a number")
	}
	expires := time.Unix(secs, 0)
	if v.now().After(expires) {
		return nil, detail(errs.ExpiredToken, "expired at %s", expires.UTC().Format(time.RFC3339))
	}
	secret, err := v.secret(r.Context(), ak)
	if err != nil {
		return nil, err
	}
	// A client that forgot to escape '+' in the signature sends a space.
	if !s.match(r, secret, exp, vhostBucket, strings.ReplaceAll(sig, " ", "+"), true) {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (%s presigned)", ak, s.name)
	}
	res := &Result{AccessKeyID: ak, Scheme: s.query, Presigned: true, Expires: expires, signed: signedPrefix(s.signedPrefix), tolerate: s.tolerated}
	return res, setBody(res, r, unsignedPayload, nil)
}
