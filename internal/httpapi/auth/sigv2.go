package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// v2SubResources are the query parameters (compared lowercased) that belong
// to the SigV2 CanonicalizedResource: S3's list, the OBS SDK's list (its S3
// and OBS modes share it) and the few more minio-go signs.
var v2SubResources = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`
		acl cors delete encryption lifecycle location logging notification
		partnumber policy requestpayment response-cache-control
		response-content-disposition response-content-encoding
		response-content-language response-content-type response-expires
		restore tagging torrent uploadid uploads versionid versioning versions
		website legal-hold select select-type
		backtosource metadata storageinfo quota storageclass storagepolicy
		deletebucket append modify position replication x-image-process
		x-oss-process x-image-save-bucket x-image-save-object
		ignore-sign-in-query name rename customdomain mirrorbacktosource
		x-obs-accesslabel object-lock retention x-obs-security-token truncate
		length inventory directcoldaccess cdnnotifyconfiguration
		publicaccessblock bucketstatus policystatus attname
		x-strongroom-origin`) {
		m[k] = true
	}
	return m
}()

func (v *Verifier) verifyV2Header(r *http.Request, authz, vhostBucket string) (*Result, error) {
	return v.verifyHMACHeader(r, awsV2, authz, vhostBucket)
}

func (v *Verifier) verifyV2Query(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	return v.verifyHMACQuery(r, awsV2, q, vhostBucket)
}

// awsV2 is AWS Signature Version 2: x-amz-date wins over Date (some
// clients cannot set Date); it is then signed among the x-amz-* headers
// and the Date line stays empty.
var awsV2 = &hmacScheme{
	name: "sigv2", header: SchemeSigV2, query: SchemeSigV2Query,
	authPrefix: "AWS ", akParam: "AWSAccessKeyId", dateHeader: "X-Amz-Date", signedPrefix: "x-amz-", tolerated: "x-obs-",
	errMalformed: errs.AuthorizationHeaderMalformed, errNoDate: errMissingDate, errNoQueryArg: errV2QueryMissing,
	match: func(r *http.Request, secret, dateLine, vhostBucket, sig string, _ bool) bool {
		return v2Match(r, secret, dateLine, vhostBucket, sig)
	},
}

// v2Match compares the request's signature in constant time. S3 leaves
// x-amz-* query parameters out of the resource, the OBS SDK puts them in:
// with such parameters present, both forms are tried.
func v2Match(r *http.Request, secret, dateLine, vhostBucket, sigB64 string) bool {
	got, err := base64.StdEncoding.Strict().DecodeString(sigB64)
	if err != nil {
		return false
	}
	try := func(amzParams bool) bool {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(v2StringToSign(r, dateLine, v2Resource(r, vhostBucket, amzParams))))
		return hmac.Equal(m.Sum(nil), got)
	}
	return try(false) || strings.Contains(strings.ToLower(r.URL.RawQuery), "x-amz-") && try(true)
}

// v2StringToSign is the AWS V2 string to sign: v2Head with the x-amz-*
// headers, then the resource.
func v2StringToSign(r *http.Request, dateLine, resource string) string {
	return v2Head(r, dateLine, "x-amz-") + resource
}

// v2Head is what the V2-style schemes (AWS V2, OBS, OSS V1) sign before
// the resource: VERB, Content-MD5, Content-Type, Date, then the headers
// named prefix* (lowercased, sorted, repeated values joined by ',').
func v2Head(r *http.Request, dateLine, prefix string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + dateLine + "\n")
	writeSignedHeaders(&b, r, func(lk string) bool { return strings.HasPrefix(lk, prefix) })
	return b.String()
}

// v2Resource is "/bucket" for virtual-hosted requests, then the path as sent,
// then the sub-resources sorted by name with their decoded values.
func v2Resource(r *http.Request, vhostBucket string, amzParams bool) string {
	return v2StyleResource(r, vhostBucket, func(k string) bool {
		return v2SubResources[strings.ToLower(k)] || amzParams && strings.HasPrefix(k, "x-amz-")
	})
}

// v2StyleResource is the CanonicalizedResource of the V2-style schemes
// (AWS V2, OBS): the path as sent, prefixed by the virtual-hosted bucket,
// then the query parameters keep selects, sorted by name, with decoded
// values ("name" alone when the value is empty).
func v2StyleResource(r *http.Request, vhostBucket string, keep func(key string) bool) string {
	res := rawPath(r)
	if vhostBucket != "" {
		res = "/" + vhostBucket + res
	}
	var subs []queryParam
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if !keep(k) {
			continue
		}
		if dv, err := url.QueryUnescape(val); err == nil {
			val = dv
		}
		subs = append(subs, queryParam{k: k, v: val})
	}
	return withSubResources(res, subs)
}

// withSubResources is res, then the parameters subs sorted by name (in
// order of appearance for equal names), decoded: "?name=value&name2", a
// name alone when its value is empty.
func withSubResources(res string, subs []queryParam) string {
	if len(subs) == 0 {
		return res
	}
	slices.SortStableFunc(subs, func(a, b queryParam) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	b.WriteString(res)
	for i, p := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
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

// writeSignedHeaders writes "name:value\n" for the selected headers (names
// lowercased, sorted; values trimmed, repeats joined by ',').
func writeSignedHeaders(b *strings.Builder, r *http.Request, include func(lower string) bool) {
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); include(lk) && !slices.Contains(names, lk) {
			names = append(names, lk)
		}
	}
	// Go's server moves Host out of r.Header.
	if include("host") && !slices.Contains(names, "host") {
		names = append(names, "host")
	}
	slices.Sort(names)
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		if name == "host" {
			b.WriteString(host(r))
		} else {
			for i, val := range r.Header.Values(name) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.TrimSpace(val))
			}
		}
		b.WriteByte('\n')
	}
}
