package policy

import "strings"

// S3ARNPrefix is the prefix of every canonical resource: a bucket is
// "arn:aws:s3:::bucket", an object "arn:aws:s3:::bucket/key".
const S3ARNPrefix = "arn:aws:s3:::"

// resource is one parsed Resource / NotResource entry.
type resource struct {
	all        bool   // "*": every resource
	pattern    string // canonical ARN, possibly with '*' and '?'
	bucketOnly bool   // OBS "obs:*:*:bucket:<pattern>": matches buckets, not objects
}

func (r *resource) match(arn string) bool {
	if r.all {
		return true
	}
	if r.bucketOnly && strings.IndexByte(arn[min(len(arn), len(S3ARNPrefix)):], '/') >= 0 {
		return false
	}
	return wildcard(r.pattern, arn)
}

// CanonicalResource maps a resource as written in a policy of any dialect
// to the canonical ARN form (wildcards are kept):
//
//	S3   arn:aws:s3:::bucket/key*                 -> arn:aws:s3:::bucket/key*
//	OSS  acs:oss:*:*:bucket/key*                  -> arn:aws:s3:::bucket/key*
//	COS  qcs::cos:<region>:uid/<appid>:bucket/key -> arn:aws:s3:::bucket/key
//	     qcs::cos:<region>:uid/<appid>:bucket/    -> arn:aws:s3:::bucket
//	OBS  bucket/key* (bucket policies)            -> arn:aws:s3:::bucket/key*
//	     obs:*:*:object:bucket/key*               -> arn:aws:s3:::bucket/key*
//	     obs:*:*:bucket:bucket                    -> arn:aws:s3:::bucket
//	"*"                                           -> "*"
//
// Region, account and APPID parts are not checked: a strongroom node serves
// one region and one account. It reports false for forms it does not know
// (another service's ARN, for instance).
func CanonicalResource(s string) (string, bool) {
	r, err := parseResource(s)
	if err != nil {
		return "", false
	}
	if r.all {
		return "*", true
	}
	return r.pattern, true
}

func parseResource(s string) (resource, error) {
	if s == "" {
		return resource{}, errorf("empty resource")
	}
	if s == "*" {
		return resource{all: true}, nil
	}
	var rest string
	bucketOnly := false
	switch {
	case strings.HasPrefix(s, "arn:"):
		// arn:<partition>:s3:::<rest>
		p := strings.SplitN(s, ":", 6)
		if len(p) < 6 || p[2] != "s3" || p[3] != "" || p[4] != "" {
			return resource{}, errorf("%q is not an S3 resource ARN (arn:aws:s3:::bucket/key)", s)
		}
		rest = p[5]
	case strings.HasPrefix(s, "acs:"):
		// acs:oss:<region>:<account>:<rest>
		p := strings.SplitN(s, ":", 5)
		if len(p) < 5 || p[1] != "oss" {
			return resource{}, errorf("%q is not an OSS resource (acs:oss:*:*:bucket/key)", s)
		}
		rest = p[4]
	case strings.HasPrefix(s, "qcs:"):
		// qcs::cos:<region>:uid/<appid>:<rest>
		p := strings.SplitN(s, ":", 6)
		if len(p) < 6 || p[1] != "" || p[2] != "cos" {
			return resource{}, errorf("%q is not a COS resource (qcs::cos:<region>:uid/<appid>:bucket/key)", s)
		}
		rest = p[5]
		// COS names the bucket itself "bucket/".
		if i := strings.IndexByte(rest, '/'); i == len(rest)-1 && i > 0 {
			rest = rest[:i]
		}
	case strings.HasPrefix(s, "obs:"):
		// obs:<region>:<account>:object:<bucket/key> or ...:bucket:<bucket>
		p := strings.SplitN(s, ":", 5)
		if len(p) < 5 || (p[3] != "object" && p[3] != "bucket") {
			return resource{}, errorf("%q is not an OBS resource (obs:*:*:object:bucket/key or obs:*:*:bucket:bucket)", s)
		}
		rest = p[4]
		if p[3] == "bucket" {
			if strings.IndexByte(rest, '/') >= 0 {
				return resource{}, errorf("%q: an OBS bucket resource names no object", s)
			}
			bucketOnly = true
		}
	default:
		// OBS bucket policies name resources "bucket" or "bucket/key".
		bucket, _, _ := strings.Cut(s, "/")
		if strings.IndexByte(bucket, ':') >= 0 {
			return resource{}, errorf("unknown resource form %q", s)
		}
		rest = s
	}
	if rest == "" || rest[0] == '/' {
		return resource{}, errorf("%q names no bucket", s)
	}
	if rest == "*" && !bucketOnly {
		return resource{all: true}, nil
	}
	return resource{pattern: S3ARNPrefix + rest, bucketOnly: bucketOnly}, nil
}
