package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kdf"
)

const (
	v4Algorithm  = "AWS4-HMAC-SHA256"
	iso8601Basic = "20060102T150405Z"
	v4Terminator = "aws4_request"

	headerContentSHA256 = "X-Amz-Content-Sha256"

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	maxPresignExpires = 604800 // seconds: S3's limit, one week
)

// v4Scope is the parsed Credential: access key and credential scope.
type v4Scope struct {
	accessKey, date, region, service string
}

func (c v4Scope) String() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + v4Terminator
}

// parseCredential parses "AK/yyyymmdd/region/s3/aws4_request". The scope is
// taken from the right so that an access key containing '/' still parses.
func parseCredential(s string) (v4Scope, bool) {
	p := strings.Split(s, "/")
	n := len(p)
	if n < 5 || p[n-1] != v4Terminator || p[n-2] != "s3" || p[n-3] == "" || !isDigits(p[n-4], 8) {
		return v4Scope{}, false
	}
	c := v4Scope{accessKey: strings.Join(p[:n-4], "/"), date: p[n-4], region: p[n-3], service: p[n-2]}
	return c, c.accessKey != ""
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// v4Request is everything a SigV4 signature covers besides method, path,
// query and header values, which are read from the request itself.
type v4Request struct {
	scope         v4Scope
	signedHeaders string   // as sent
	names         []string // signedHeaders split on ';'
	amzDate       string   // ISO 8601 basic, second line of the string to sign
	payload       string   // last line of the canonical request
	signature     [32]byte // as sent, decoded
}

// parseSignedHeaders splits SignedHeaders and insists on host: without it a
// signature made for one virtual-hosted bucket would be valid for any other.
func parseSignedHeaders(s string) ([]string, bool) {
	names := strings.Split(s, ";")
	for _, n := range names {
		if n == "" {
			return nil, false
		}
	}
	return names, slices.Contains(names, "host")
}

func decodeSig(dst *[32]byte, s string) bool { return decodeHex32(dst, []byte(s)) }

// decodeHex32 decodes exactly 64 hex digits.
func decodeHex32(dst *[32]byte, b []byte) bool {
	if len(b) != 64 {
		return false
	}
	_, err := hex.Decode(dst[:], b)
	return err == nil
}

// parseV4Authorization parses the Authorization header. Parts are separated by
// "," with or without a following space (the OBS SDK omits it).
func parseV4Authorization(authz string) (v4Request, error) {
	var req v4Request
	var haveCred, haveHeaders, haveSig bool
	for part := range strings.SplitSeq(strings.TrimPrefix(authz, v4Algorithm+" "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return req, detail(errs.AuthorizationHeaderMalformed, "bad component %q", k)
		}
		switch {
		case k == "Credential" && !haveCred:
			if req.scope, ok = parseCredential(val); !ok {
				return req, detail(errs.AuthorizationHeaderMalformed, "bad Credential")
			}
			haveCred = true
		case k == "SignedHeaders" && !haveHeaders:
			if req.names, ok = parseSignedHeaders(val); !ok {
				return req, detail(errs.AuthorizationHeaderMalformed, "bad SignedHeaders (host must be signed)")
			}
			req.signedHeaders, haveHeaders = val, true
		case k == "Signature" && !haveSig:
			if !decodeSig(&req.signature, val) {
				return req, detail(errs.AuthorizationHeaderMalformed, "Signature is not 64 hex digits")
			}
			haveSig = true
		default:
			return req, detail(errs.AuthorizationHeaderMalformed, "unexpected or repeated component %q", k)
		}
	}
	if !haveCred || !haveHeaders || !haveSig {
		return req, detail(errs.AuthorizationHeaderMalformed, "Credential, SignedHeaders and Signature are required")
	}
	return req, nil
}

func (v *Verifier) verifyV4Header(r *http.Request, authz string) (*Result, error) {
	req, err := parseV4Authorization(authz)
	if err != nil {
		return nil, err
	}
	// The OBS SDK's V4 mode sends no X-Amz-Date and signs the Date header's
	// instant in ISO 8601 basic form.
	var t time.Time
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		if t, err = time.Parse(iso8601Basic, d); err != nil {
			return nil, errMissingDate
		}
	} else {
		var ok bool
		if t, ok = parseHTTPTime(r.Header.Get("Date")); !ok {
			return nil, errMissingDate
		}
	}
	req.amzDate = t.UTC().Format(iso8601Basic)
	if req.scope.date != req.amzDate[:8] {
		return nil, detail(errs.AuthorizationHeaderMalformed, "credential date %s is not the request date", req.scope.date)
	}
	if err := v.checkSkew(t); err != nil {
		return nil, err
	}

	req.payload = r.Header.Get(headerContentSHA256)
	if req.payload == "" {
		// Generic SigV4 clients hash the body instead of sending the header;
		// that hash is only knowable up front for an empty body.
		if r.ContentLength != 0 {
			return nil, errMissingSHA256
		}
		req.payload = emptySHA256
	}
	if !validPayload(req.payload) {
		return nil, errBadSHA256
	}

	secret, err := v.secret(r.Context(), req.scope.accessKey)
	if err != nil {
		return nil, err
	}
	key := v.keys.get(secret, req.scope)
	if !v4Match(r, &req, key, "") {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s", req.scope.accessKey)
	}

	res := &Result{AccessKeyID: req.scope.accessKey, Scheme: SchemeSigV4, Region: req.scope.region, signed: req.signs}
	var seed *chunkSigner // only a signed chunked body uses one (not a GET)
	if req.payload == streamingSigned || req.payload == streamingSignedTrailer {
		seed = newChunkSigner(key, req.amzDate, req.scope.String(), req.signature)
	}
	if err := setBody(res, r, req.payload, seed); err != nil {
		return nil, err
	}
	return res, nil
}

func (v *Verifier) verifyV4Query(r *http.Request, q url.Values) (*Result, error) {
	get := func(k string) (string, error) {
		if vs := q[k]; len(vs) == 1 && vs[0] != "" {
			return vs[0], nil
		}
		return "", detail(errs.AuthorizationQueryMalformed, "exactly one non-empty %s is required", k)
	}
	var req v4Request
	alg, err := get("X-Amz-Algorithm")
	if err != nil {
		return nil, err
	}
	if alg != v4Algorithm {
		return nil, detail(errs.AuthorizationQueryMalformed, "X-Amz-Algorithm only supports %s", v4Algorithm)
	}
	cred, err := get("X-Amz-Credential")
	if err != nil {
		return nil, err
	}
	var ok bool
	if req.scope, ok = parseCredential(cred); !ok {
		return nil, detail(errs.AuthorizationQueryMalformed, "bad X-Amz-Credential")
	}
	if req.amzDate, err = get("X-Amz-Date"); err != nil {
		return nil, err
	}
	t, perr := time.Parse(iso8601Basic, req.amzDate)
	if perr != nil || req.scope.date != req.amzDate[:8] {
		return nil, detail(errs.AuthorizationQueryMalformed, "X-Amz-Date must be ISO 8601 basic and match the credential date")
	}
	exp, err := get("X-Amz-Expires")
	if err != nil {
		return nil, err
	}
	secs, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || secs < 0 || secs > maxPresignExpires {
		return nil, detail(errs.AuthorizationQueryMalformed, "X-Amz-Expires must be between 0 and %d seconds", maxPresignExpires)
	}
	if req.signedHeaders, err = get("X-Amz-SignedHeaders"); err != nil {
		return nil, err
	}
	if req.names, ok = parseSignedHeaders(req.signedHeaders); !ok {
		return nil, detail(errs.AuthorizationQueryMalformed, "bad X-Amz-SignedHeaders (host must be signed)")
	}
	sig, err := get("X-Amz-Signature")
	if err != nil {
		return nil, err
	}
	if !decodeSig(&req.signature, sig) {
		return nil, detail(errs.AuthorizationQueryMalformed, "X-Amz-Signature is not 64 hex digits")
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

	req.payload = unsignedPayload
	if p := q.Get("X-Amz-Content-Sha256"); p != "" {
		req.payload = p
	}
	if !validPayload(req.payload) || strings.HasPrefix(req.payload, "STREAMING-") {
		return nil, errBadSHA256
	}

	secret, err := v.secret(r.Context(), req.scope.accessKey)
	if err != nil {
		return nil, err
	}
	if !v4Match(r, &req, v.keys.get(secret, req.scope), "X-Amz-Signature") {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (presigned)", req.scope.accessKey)
	}
	res := &Result{AccessKeyID: req.scope.accessKey, Scheme: SchemeSigV4Query, Region: req.scope.region, Presigned: true, Expires: expires, signed: req.signs}
	if err := setBody(res, r, req.payload, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// validPayload reports whether s is a payload-hash line S3 accepts.
func validPayload(s string) bool {
	switch s {
	case unsignedPayload, streamingUnsignedTrailer, streamingSigned, streamingSignedTrailer:
		return true
	}
	var sum [32]byte
	return decodeSig(&sum, s)
}

// v4Match computes the signature of r and compares it in constant time. The
// canonical query is the RFC 3986 re-encoding; when that does not match, the
// raw query as sent is tried, because the OBS SDK signs its raw query (with
// '+' for spaces) instead of the canonical form.
func v4Match(r *http.Request, req *v4Request, key []byte, skipParam string) bool {
	path := rawPath(r)
	headers := canonicalHeaders(r, req.names)
	try := func(query string) bool {
		cr := canonicalRequest(r.Method, path, query, headers, req.signedHeaders, req.payload)
		mac := hmacSHA256(key, stringToSign(req.amzDate, req.scope.String(), cr))
		return hmac.Equal(mac, req.signature[:])
	}
	cq, ok := canonicalQuery(r.URL.RawQuery, skipParam)
	if ok && try(cq) {
		return true
	}
	rq := rawQueryWithout(r.URL.RawQuery, skipParam)
	return (!ok || rq != cq) && try(rq)
}

func canonicalRequest(method, path, query, headers, signedHeaders, payload string) string {
	return method + "\n" + path + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payload
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return v4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func signingKey(secret string, c v4Scope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.service)
	return hmacSHA256(k, v4Terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	var out [32]byte
	kdf.HMAC(&out, key, data) // crypto/hmac's bytes, one allocation instead of seven
	return out[:]
}

// canonicalHeaders renders "name:value\n" for each signed header: values of a
// repeated header joined by ',', each trimmed with inner runs of spaces
// collapsed.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		if name == "host" {
			b.WriteString(host(r))
		} else {
			vals := r.Header.Values(name)
			// A client-side request keeps its length out of r.Header.
			if len(vals) == 0 && name == "content-length" && r.ContentLength > 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				writeCollapsed(&b, v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// writeCollapsed writes v trimmed, with each run of spaces written as one.
func writeCollapsed(b *strings.Builder, v string) {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		b.WriteString(v)
		return
	}
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
}

// canonicalQuery decodes each parameter, re-encodes it per RFC 3986, and
// sorts by name then value. ok is false when the raw query cannot be decoded.
func canonicalQuery(raw, skip string) (string, bool) {
	if raw == "" {
		return "", true
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", false
		}
		if dk != skip {
			pairs = append(pairs, pair{uriEncode(dk), uriEncode(dv)})
		}
	}
	// Sorted on the encoded forms, as AWS specifies (and botocore does).
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), true
}

// rawQueryWithout is the query as sent, minus the skip parameter.
func rawQueryWithout(raw, skip string) string {
	if skip == "" || raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, part := range parts {
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil && dk == skip {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}

// uriEncode is AWS's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ becomes
// %XX with uppercase hex.
func uriEncode(s string) string {
	const hexUpper = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// signHeadersExcluded are headers a client may legitimately change after
// signing (the Go transport sets User-Agent, proxies add others).
var signHeadersExcluded = []string{"authorization", "user-agent", "expect", "transfer-encoding", "x-amzn-trace-id", "host"}

// SignV4 signs r in place with SigV4 header authentication (service s3): it
// sets X-Amz-Date, X-Amz-Content-Sha256 (payloadHash, "" meaning
// UNSIGNED-PAYLOAD) and Authorization, signing host and every header present.
// The path is signed as r.URL.EscapedPath() is sent, without S3-incompatible
// double encoding. Used by the server's own clients and by tests.
func SignV4(r *http.Request, accessKey, secret, region string, t time.Time, payloadHash string) {
	if payloadHash == "" {
		payloadHash = unsignedPayload
	}
	t = t.UTC()
	r.Header.Set("X-Amz-Date", t.Format(iso8601Basic))
	r.Header.Set(headerContentSHA256, payloadHash)
	r.Header.Del("Authorization")

	names := []string{"host"}
	for k := range r.Header {
		if lk := strings.ToLower(k); !slices.Contains(signHeadersExcluded, lk) {
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	req := v4Request{
		scope:         v4Scope{accessKey: accessKey, date: t.Format("20060102"), region: region, service: "s3"},
		signedHeaders: strings.Join(names, ";"),
		names:         names,
		amzDate:       t.Format(iso8601Basic),
		payload:       payloadHash,
	}
	sig := req.sign(r, secret, "")
	r.Header.Set("Authorization", v4Algorithm+" Credential="+accessKey+"/"+req.scope.String()+
		", SignedHeaders="+req.signedHeaders+", Signature="+sig)
}

// PresignV4 turns r into a SigV4 presigned request valid for expires from t
// (at most a week): it appends the X-Amz-* parameters and X-Amz-Signature to
// r.URL.RawQuery, signing only the host header and UNSIGNED-PAYLOAD. The
// request must then carry no x-amz-* header: Verify refuses unsigned ones.
func PresignV4(r *http.Request, accessKey, secret, region string, t time.Time, expires time.Duration) {
	t = t.UTC()
	req := v4Request{
		scope:         v4Scope{accessKey: accessKey, date: t.Format("20060102"), region: region, service: "s3"},
		signedHeaders: "host",
		names:         []string{"host"},
		amzDate:       t.Format(iso8601Basic),
		payload:       unsignedPayload,
	}
	q := url.Values{}
	q.Set("X-Amz-Algorithm", v4Algorithm)
	q.Set("X-Amz-Credential", accessKey+"/"+req.scope.String())
	q.Set("X-Amz-Date", req.amzDate)
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	q.Set("X-Amz-SignedHeaders", req.signedHeaders)
	if r.URL.RawQuery != "" {
		r.URL.RawQuery += "&"
	}
	r.URL.RawQuery += q.Encode()
	r.URL.RawQuery += "&X-Amz-Signature=" + req.sign(r, secret, "X-Amz-Signature")
}

// sign returns the hex signature of r as a client computes it.
func (req *v4Request) sign(r *http.Request, secret, skipParam string) string {
	query, ok := canonicalQuery(r.URL.RawQuery, skipParam)
	if !ok {
		query = rawQueryWithout(r.URL.RawQuery, skipParam)
	}
	cr := canonicalRequest(r.Method, rawPath(r), query, canonicalHeaders(r, req.names), req.signedHeaders, req.payload)
	return hex.EncodeToString(hmacSHA256(signingKey(secret, req.scope), stringToSign(req.amzDate, req.scope.String(), cr)))
}

// signs reports whether the request's SignedHeaders cover name.
func (req *v4Request) signs(name string) bool { return slices.Contains(req.names, name) }

// CheckRegion refuses a SigV4 request whose credential scope names another
// region than expected (the first of want), as S3 does: the error says
// which region to sign for, so clients that follow it (the SDKs' region
// redirects) retry correctly. Any region in want is accepted; requests of
// other schemes pass.
func CheckRegion(res *Result, want ...string) error {
	if res == nil || (res.Scheme != SchemeSigV4 && res.Scheme != SchemeSigV4Query) || len(want) == 0 {
		return nil
	}
	for _, w := range want {
		if res.Region == w {
			return nil
		}
	}
	e := errs.AuthorizationHeaderMalformed.WithMessage(fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", res.Region, want[0]))
	if res.Scheme == SchemeSigV4Query {
		e = errs.AuthorizationQueryMalformed.WithMessage(fmt.Sprintf("Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; expecting '%s'", res.Region, want[0]))
	}
	e.Region = want[0]
	return e
}
