package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Tencent Cloud COS signature: "q-sign-algorithm=sha1&..." in the
// Authorization header, or the same fields as query parameters.
//
//	SignKey      = hex(HMAC-SHA1(SecretKey, q-key-time))
//	HttpString   = lower(method) \n decoded path \n params \n headers \n
//	StringToSign = "sha1" \n q-sign-time \n hex(SHA1(HttpString)) \n
//	Signature    = hex(HMAC-SHA1(SignKey, StringToSign))
//
// params and headers are "key=value" pairs joined by '&', keys lowercased,
// both sides percent-encoded (RFC 3986 unreserved kept), sorted. Validity
// comes from q-sign-time and q-key-time ("start;end" Unix seconds), not
// from a Date header: a request is refused after end, and before start
// beyond the clock-skew allowance.
//
// Bounded, unlike COS (whose FAQ suggests a 50-year window for a permanent
// signature): the header form signs no body, so a captured Authorization
// header can be replayed with any body while it is valid. It is valid
// only within the skew allowance (15 minutes) of its window's start, as
// SigV4's is of its X-Amz-Date: later it is RequestTimeTooSkewed, whatever
// its end. A presigned URL's window may not exceed 7 days, S3's
// X-Amz-Expires limit. Both windows are held to this: the signature covers
// q-key-time always and q-sign-time unless it is the SDK's variant.
//
// Stricter than COS, on purpose: every query parameter and every x-cos-*
// header must be signed (they carry the operation, SSE keys and copy
// sources), and so must the Host, which names the bucket.

const cosAlgorithm = "sha1"

// cosFields are the q-* parameters of a COS signature.
var cosFields = []string{"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"}

var (
	errCOSWindowTooLong    = errs.AuthorizationQueryMalformed.WithMessage("The q-sign-time and q-key-time windows of a presigned URL must not exceed 7 days (604800 seconds).")
	errCOSHostNotSigned    = errs.AccessDenied.WithMessage("The Host header must be signed (q-header-list).")
	errCOSParamsNotSigned  = errs.AccessDenied.WithMessage("There were query parameters present in the request which were not signed")
	errCOSHeadersNotSigned = errs.AccessDenied.WithMessage("There were headers present in the request which were not signed")
)

// cosAuth is a parsed COS signature.
type cosAuth struct {
	ak                 string
	signTime, keyTime  string // as sent: "start;end"
	signStart, signEnd int64  // parsed, Unix seconds
	keyStart, keyEnd   int64
	headers, params    []string // lowercased names, deduplicated, sorted
	signature          [sha1.Size]byte
	presigned          bool
}

func (v *Verifier) verifyCOSHeader(r *http.Request, authz string) (*Result, error) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(authz, "&") {
		k, val, _ := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if _, dup := fields[k]; dup && slices.Contains(cosFields, k) {
			return nil, detail(errs.AuthorizationHeaderMalformed, "duplicate %s", k)
		}
		fields[k] = strings.TrimSpace(val)
	}
	a, err := parseCOSAuth(func(k string) string { return fields[k] }, errs.AuthorizationHeaderMalformed)
	if err != nil {
		return nil, err
	}
	return v.verifyCOS(r, a, SchemeCOS)
}

func (v *Verifier) verifyCOSQuery(r *http.Request, q url.Values) (*Result, error) {
	for _, k := range cosFields {
		if len(q[k]) > 1 {
			return nil, detail(errs.AuthorizationQueryMalformed, "duplicate %s", k)
		}
	}
	a, err := parseCOSAuth(q.Get, errs.AuthorizationQueryMalformed)
	if err != nil {
		return nil, err
	}
	a.presigned = true
	return v.verifyCOS(r, a, SchemeCOSQuery)
}

// parseCOSAuth reads and checks the q-* fields through get.
func parseCOSAuth(get func(string) string, malformed *errs.Error) (*cosAuth, error) {
	a := &cosAuth{ak: get("q-ak"), signTime: get("q-sign-time"), keyTime: get("q-key-time")}
	if alg := get("q-sign-algorithm"); alg != cosAlgorithm {
		return nil, detail(malformed, "q-sign-algorithm must be sha1, got %q", alg)
	}
	if a.ak == "" {
		return nil, detail(malformed, "q-ak is missing")
	}
	var ok bool
	if a.signStart, a.signEnd, ok = cosTimeRange(a.signTime); !ok {
		return nil, detail(malformed, "q-sign-time must be start;end in Unix seconds")
	}
	if a.keyStart, a.keyEnd, ok = cosTimeRange(a.keyTime); !ok {
		return nil, detail(malformed, "q-key-time must be start;end in Unix seconds")
	}
	sig := get("q-signature")
	if len(sig) != 2*sha1.Size {
		return nil, detail(malformed, "q-signature is not 40 hex digits")
	}
	if _, err := hex.Decode(a.signature[:], []byte(sig)); err != nil {
		return nil, detail(malformed, "q-signature is not 40 hex digits")
	}
	a.headers = cosNameList(get("q-header-list"))
	a.params = cosNameList(get("q-url-param-list"))
	return a, nil
}

// cosTimeRange parses "start;end" (Unix seconds, start <= end).
func cosTimeRange(s string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(s, ";")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	return start, end, true
}

// cosNameList splits a ';'-separated name list, lowercased, deduplicated
// (the SDK repeats a name once per value) and sorted.
func cosNameList(s string) []string {
	var out []string
	for n := range strings.SplitSeq(s, ";") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (v *Verifier) verifyCOS(r *http.Request, a *cosAuth, scheme Scheme) (*Result, error) {
	if err := v.checkCOSWindows(a); err != nil {
		return nil, err
	}
	if !slices.Contains(a.headers, "host") {
		return nil, errCOSHostNotSigned
	}
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-cos-") && !slices.Contains(a.headers, lk) {
			return nil, detail(errCOSHeadersNotSigned, "%s", lk)
		}
	}
	params, ok := cosParams(r, a)
	if !ok {
		return nil, errCOSParamsNotSigned
	}
	headers, ok := cosHeaders(r, a.headers)
	if !ok {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (cos): a signed header is missing", a.ak)
	}
	secret, err := v.secret(r.Context(), a.ak)
	if err != nil {
		return nil, err
	}
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	httpString := strings.ToLower(r.Method) + "\n" + path + "\n" + params + "\n" + headers + "\n"
	sum := sha1.Sum([]byte(httpString))
	hashHex := hex.EncodeToString(sum[:])
	signKey := hmacSHA1Hex(secret, a.keyTime)
	match := func(t string) bool {
		m := hmac.New(sha1.New, []byte(signKey))
		m.Write([]byte(cosAlgorithm + "\n" + t + "\n" + hashHex + "\n"))
		return hmac.Equal(m.Sum(nil), a.signature[:])
	}
	// The documentation signs q-sign-time; the Go SDK passes q-key-time
	// (it sets both to the same value). Accept either.
	if !match(a.signTime) && (a.keyTime == a.signTime || !match(a.keyTime)) {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (%s)", a.ak, scheme)
	}
	res := &Result{AccessKeyID: a.ak, Scheme: scheme, signed: func(name string) bool { return slices.Contains(a.headers, name) }}
	if a.presigned {
		res.Presigned, res.Expires = true, time.Unix(min(a.signEnd, a.keyEnd), 0)
	}
	return res, setBody(res, r, unsignedPayload, nil)
}

// checkCOSWindows applies the validity rules above to both windows. The
// end is checked first: an expired signature says so, as COS does.
func (v *Verifier) checkCOSWindows(a *cosAuth) error {
	now := v.now().Unix()
	skew := int64(v.maxSkew() / time.Second)
	for _, w := range [][2]int64{{a.signStart, a.signEnd}, {a.keyStart, a.keyEnd}} {
		start, end := w[0], w[1]
		switch {
		case now > end:
			return detail(errs.ExpiredToken, "expired at %s", time.Unix(end, 0).UTC().Format(time.RFC3339))
		case a.presigned && end-start > maxPresignExpires:
			return detail(errCOSWindowTooLong, "window %ds", end-start)
		case a.presigned && now < start-skew:
			return errNotYetValid
		case !a.presigned:
			// A header signature is as fresh as its window's start.
			if err := v.checkSkew(time.Unix(start, 0)); err != nil {
				return err
			}
		}
	}
	return nil
}

func hmacSHA1Hex(key, msg string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// cosParams formats the query parameters (the signature's own q-* fields
// excepted in the presigned form) and checks that exactly the signed ones
// are present. Parsing follows url.ParseQuery, as the SDK's
// req.URL.Query() does.
func cosParams(r *http.Request, a *cosAuth) (string, bool) {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	type kv struct{ k, v string }
	var pairs []kv
	var names []string
	for k, vs := range q {
		if a.presigned && slices.Contains(cosFields, k) {
			continue
		}
		ek := strings.ToLower(cosEncode(k))
		names = append(names, ek)
		for _, val := range vs {
			pairs = append(pairs, kv{ek, cosEncode(val)})
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if !slices.Equal(names, a.params) {
		return "", false
	}
	slices.SortFunc(pairs, func(x, y kv) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String(), true
}

// cosHeaders formats the signed headers (names as listed, every value,
// sorted). The Host header is r.Host: Go's server moves it out of Header.
func cosHeaders(r *http.Request, names []string) (string, bool) {
	var b strings.Builder
	for i, n := range names {
		var vals []string
		if n == "host" {
			if h := host(r); h != "" {
				vals = []string{h}
			}
		} else {
			vals = r.Header.Values(n)
		}
		if len(vals) == 0 {
			return "", false
		}
		enc := make([]string, len(vals))
		for j, val := range vals {
			enc[j] = cosEncode(val)
		}
		slices.Sort(enc)
		for j, e := range enc {
			if i > 0 || j > 0 {
				b.WriteByte('&')
			}
			b.WriteString(n + "=" + e)
		}
	}
	return b.String(), true
}

// cosEncode is COS's URL encoding: RFC 3986 unreserved bytes kept, every
// other byte %XX with uppercase hex, which is AWS's UriEncode.
func cosEncode(s string) string { return uriEncode(s) }
