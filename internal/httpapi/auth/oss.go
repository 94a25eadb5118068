package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Alibaba Cloud OSS signatures: V1 ("OSS ak:sig", HMAC-SHA1) and V4
// ("OSS4-HMAC-SHA256"), header and presigned forms, as emitted by
// aliyun-oss-go-sdk (the v1 SDK) and alibabacloud-oss-go-sdk-v2 (the v2
// SDK).
//
// Both sign the bucket and key rather than the request path, so one
// signature serves path-style and virtual-hosted requests alike: V1 the
// raw key, V4 the key percent-encoded with '/' kept. V1 signs a fixed list
// of sub-resources plus any x-oss-* parameter; V4 signs every parameter.
// Every x-oss-* header is signed in both, so none can be added in transit.

const (
	ossV4Algorithm  = "OSS4-HMAC-SHA256"
	ossV4Terminator = "aliyun_v4_request"
	ossContentSHA   = "X-Oss-Content-Sha256"
)

// Errors in OSS's wording. They keep canonical codes, which the OSS dialect
// maps.
var (
	errOSSMissingDate  = errs.AccessDenied.WithMessage("OSS authentication requires a valid Date.")
	errOSSV1Query      = errs.AccessDenied.WithMessage("Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters")
	errOSSBadSHA256    = errs.InvalidArgument.WithMessage("x-oss-content-sha256 must be UNSIGNED-PAYLOAD or a hex SHA-256 of the payload.")
	errOSSAuthz        = errs.InvalidArgument.WithMessage("Authorization header is invalid.")
	errOSSQueryInvalid = errs.InvalidArgument.WithMessage("The x-oss-signature-version, x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature parameters are required and must be valid.")
)

// ossSubResources are the query parameters the OSS V1 signature covers: the
// union of the v1 SDK's list and the v2 SDK's (which adds per-operation
// sub-resources such as "encryption", all of which are listed here). Any
// x-oss-* parameter is signed as well. The last line lists S3
// sub-resources the router knows and OSS clients never send: requiring
// them to be signed keeps them from being appended to a captured request.
var ossSubResources = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`
		acl uploads location cors logging website referer lifecycle delete
		append tagging objectMeta uploadId partNumber security-token position
		img style styleName replication replicationProgress
		replicationLocation cname bucketInfo comp qos live status vod
		startTime endTime symlink response-content-type
		response-content-language response-expires response-cache-control
		response-content-disposition response-content-encoding udf udfName
		udfImage udfId udfImageDesc udfApplication udfApplicationLog restore
		callback callback-var qosInfo policy stat encryption versions
		versioning versionId requestPayment sequential inventory inventoryId
		continuation-token asyncFetch worm wormId wormExtend withHashContext
		transferAcceleration regionList cloudboxes metaQuery resourceGroup
		rtc responseHeader
		attributes legal-hold retention torrent object-lock select
		x-strongroom-origin`) {
		m[k] = true
	}
	return m
}()

// ossTarget returns the bucket and key a request addresses, as the router
// sees them: from the decoded path, the bucket from the Host when
// virtual-hosted.
func ossTarget(r *http.Request, vhostBucket string) (bucket, key string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if vhostBucket != "" {
		return vhostBucket, p
	}
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// ossPath is "/" for the service, "/bucket/" for a bucket and
// "/bucket/key" for an object: the path part of both signatures' resource
// (V4 percent-encodes it).
func ossPath(bucket, key string) string {
	if bucket == "" {
		return "/"
	}
	return "/" + bucket + "/" + key
}

// queryParam is one query parameter, decoded and as sent.
type queryParam struct {
	k, v       string // decoded
	rawK, rawV string // as sent
}

// parseQueryParams splits a raw query into its parameters, in order. ok is
// false when an escape is malformed (such a parameter keeps its raw form).
func parseQueryParams(raw string) (ps []queryParam, ok bool) {
	ok = true
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		rk, rv, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(rk)
		v, err2 := url.QueryUnescape(rv)
		if err1 != nil || err2 != nil {
			ok = false
			k, v = rk, rv
		}
		ps = append(ps, queryParam{k: k, v: v, rawK: rk, rawV: rv})
	}
	return ps, ok
}

// --- V1 ---------------------------------------------------------------------

func (v *Verifier) verifyOSSV1Header(r *http.Request, authz, vhostBucket string) (*Result, error) {
	return v.verifyHMACHeader(r, ossV1, authz, vhostBucket)
}

func (v *Verifier) verifyOSSV1Query(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	return v.verifyHMACQuery(r, ossV1, q, vhostBucket)
}

// ossV1 is OSS V1: x-oss-date, when sent, is signed among the x-oss-*
// headers and the Date line stays Date; presigned URLs leave their own
// parameters out of the resource.
var ossV1 = &hmacScheme{
	name: "oss v1", header: SchemeOSSV1, query: SchemeOSSV1Query,
	authPrefix: "OSS ", akParam: "OSSAccessKeyId", dateHeader: "X-Oss-Date", signedPrefix: "x-oss-", keepDateLine: true,
	errMalformed: errOSSAuthz, errNoDate: errOSSMissingDate, errNoQueryArg: errOSSV1Query,
	match: func(r *http.Request, secret, dateLine, vhostBucket, sig string, presigned bool) bool {
		var skip []string
		if presigned {
			skip = []string{"OSSAccessKeyId", "Signature", "Expires"}
		}
		return ossV1Match(r, secret, dateLine, vhostBucket, sig, skip)
	},
}

// ossV1Match compares the request's V1 signature in constant time. The
// resource is tried with the known sub-resources first and, when that
// fails and other parameters are present, with every parameter (a newer
// SDK may sign a sub-resource this list lacks).
func ossV1Match(r *http.Request, secret, dateLine, vhostBucket, sigB64 string, skip []string) bool {
	got, err := base64.StdEncoding.Strict().DecodeString(sigB64)
	if err != nil {
		return false
	}
	params, _ := parseQueryParams(r.URL.RawQuery)
	bucket, key := ossTarget(r, vhostBucket)
	head := v2Head(r, dateLine, "x-oss-")
	try := func(all bool) bool {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(head))
		m.Write([]byte(ossV1Resource(bucket, key, params, skip, all)))
		return hmac.Equal(m.Sum(nil), got)
	}
	if try(false) {
		return true
	}
	for _, p := range params {
		if !ossSubResources[p.k] && !strings.HasPrefix(p.k, "x-oss-") && !slices.Contains(skip, p.k) {
			return try(true)
		}
	}
	return false
}

// ossV1Resource is the CanonicalizedResource: "/bucket/key" with the raw
// key, then the signed parameters sorted by name with decoded values
// ("name" alone when the value is empty).
func ossV1Resource(bucket, key string, params []queryParam, skip []string, all bool) string {
	var subs []queryParam
	for _, p := range params {
		if slices.Contains(skip, p.k) {
			continue
		}
		if all || ossSubResources[p.k] || strings.HasPrefix(p.k, "x-oss-") {
			subs = append(subs, p)
		}
	}
	return withSubResources(ossPath(bucket, key), subs)
}

// --- V4 ---------------------------------------------------------------------

// ossV4Request is what an OSS V4 signature covers besides the request's
// method, bucket, key, query and header values.
type ossV4Request struct {
	accessKey, date, region, product string
	additional                       []string // AdditionalHeaders, lowercased
	timestamp                        string   // second line of the string to sign, verbatim
	payload                          string
	signature                        [32]byte
}

func (req *ossV4Request) scope() string {
	return req.date + "/" + req.region + "/" + req.product + "/" + ossV4Terminator
}

// parseOSSCredential parses "AK/yyyymmdd/region/oss/aliyun_v4_request"
// (product "oss-cloudbox" for CloudBox), from the right so that an access
// key containing '/' still parses.
func parseOSSCredential(s string, req *ossV4Request) bool {
	p := strings.Split(s, "/")
	n := len(p)
	if n < 5 || p[n-1] != ossV4Terminator || !isDigits(p[n-4], 8) || p[n-3] == "" {
		return false
	}
	switch p[n-2] {
	case "oss", "oss-cloudbox":
	default:
		return false
	}
	req.accessKey, req.date, req.region, req.product = strings.Join(p[:n-4], "/"), p[n-4], p[n-3], p[n-2]
	return req.accessKey != ""
}

// parseOSSAdditional parses an AdditionalHeaders list ("h1;h2").
func parseOSSAdditional(s string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	names := strings.Split(strings.ToLower(s), ";")
	for _, n := range names {
		if n == "" {
			return nil, false
		}
	}
	return names, true
}

func (v *Verifier) verifyOSSV4Header(r *http.Request, authz, vhostBucket string) (*Result, error) {
	var req ossV4Request
	var haveCred, haveAdd, haveSig bool
	for part := range strings.SplitSeq(strings.TrimPrefix(authz, ossV4Algorithm+" "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, detail(errOSSAuthz, "bad component %q", k)
		}
		switch {
		case k == "Credential" && !haveCred:
			if !parseOSSCredential(val, &req) {
				return nil, detail(errOSSAuthz, "bad Credential")
			}
			haveCred = true
		case k == "AdditionalHeaders" && !haveAdd:
			if req.additional, ok = parseOSSAdditional(val); !ok {
				return nil, detail(errOSSAuthz, "bad AdditionalHeaders")
			}
			haveAdd = true
		case k == "Signature" && !haveSig:
			if !decodeSig(&req.signature, val) {
				return nil, detail(errOSSAuthz, "Signature is not 64 hex digits")
			}
			haveSig = true
		default:
			return nil, detail(errOSSAuthz, "unexpected or repeated component %q", k)
		}
	}
	if !haveCred || !haveSig {
		return nil, detail(errOSSAuthz, "Credential and Signature are required")
	}
	// The v2 SDK signs x-oss-date (ISO 8601 basic); the v1 SDK in V4 mode
	// sends no x-oss-date and signs the Date header's string verbatim.
	req.timestamp = r.Header.Get("X-Oss-Date")
	if req.timestamp == "" {
		req.timestamp = r.Header.Get("Date")
	}
	t, ok := parseHTTPTime(req.timestamp)
	if !ok {
		return nil, errOSSMissingDate
	}
	if req.date != t.UTC().Format("20060102") {
		return nil, detail(errOSSAuthz, "credential date %s is not the request date", req.date)
	}
	if err := v.checkSkew(t); err != nil {
		return nil, err
	}
	if req.payload = r.Header.Get(ossContentSHA); req.payload == "" {
		req.payload = unsignedPayload
	}
	if !validOSSPayload(req.payload) {
		return nil, errOSSBadSHA256
	}
	secret, err := v.secret(r.Context(), req.accessKey)
	if err != nil {
		return nil, err
	}
	if !ossV4Match(r, &req, secret, vhostBucket, "") {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (oss v4)", req.accessKey)
	}
	res := &Result{AccessKeyID: req.accessKey, Scheme: SchemeOSSV4, Region: req.region, signed: req.signs}
	return res, setBody(res, r, req.payload, nil)
}

func (v *Verifier) verifyOSSV4Query(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	get := func(k string) (string, error) {
		if vs := q[k]; len(vs) == 1 && vs[0] != "" {
			return vs[0], nil
		}
		return "", detail(errOSSQueryInvalid, "exactly one non-empty %s is required", k)
	}
	var req ossV4Request
	alg, err := get("x-oss-signature-version")
	if err != nil {
		return nil, err
	}
	if alg != ossV4Algorithm {
		return nil, detail(errOSSQueryInvalid, "x-oss-signature-version only supports %s", ossV4Algorithm)
	}
	cred, err := get("x-oss-credential")
	if err != nil {
		return nil, err
	}
	if !parseOSSCredential(cred, &req) {
		return nil, detail(errOSSQueryInvalid, "bad x-oss-credential")
	}
	if req.timestamp, err = get("x-oss-date"); err != nil {
		return nil, err
	}
	t, perr := time.Parse(iso8601Basic, req.timestamp)
	if perr != nil || req.date != req.timestamp[:8] {
		return nil, detail(errOSSQueryInvalid, "x-oss-date must be ISO 8601 basic and match the credential date")
	}
	exp, err := get("x-oss-expires")
	if err != nil {
		return nil, err
	}
	secs, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || secs <= 0 || secs > maxPresignExpires {
		return nil, detail(errOSSQueryInvalid, "x-oss-expires must be between 1 and %d seconds", maxPresignExpires)
	}
	if add := q.Get("x-oss-additional-headers"); add != "" {
		var ok bool
		if req.additional, ok = parseOSSAdditional(add); !ok {
			return nil, detail(errOSSQueryInvalid, "bad x-oss-additional-headers")
		}
	}
	sig, err := get("x-oss-signature")
	if err != nil {
		return nil, err
	}
	if !decodeSig(&req.signature, sig) {
		return nil, detail(errOSSQueryInvalid, "x-oss-signature is not 64 hex digits")
	}
	// Presigned URLs are meant to be used later, so no skew check; only a
	// signing time in the future (beyond the skew allowance) is refused.
	now, expires := v.now(), t.Add(time.Duration(secs)*time.Second)
	if t.Sub(now) > v.maxSkew() {
		return nil, errNotYetValid
	}
	if now.After(expires) {
		return nil, detail(errs.ExpiredToken, "expired at %s", expires.UTC().Format(time.RFC3339))
	}
	if req.payload = r.Header.Get(ossContentSHA); req.payload == "" {
		req.payload = unsignedPayload
	}
	if !validOSSPayload(req.payload) {
		return nil, errOSSBadSHA256
	}
	secret, err := v.secret(r.Context(), req.accessKey)
	if err != nil {
		return nil, err
	}
	if !ossV4Match(r, &req, secret, vhostBucket, "x-oss-signature") {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (oss v4 presigned)", req.accessKey)
	}
	res := &Result{AccessKeyID: req.accessKey, Scheme: SchemeOSSV4Query, Region: req.region, Presigned: true, Expires: expires, signed: req.signs}
	return res, setBody(res, r, req.payload, nil)
}

// validOSSPayload accepts UNSIGNED-PAYLOAD or a hex SHA-256 (OSS has no
// streaming payload modes).
func validOSSPayload(s string) bool {
	if s == unsignedPayload {
		return true
	}
	var sum [32]byte
	return decodeSig(&sum, s)
}

// ossV4Match computes the V4 signature of r and compares it in constant
// time. The canonical query is the RFC 3986 re-encoding of every parameter
// but skip; when that does not match, the query as sent (with '+' read as
// %20, which is what the SDKs sign) is tried.
func ossV4Match(r *http.Request, req *ossV4Request, secret, vhostBucket, skip string) bool {
	bucket, key := ossTarget(r, vhostBucket)
	uri := ossEscapePath(ossPath(bucket, key))
	headers, additional := ossV4Headers(r, req.additional)
	k := ossV4Key(secret, req)
	try := func(query string) bool {
		cr := r.Method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + additional + "\n" + req.payload
		sum := sha256.Sum256([]byte(cr))
		sts := ossV4Algorithm + "\n" + req.timestamp + "\n" + req.scope() + "\n" + hex.EncodeToString(sum[:])
		return hmac.Equal(hmacSHA256(k, sts), req.signature[:])
	}
	params, ok := parseQueryParams(r.URL.RawQuery)
	var cq string
	if ok {
		cq = ossV4Query(params, skip, true)
		if try(cq) {
			return true
		}
	}
	rq := ossV4Query(params, skip, false)
	return (!ok || rq != cq) && try(rq)
}

// ossV4Key is the signing key of an OSS V4 credential scope.
func ossV4Key(secret string, req *ossV4Request) []byte {
	k := hmacSHA256([]byte("aliyun_v4"+secret), req.date)
	k = hmacSHA256(k, req.region)
	k = hmacSHA256(k, req.product)
	return hmacSHA256(k, ossV4Terminator)
}

// ossV4Headers is the canonical headers block (x-oss-*, content-type,
// content-md5 and the additional headers, each "name:value\n") and the
// additional-headers line (listed names that are signed anyway are left
// out, as the SDKs do; sorted).
func ossV4Headers(r *http.Request, additional []string) (string, string) {
	var add []string
	for _, n := range additional {
		if !ossDefaultSigned(n) && !slices.Contains(add, n) {
			add = append(add, n)
		}
	}
	slices.Sort(add)
	var b strings.Builder
	writeSignedHeaders(&b, r, func(lk string) bool { return ossDefaultSigned(lk) || slices.Contains(add, lk) })
	return b.String(), strings.Join(add, ";")
}

func ossDefaultSigned(lk string) bool {
	return strings.HasPrefix(lk, "x-oss-") || lk == "content-type" || lk == "content-md5"
}

// ossV4Query renders the canonical query: parameters sorted by encoded
// name, "name=value", or the bare name when the value is empty. With
// reencode, names and values are decoded and re-encoded per RFC 3986;
// otherwise they are taken as sent, with '+' turned into %20.
func ossV4Query(params []queryParam, skip string, reencode bool) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(params))
	for _, p := range params {
		if skip != "" && p.k == skip {
			continue
		}
		if reencode {
			pairs = append(pairs, pair{uriEncode(p.k), uriEncode(p.v)})
		} else {
			pairs = append(pairs, pair{strings.ReplaceAll(p.rawK, "+", "%20"), strings.ReplaceAll(p.rawV, "+", "%20")})
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		if p.v != "" {
			b.WriteByte('=')
			b.WriteString(p.v)
		}
	}
	return b.String()
}

// ossEscapePath percent-encodes a resource path: RFC 3986 unreserved bytes
// and '/' are kept, every other byte becomes %XX (uppercase hex).
func ossEscapePath(s string) string {
	var b strings.Builder
	for seg := range strings.SplitAfterSeq(s, "/") {
		rest, slash := strings.CutSuffix(seg, "/")
		b.WriteString(uriEncode(rest))
		if slash {
			b.WriteByte('/')
		}
	}
	return b.String()
}

// signs reports whether an OSS V4 signature covers name: every x-oss-*
// header, and the additional headers it lists.
func (req *ossV4Request) signs(name string) bool {
	return strings.HasPrefix(name, "x-oss-") || slices.Contains(req.additional, name)
}
