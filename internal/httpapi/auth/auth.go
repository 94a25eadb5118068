// Package auth authenticates S3-style requests: AWS Signature Version 4
// (Authorization header, presigned query, aws-chunked bodies with signed
// chunks and trailers) and Signature Version 2 (header and presigned query),
// including the variants the Huawei OBS SDK emits in its S3-compatible modes.
//
// Verify checks everything that can be checked from the request head before
// the service runs. What can only be checked once the body has been read (the
// payload hash, chunk signatures, trailer signature, decoded length) is
// checked by Result.Body while it streams: the failure is returned by Read,
// at the latest in place of io.EOF. The service must therefore read Body to
// io.EOF and treat any error as fatal to the request before it makes anything
// durable.
//
// Not supported: SigV4a (ECDSA) and session tokens (X-Amz-Security-Token is
// signed over but not checked; there is no STS).
//
// Errors are the canonical values of package errs, often wrapped with detail
// for logs (use errs.As). The detail never contains a computed signature: a
// server that reveals the signature it expected is a signing oracle.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Credentials resolves an access key to its secret.
type Credentials interface {
	// SecretKey returns the secret of an access key, or an error that is
	// (errors.Is) errs.InvalidAccessKeyID when unknown.
	SecretKey(ctx context.Context, accessKeyID string) (string, error)
}

// Scheme names how a request was authenticated.
type Scheme string

// Schemes.
const (
	SchemeAnonymous  Scheme = "anonymous"
	SchemeSigV4      Scheme = "sigv4"
	SchemeSigV4Query Scheme = "sigv4-query"
	SchemeSigV2      Scheme = "sigv2"
	SchemeSigV2Query Scheme = "sigv2-query"
	// Vendor schemes (dialect detection falls back on these).
	SchemeOSSV1      Scheme = "oss-v1"
	SchemeOSSV1Query Scheme = "oss-v1-query"
	SchemeOSSV4      Scheme = "oss-v4"
	SchemeOSSV4Query Scheme = "oss-v4-query"
	SchemeCOS        Scheme = "cos"
	SchemeCOSQuery   Scheme = "cos-query"
	SchemeOBS        Scheme = "obs"
	SchemeOBSQuery   Scheme = "obs-query"
)

// Result is the outcome of a successful Verify.
type Result struct {
	AccessKeyID string // empty when anonymous
	Scheme      Scheme
	// Region is the region of the SigV4 credential scope (empty otherwise).
	Region string

	// Body is the payload the service must read instead of r.Body:
	// aws-chunked framing removed, and verified. Any verification failure
	// (payload sha256 mismatch -> errs.ContentSHA256Mismatch, bad chunk
	// signature -> errs.SignatureDoesNotMatch, bad framing ->
	// errs.InvalidChunkedEncoding, fewer bytes than declared ->
	// errs.IncompleteBody) is returned as the Read error, at the latest
	// instead of io.EOF, never after io.EOF was returned. Bytes are
	// streamed, never buffered whole: read to io.EOF before committing.
	Body io.ReadCloser
	// ContentLength is the decoded payload length (x-amz-decoded-content-length
	// for aws-chunked, else r.ContentLength; -1 unknown).
	ContentLength int64
	// Trailer holds the trailing headers (e.g. X-Amz-Checksum-Crc32) of an
	// aws-chunked body; filled once Body returned io.EOF. Never nil.
	Trailer http.Header

	// Presigned is true for query-signed requests; Expires is then the end
	// of their validity.
	Presigned bool
	Expires   time.Time

	// signed reports whether the signature covers a header (lowercase
	// name); nil for anonymous requests.
	signed func(name string) bool
	// tolerate is the prefix of the OBS tolerance (see tolerance.go), ""
	// for schemes without one; unsigned lists the headers it let through.
	tolerate string
	unsigned []string
}

// Verifier authenticates requests against a credential store.
type Verifier struct {
	Creds   Credentials
	Now     func() time.Time // nil: time.Now
	MaxSkew time.Duration    // 0: 15 minutes

	keys signingKeys // derived SigV4 signing keys (keycache.go)
}

// Errors that refine a canonical error with S3's own wording. They keep the
// canonical code, so dialects map them like their parent.
var (
	errMultipleAuth     = errs.InvalidArgument.WithMessage("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	errUnsupportedAuth  = errs.InvalidArgument.WithMessage("Unsupported Authorization Type")
	errMissingDate      = errs.AccessDenied.WithMessage("AWS authentication requires a valid Date or x-amz-date header")
	errNotYetValid      = errs.AccessDenied.WithMessage("Request is not valid yet")
	errHeadersNotSigned = errs.AccessDenied.WithMessage("There were headers present in the request which were not signed")
	errV2QueryMissing   = errs.AccessDenied.WithMessage("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	errMissingSHA256    = errs.InvalidRequest.WithMessage("Missing required header for this request: x-amz-content-sha256")
	errBadSHA256        = errs.InvalidArgument.WithMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	errDecodedLength    = errs.MissingContentLength.WithMessage("You must provide a valid x-amz-decoded-content-length header for aws-chunked uploads.")
)

// detail wraps a canonical error with a log-only explanation.
func detail(e *errs.Error, format string, args ...any) error {
	return fmt.Errorf("auth: %s: %w", fmt.Sprintf(format, args...), e)
}

// Verify authenticates r. vhostBucket is the bucket name taken from a
// virtual-hosted-style Host header ("" for path style); SigV2 needs it for the
// canonicalized resource. A request with no credentials at all yields Scheme
// "anonymous" (not an error). r.Body must not have been read.
func (v *Verifier) Verify(r *http.Request, vhostBucket string) (*Result, error) {
	res, err := v.verify(r, vhostBucket)
	if err == nil && res.signed != nil {
		err = checkSigned(r, res)
	}
	return res, err
}

// vendorPrefixes are the header prefixes that carry request meaning in some
// dialect (and that select a dialect).
var vendorPrefixes = []string{"x-amz-", "x-oss-", "x-cos-", "x-obs-"}

// checkSigned refuses a signed request carrying a vendor header that its
// signature does not cover, as S3 does for x-amz-*: such headers carry
// request meaning (SSE keys, ACLs, copy sources) and choose the dialect, so
// a man in the middle or the holder of a presigned URL could otherwise add
// them. The one exception is the OBS tolerance (tolerance.go).
func checkSigned(r *http.Request, res *Result) error {
	for k := range r.Header {
		lk := strings.ToLower(k)
		if !isVendorHeader(lk) || res.signed(lk) {
			continue
		}
		if !tolerated(r.Header, lk, res) {
			return detail(errHeadersNotSigned, "%s", lk)
		}
		res.unsigned = append(res.unsigned, lk)
	}
	return nil
}

func isVendorHeader(name string) bool {
	for _, p := range vendorPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// signedPrefix is the coverage of schemes that sign every header under
// one prefix (SigV2: x-amz-, OBS: x-obs-, OSS: x-oss-).
func signedPrefix(prefix string) func(string) bool {
	return func(name string) bool { return strings.HasPrefix(name, prefix) }
}

func (v *Verifier) verify(r *http.Request, vhostBucket string) (*Result, error) {
	authz := r.Header.Get("Authorization")
	// Detection only: a malformed escape elsewhere in the query must not hide
	// the credentials, so the parse error is ignored here.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	v4q := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
	v2q := q.Has("AWSAccessKeyId")
	ossV1q := q.Has("OSSAccessKeyId")
	ossV4q := q.Has("x-oss-signature") || q.Has("x-oss-credential")
	cosq := q.Has("q-signature") || q.Has("q-sign-algorithm")
	obsq := q.Has("AccessKeyId") && q.Has("Signature")

	n := 0
	for _, b := range []bool{authz != "", v4q, v2q, ossV1q, ossV4q, cosq, obsq} {
		if b {
			n++
		}
	}
	// Two Authorization headers are two auth mechanisms too: which one a
	// proxy or a policy looks at would differ from the one verified.
	if n > 1 || len(r.Header.Values("Authorization")) > 1 {
		return nil, errMultipleAuth
	}
	switch {
	case strings.HasPrefix(authz, v4Algorithm+" "):
		return v.verifyV4Header(r, authz)
	case strings.HasPrefix(authz, "AWS "):
		return v.verifyV2Header(r, authz, vhostBucket)
	case strings.HasPrefix(authz, "OSS4-HMAC-SHA256 "):
		return v.verifyOSSV4Header(r, authz, vhostBucket)
	case strings.HasPrefix(authz, "OSS "):
		return v.verifyOSSV1Header(r, authz, vhostBucket)
	case strings.HasPrefix(authz, "q-sign-algorithm="):
		return v.verifyCOSHeader(r, authz)
	case strings.HasPrefix(authz, "OBS "):
		return v.verifyOBSHeader(r, authz, vhostBucket)
	case authz != "":
		return nil, errUnsupportedAuth
	case v4q:
		return v.verifyV4Query(r, q)
	case v2q:
		return v.verifyV2Query(r, q, vhostBucket)
	case ossV4q:
		return v.verifyOSSV4Query(r, q, vhostBucket)
	case ossV1q:
		return v.verifyOSSV1Query(r, q, vhostBucket)
	case cosq:
		return v.verifyCOSQuery(r, q)
	case obsq:
		return v.verifyOBSQuery(r, q, vhostBucket)
	}
	return anonymous(r)
}

// anonymous still honours x-amz-content-sha256: an unsigned aws-chunked body
// must be decoded, and a declared hash is worth checking.
func anonymous(r *http.Request) (*Result, error) {
	res := &Result{Scheme: SchemeAnonymous}
	mode := r.Header.Get(headerContentSHA256)
	if mode == "" {
		mode = unsignedPayload
	}
	if err := setBody(res, r, mode, nil); err != nil {
		return nil, err
	}
	return res, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return 15 * time.Minute
}

// checkSkew refuses a request time too far from the server's clock: it bounds
// how long a captured header-signed request can be replayed.
func (v *Verifier) checkSkew(t time.Time) error {
	d := v.now().Sub(t)
	if d < 0 {
		d = -d
	}
	if d > v.maxSkew() {
		return detail(errs.RequestTimeTooSkewed, "request time %s, server time %s", t.UTC().Format(time.RFC3339), v.now().UTC().Format(time.RFC3339))
	}
	return nil
}

func (v *Verifier) secret(ctx context.Context, accessKey string) (string, error) {
	if v.Creds == nil {
		return "", errs.InvalidAccessKeyID
	}
	s, err := v.Creds.SecretKey(ctx, accessKey)
	if err != nil {
		if errors.Is(err, errs.InvalidAccessKeyID) {
			return "", err
		}
		return "", fmt.Errorf("auth: looking up access key: %w", err)
	}
	return s, nil
}

// parseHTTPTime accepts the date formats clients put in Date / x-amz-date:
// RFC 1123 with GMT or a numeric zone, RFC 850, asctime and ISO 8601 basic.
func parseHTTPTime(s string) (time.Time, bool) {
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, iso8601Basic} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// rawPath is the request path exactly as sent on the wire. Signatures cover
// the client's own encoding, which a decode/re-encode round trip through
// url.URL does not always reproduce (lowercase hex, over-escaped bytes).
func rawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// host is the Host the client sent (Go's server moves it out of r.Header).
func host(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// IsQueryParam reports whether a query parameter belongs to a signature
// scheme (presigned URLs) rather than to the operation, so routing that
// looks at a request's parameters can ignore it.
func IsQueryParam(k string) bool {
	switch k {
	case "AWSAccessKeyId", "Signature", "Expires", "AccessKeyId",
		"OSSAccessKeyId", "security-token", "x-oss-signature-version", "x-oss-credential",
		"x-oss-date", "x-oss-expires", "x-oss-signature", "x-oss-additional-headers", "x-oss-security-token":
		return true
	}
	if slices.Contains(cosFields, k) {
		return true
	}
	return len(k) > 6 && (k[:6] == "X-Amz-" || k[:6] == "x-amz-")
}
