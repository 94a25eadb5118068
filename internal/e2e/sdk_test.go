package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkModes are the ways aws-sdk-go-v2 reaches a node: plain HTTP (raw
// bodies, hex payload hash, x-amz-checksum-crc32 header), HTTPS
// (aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies with a CRC32
// trailer) and virtual-hosted style (bucket.localhost).
var sdkModes = []mode{
	{name: "http"},
	{name: "https", tls: true},
	{name: "vhost", vhost: true},
}

// TestS3SDK runs the whole S3 surface of issue 2 through aws-sdk-go-v2 in
// every mode, each mode against its own node.
func TestS3SDK(t *testing.T) {
	t.Parallel()
	suite := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Buckets", sdkBuckets},
		{"InvalidBucketNames", sdkInvalidBucketNames},
		{"ObjectMetadata", sdkObjectMetadata},
		{"ObjectBasics", sdkObjectBasics},
		{"Ranges", sdkRanges},
		{"Conditionals", sdkConditionals},
		{"ResponseOverrides", sdkResponseOverrides},
		{"Integrity", sdkIntegrity},
		{"Checksums", sdkChecksums},
		{"TamperedBody", sdkTamperedBody},
		{"Delete", sdkDelete},
		{"Copy", sdkCopy},
		{"List", sdkList},
		{"ListEncodingURL", sdkListEncoding},
		{"Multipart", sdkMultipart},
		{"MultipartErrors", sdkMultipartErrors},
		{"Access", sdkAccess},
		{"Presign", sdkPresign},
	}
	for _, m := range sdkModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			t.Cleanup(func() { e.checkFraming(t, m) })
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e)
				})
			}
		})
	}
}

// checkFraming proves a mode sent what it is meant to exercise.
func (e *env) checkFraming(t *testing.T, m mode) {
	t.Helper()
	var want []string
	switch {
	case m.tls:
		want = []string{"payload:STREAMING-UNSIGNED-PAYLOAD-TRAILER", "content-encoding:aws-chunked", "trailer:x-amz-checksum-crc32"}
	case m.vhost:
		want = []string{"vhost", "payload:hex", "header:x-amz-checksum-crc32"}
	default:
		want = []string{"payload:hex", "header:x-amz-checksum-crc32"}
	}
	t.Logf("mode %s framing: %v", m.name, e.wire.seen)
	if e.wire.saw("put-object") < 10 {
		return // a -run filter left out the uploads
	}
	for _, k := range want {
		if e.wire.saw(k) == 0 {
			t.Errorf("mode %s never sent %s: %v", m.name, k, e.wire.seen)
		}
	}
	if !m.tls && e.wire.saw("content-encoding:aws-chunked") > 0 {
		t.Errorf("mode %s sent aws-chunked bodies", m.name)
	}
}

// newBucket creates a bucket for one test.
func newBucket(t *testing.T, c *s3.Client, prefix string) string {
	t.Helper()
	b := bucketName(prefix)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", b, err)
	}
	return b
}

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

func get(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	return readAll(t, out.Body)
}

func sdkBuckets(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)

	eu := bucketName("eu")
	out, err := c.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                    aws.String(eu),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1},
	})
	if err != nil {
		t.Fatalf("CreateBucket with LocationConstraint: %v", err)
	}
	if s := status(t, out.ResultMetadata); s != http.StatusOK {
		t.Errorf("CreateBucket status %d", s)
	}
	loc := must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(eu)}))(t)
	if loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Errorf("GetBucketLocation = %q, want eu-west-1", loc.LocationConstraint)
	}
	hb := must(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(eu)}))(t)
	if got := aws.ToString(hb.BucketRegion); got != "eu-west-1" {
		t.Errorf("HeadBucket region %q, want eu-west-1", got)
	}

	plain := newBucket(t, c, "plain")
	loc = must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(plain)}))(t)
	if loc.LocationConstraint != "" {
		t.Errorf("GetBucketLocation of a us-east-1 bucket = %q, want empty", loc.LocationConstraint)
	}
	hb = must(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(plain)}))(t)
	if got := aws.ToString(hb.BucketRegion); got != region {
		t.Errorf("HeadBucket region %q, want %s", got, region)
	}

	lb := must(c.ListBuckets(ctx, &s3.ListBucketsInput{}))(t)
	found := map[string]bool{}
	var names []string
	for _, b := range lb.Buckets {
		found[aws.ToString(b.Name)] = true
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil || time.Since(*b.CreationDate) > time.Hour {
			t.Errorf("bucket %s creation date %v", aws.ToString(b.Name), b.CreationDate)
		}
	}
	if !found[eu] || !found[plain] {
		t.Errorf("ListBuckets = %v, want %s and %s", names, eu, plain)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("ListBuckets not sorted: %v", names)
	}
	if lb.Owner == nil || aws.ToString(lb.Owner.ID) == "" {
		t.Errorf("ListBuckets owner %+v", lb.Owner)
	}

	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(plain)})
	wantAPIError(t, err, http.StatusConflict, "BucketAlreadyOwnedByYou")

	missing := bucketName("missing")
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(missing)})
	wantAPIError(t, err, http.StatusNotFound, "NotFound")
	_, err = c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(missing)})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(missing)})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(missing)})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(missing), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(missing), Key: aws.String("k")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")

	put(t, c, plain, "keep/me", []byte("x"))
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(plain)})
	wantAPIError(t, err, http.StatusConflict, "BucketNotEmpty")
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(plain), Key: aws.String("keep/me")}))(t)
	db := must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(plain)}))(t)
	if s := status(t, db.ResultMetadata); s != http.StatusNoContent {
		t.Errorf("DeleteBucket status %d, want 204", s)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(plain)})
	wantAPIError(t, err, http.StatusNotFound, "NotFound")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(plain)})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	// The name is free again.
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(plain)}))(t)
}

func sdkInvalidBucketNames(t *testing.T, e *env) {
	c := e.root(t)
	for _, name := range []string{
		"ab",                    // too short
		strings.Repeat("a", 64), // too long
		"Upper-case",
		"under_score",
		"-leading-dash",
		"trailing-dash-",
		"double..dot",
		"dot.-dash",
		"192.168.5.4", // IP address
	} {
		_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
		var re *smithyhttp.ResponseError
		if err != nil && !errors.As(err, &re) {
			// The SDK refused to send it: nothing to prove against the server.
			t.Logf("%q: refused client-side: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) { wantAPIError(t, err, http.StatusBadRequest, "InvalidBucketName") })
	}
	// The boundaries are valid.
	for _, name := range []string{"abc", strings.Repeat("b", 63), "dots.and-dashes.9"} {
		if e.name == "vhost" && strings.Contains(name, ".") {
			continue // not addressable as bucket.localhost
		}
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Errorf("CreateBucket %q: %v", name, err)
		}
	}
}

// objectHeaders are the system headers a PUT stores and GET/HEAD return.
var (
	metaExpires = time.Date(2031, 4, 5, 6, 7, 8, 0, time.UTC)
	userMeta    = map[string]string{"color": "blue", "two-words": "hello world"}
)

func sdkObjectMetadata(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "meta")
	body := []byte("metadata round trip")
	out := must(c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b), Key: aws.String("doc.txt"), Body: bytes.NewReader(body),
		ContentType:        aws.String("text/plain; charset=utf-8"),
		ContentDisposition: aws.String(`attachment; filename="doc.txt"`),
		ContentEncoding:    aws.String("x-custom"),
		ContentLanguage:    aws.String("en-GB"),
		CacheControl:       aws.String("max-age=60"),
		Expires:            aws.Time(metaExpires),
		Metadata:           userMeta,
	}))(t)
	if got, want := aws.ToString(out.ETag), quoted(md5hex(body)); got != want {
		t.Errorf("PutObject ETag %s, want %s", got, want)
	}
	check := func(t *testing.T, ct, cd, ce, cl, cc, exp *string, um map[string]string, n *int64) {
		t.Helper()
		for _, f := range []struct{ name, got, want string }{
			{"Content-Type", aws.ToString(ct), "text/plain; charset=utf-8"},
			{"Content-Disposition", aws.ToString(cd), `attachment; filename="doc.txt"`},
			{"Content-Encoding", aws.ToString(ce), "x-custom"}, // aws-chunked must be stripped
			{"Content-Language", aws.ToString(cl), "en-GB"},
			{"Cache-Control", aws.ToString(cc), "max-age=60"},
			{"Expires", aws.ToString(exp), metaExpires.Format(http.TimeFormat)},
		} {
			if f.got != f.want {
				t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
			}
		}
		if len(um) != len(userMeta) {
			t.Errorf("user metadata %v, want %v", um, userMeta)
		}
		for k, v := range userMeta {
			if um[k] != v {
				t.Errorf("user metadata %s = %q, want %q", k, um[k], v)
			}
		}
		if aws.ToInt64(n) != int64(len(body)) {
			t.Errorf("Content-Length %d, want %d", aws.ToInt64(n), len(body))
		}
	}
	g := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt")}))(t)
	if got := readAll(t, g.Body); !bytes.Equal(got, body) {
		t.Errorf("GetObject body %q", got)
	}
	t.Run("Get", func(t *testing.T) {
		check(t, g.ContentType, g.ContentDisposition, g.ContentEncoding, g.ContentLanguage, g.CacheControl, g.ExpiresString, g.Metadata, g.ContentLength)
	})
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt")}))(t)
	t.Run("Head", func(t *testing.T) {
		check(t, h.ContentType, h.ContentDisposition, h.ContentEncoding, h.ContentLanguage, h.CacheControl, h.ExpiresString, h.Metadata, h.ContentLength)
		if aws.ToString(h.ETag) != quoted(md5hex(body)) {
			t.Errorf("HeadObject ETag %s", aws.ToString(h.ETag))
		}
		if h.LastModified == nil || time.Since(*h.LastModified) > time.Minute {
			t.Errorf("HeadObject LastModified %v", h.LastModified)
		}
	})

	// Nothing set, nothing returned. (The SDK always sends a Content-Type;
	// the binary/octet-stream default is proven in raw_test.go.)
	put(t, c, b, "untyped", []byte("x"))
	h = must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("untyped")}))(t)
	if len(h.Metadata) != 0 || h.ContentEncoding != nil || h.CacheControl != nil {
		t.Errorf("unset headers returned: meta %v encoding %v cache %v", h.Metadata, h.ContentEncoding, h.CacheControl)
	}
}

func sdkObjectBasics(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "basic")

	// Keys with characters that need escaping in the path.
	for _, key := range []string{"plain", "dir/sub dir/file name.txt", "ünïcødé/ключ/日本", "a+b&c=d?e#f;g", "trailing/", "%2F-literal-percent",
		"double//slash", "/leading-slash", "dot/./seg", "dotdot/../seg", "tilde~*'()!$,@:", " "} {
		body := []byte("body of " + key)
		put(t, c, b, key, body)
		if got := get(t, c, b, key); !bytes.Equal(got, body) {
			t.Errorf("key %q: body %q", key, got)
		}
	}

	// Empty object.
	put(t, c, b, "empty", nil)
	g := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("empty")}))(t)
	if got := readAll(t, g.Body); len(got) != 0 || aws.ToInt64(g.ContentLength) != 0 {
		t.Errorf("empty object: %d bytes, Content-Length %d", len(got), aws.ToInt64(g.ContentLength))
	}
	if aws.ToString(g.ETag) != quoted(md5hex(nil)) {
		t.Errorf("empty object ETag %s", aws.ToString(g.ETag))
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("empty"), Range: aws.String("bytes=0-")})
	wantAPIError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")

	// Overwrite replaces body and ETag.
	put(t, c, b, "over", []byte("first"))
	o2 := put(t, c, b, "over", []byte("second version"))
	if got := get(t, c, b, "over"); string(got) != "second version" {
		t.Errorf("after overwrite: %q", got)
	}
	if aws.ToString(o2.ETag) != quoted(md5hex([]byte("second version"))) {
		t.Errorf("overwrite ETag %s", aws.ToString(o2.ETag))
	}

	// Conditional writes.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("over"), Body: strings.NewReader("no"), IfNoneMatch: aws.String("*")})
	wantAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("fresh"), Body: strings.NewReader("yes"), IfNoneMatch: aws.String("*")}))(t)
	if got := get(t, c, b, "over"); string(got) != "second version" {
		t.Errorf("failed conditional write changed the object: %q", got)
	}

	// Limits: key length and user metadata size.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	wantAPIError(t, err, http.StatusBadRequest, "KeyTooLongError")
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(strings.Repeat("k", 1024)), Body: strings.NewReader("x")}))(t)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("fat-meta"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"big": strings.Repeat("m", 2100)}})
	wantAPIError(t, err, http.StatusBadRequest, "MetadataTooLarge")

	// Missing keys.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
	wantAPIError(t, err, http.StatusNotFound, "NotFound")
}

func sdkRanges(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "range")
	body := []byte("abcdefghijklmnopqrstuvwxyz")
	put(t, c, b, "alpha", body)
	for _, tc := range []struct {
		rng          string
		status       int
		want         string
		contentRange string
		code         string
	}{
		{"bytes=2-5", 206, "cdef", "bytes 2-5/26", ""},
		{"bytes=0-0", 206, "a", "bytes 0-0/26", ""},
		{"bytes=-3", 206, "xyz", "bytes 23-25/26", ""},         // suffix
		{"bytes=20-", 206, "uvwxyz", "bytes 20-25/26", ""},     // open
		{"bytes=24-100", 206, "yz", "bytes 24-25/26", ""},      // end clamped
		{"bytes=-100", 206, string(body), "bytes 0-25/26", ""}, // suffix longer than object
		{"bytes=25-25", 206, "z", "bytes 25-25/26", ""},        // last byte
		{"bytes=26-", 416, "", "", "InvalidRange"},             // starts at size
		{"bytes=30-40", 416, "", "", "InvalidRange"},           // beyond
		{"bytes=5-2", 200, string(body), "", ""},               // malformed: ignored
		{"bytes=0-1,4-5", 200, string(body), "", ""},           // multi-range: ignored
		{"pages=1-2", 200, string(body), "", ""},               // other unit: ignored
	} {
		t.Run(tc.rng, func(t *testing.T) {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("alpha"), Range: aws.String(tc.rng)})
			if tc.code != "" {
				wantAPIError(t, err, tc.status, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, out.Body)
			if s := status(t, out.ResultMetadata); s != tc.status {
				t.Errorf("status %d, want %d", s, tc.status)
			}
			if string(got) != tc.want {
				t.Errorf("body %q, want %q", got, tc.want)
			}
			if aws.ToString(out.ContentRange) != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", aws.ToString(out.ContentRange), tc.contentRange)
			}
			if aws.ToInt64(out.ContentLength) != int64(len(tc.want)) {
				t.Errorf("Content-Length %d, want %d", aws.ToInt64(out.ContentLength), len(tc.want))
			}
		})
	}
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("alpha"), Range: aws.String("bytes=-4")}))(t)
	if aws.ToInt64(h.ContentLength) != 4 || aws.ToString(h.ContentRange) != "bytes 22-25/26" {
		t.Errorf("HEAD with range: length %d range %q", aws.ToInt64(h.ContentLength), aws.ToString(h.ContentRange))
	}
}

func sdkConditionals(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "cond")
	put(t, c, b, "k", []byte("conditional"))
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	etag := aws.ToString(h.ETag)
	lm := *h.LastModified
	past, future := lm.Add(-time.Hour), lm.Add(time.Hour)
	for _, tc := range []struct {
		name                     string
		ifMatch, ifNoneMatch     string
		ifModSince, ifUnmodSince *time.Time
		status                   int
		code                     string // for GET; HEAD has no body and gets the status text
	}{
		{"If-Match hit", etag, "", nil, nil, 200, ""},
		{"If-Match unquoted hit", strings.Trim(etag, `"`), "", nil, nil, 200, ""},
		{"If-Match star", "*", "", nil, nil, 200, ""},
		{"If-Match list", `"nope", ` + etag, "", nil, nil, 200, ""},
		{"If-Match miss", `"0123456789abcdef0123456789abcdef"`, "", nil, nil, 412, "PreconditionFailed"},
		{"If-None-Match hit", "", etag, nil, nil, 304, "NotModified"},
		{"If-None-Match star", "", "*", nil, nil, 304, "NotModified"},
		{"If-None-Match miss", "", `"other"`, nil, nil, 200, ""},
		{"If-Modified-Since past", "", "", &past, nil, 200, ""},
		{"If-Modified-Since future", "", "", &future, nil, 304, "NotModified"},
		{"If-Modified-Since exact", "", "", &lm, nil, 304, "NotModified"},
		{"If-Unmodified-Since future", "", "", nil, &future, 200, ""},
		{"If-Unmodified-Since exact", "", "", nil, &lm, 200, ""},
		{"If-Unmodified-Since past", "", "", nil, &past, 412, "PreconditionFailed"},
		// RFC 7232 / S3: If-Match true wins over If-Unmodified-Since false,
		{"If-Match beats If-Unmodified-Since", etag, "", nil, &past, 200, ""},
		// and If-None-Match false with If-Modified-Since true is 304.
		{"If-None-Match false with If-Modified-Since true", "", etag, &past, nil, 304, "NotModified"},
		{"If-None-Match true beats If-Modified-Since false", "", `"other"`, &future, nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), IfModifiedSince: tc.ifModSince, IfUnmodifiedSince: tc.ifUnmodSince}
			hin := &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), IfModifiedSince: tc.ifModSince, IfUnmodifiedSince: tc.ifUnmodSince}
			if tc.ifMatch != "" {
				in.IfMatch, hin.IfMatch = aws.String(tc.ifMatch), aws.String(tc.ifMatch)
			}
			if tc.ifNoneMatch != "" {
				in.IfNoneMatch, hin.IfNoneMatch = aws.String(tc.ifNoneMatch), aws.String(tc.ifNoneMatch)
			}
			out, err := c.GetObject(ctx, in)
			_, herr := c.HeadObject(ctx, hin)
			if tc.status != 200 {
				wantAPIError(t, err, tc.status, tc.code)
				headCode := map[int]string{304: "NotModified", 412: "PreconditionFailed"}[tc.status]
				wantAPIError(t, herr, tc.status, headCode)
				return
			}
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			if got := readAll(t, out.Body); string(got) != "conditional" {
				t.Errorf("GET body %q", got)
			}
			if herr != nil {
				t.Errorf("HEAD: %v", herr)
			}
		})
	}
}

func sdkResponseOverrides(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "override")
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("data"), ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=1")}))(t)
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	out := must(c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b), Key: aws.String("k"),
		ResponseContentType:        aws.String("text/csv"),
		ResponseContentDisposition: aws.String(`attachment; filename="report 1.csv"`),
		ResponseContentEncoding:    aws.String("x-override"),
		ResponseContentLanguage:    aws.String("de-CH"),
		ResponseCacheControl:       aws.String("no-store"),
		ResponseExpires:            aws.Time(exp),
	}))(t)
	readAll(t, out.Body)
	for _, f := range []struct{ name, got, want string }{
		{"Content-Type", aws.ToString(out.ContentType), "text/csv"},
		{"Content-Disposition", aws.ToString(out.ContentDisposition), `attachment; filename="report 1.csv"`},
		{"Content-Encoding", aws.ToString(out.ContentEncoding), "x-override"},
		{"Content-Language", aws.ToString(out.ContentLanguage), "de-CH"},
		{"Cache-Control", aws.ToString(out.CacheControl), "no-store"},
		{"Expires", aws.ToString(out.ExpiresString), exp.Format(http.TimeFormat)},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	// Overrides do not change what is stored.
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	if aws.ToString(h.ContentType) != "text/plain" || aws.ToString(h.CacheControl) != "max-age=1" {
		t.Errorf("stored headers changed: %q %q", aws.ToString(h.ContentType), aws.ToString(h.CacheControl))
	}
}

func crc32b64(b []byte) string {
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(s[:])
}

func crc32cb64(b []byte) string {
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.StdEncoding.EncodeToString(s[:])
}

func sdkIntegrity(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "digest")
	body := []byte("the integrity of this body matters")
	other := []byte("something else entirely")
	for _, tc := range []struct {
		name   string
		in     s3.PutObjectInput
		status int
		code   string
	}{
		{"Content-MD5 ok", s3.PutObjectInput{ContentMD5: aws.String(md5b64(body))}, 200, ""},
		{"Content-MD5 mismatch", s3.PutObjectInput{ContentMD5: aws.String(md5b64(other))}, 400, "BadDigest"},
		{"Content-MD5 malformed", s3.PutObjectInput{ContentMD5: aws.String("not-an-md5")}, 400, "InvalidDigest"},
		{"crc32 ok", s3.PutObjectInput{ChecksumCRC32: aws.String(crc32b64(body))}, 200, ""},
		{"crc32 mismatch", s3.PutObjectInput{ChecksumCRC32: aws.String(crc32b64(other))}, 400, "BadDigest"},
		{"crc32c mismatch", s3.PutObjectInput{ChecksumCRC32C: aws.String(crc32cb64(other))}, 400, "BadDigest"},
		{"sha256 ok", s3.PutObjectInput{ChecksumSHA256: aws.String(sha256b64(body))}, 200, ""},
		{"sha256 mismatch", s3.PutObjectInput{ChecksumSHA256: aws.String(sha256b64(other))}, 400, "BadDigest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "-")
			in := tc.in
			in.Bucket, in.Key, in.Body = aws.String(b), aws.String(key), bytes.NewReader(body)
			_, err := c.PutObject(ctx, &in)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := get(t, c, b, key); !bytes.Equal(got, body) {
					t.Errorf("body %q", got)
				}
				return
			}
			wantAPIError(t, err, tc.status, tc.code)
			// A refused upload leaves nothing behind.
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			wantAPIError(t, err, http.StatusNotFound, "NotFound")
		})
	}
	// A bad digest never replaces an existing object.
	put(t, c, b, "stable", body)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("stable"), Body: bytes.NewReader(other), ContentMD5: aws.String(md5b64(body))})
	wantAPIError(t, err, http.StatusBadRequest, "BadDigest")
	if got := get(t, c, b, "stable"); !bytes.Equal(got, body) {
		t.Errorf("object replaced by a failed upload: %q", got)
	}
}

func sdkChecksums(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "cksum")
	body := bytes.Repeat([]byte("checksummed "), 1000)

	// Default client: the SDK computes CRC32 (header over HTTP, trailer over HTTPS).
	po := put(t, c, b, "crc", body)
	if aws.ToString(po.ChecksumCRC32) != crc32b64(body) {
		t.Errorf("PutObject echoed CRC32 %q, want %q", aws.ToString(po.ChecksumCRC32), crc32b64(body))
	}
	g := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("crc"), ChecksumMode: types.ChecksumModeEnabled}))(t)
	if got := readAll(t, g.Body); !bytes.Equal(got, body) { // the SDK validates CRC32 while reading
		t.Error("body differs")
	}
	if aws.ToString(g.ChecksumCRC32) != crc32b64(body) {
		t.Errorf("GetObject CRC32 %q, want %q", aws.ToString(g.ChecksumCRC32), crc32b64(body))
	}
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("crc"), ChecksumMode: types.ChecksumModeEnabled}))(t)
	if aws.ToString(h.ChecksumCRC32) != crc32b64(body) {
		t.Errorf("HeadObject CRC32 %q, want %q", aws.ToString(h.ChecksumCRC32), crc32b64(body))
	}
	// (Without checksum mode none is returned: the SDK always sends it, so
	// raw_test.go proves that.)
	// A range GET never carries the whole object's checksum.
	g = must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("crc"), Range: aws.String("bytes=10-99"), ChecksumMode: types.ChecksumModeEnabled}))(t)
	if got := readAll(t, g.Body); !bytes.Equal(got, body[10:100]) {
		t.Error("range body differs")
	}
	if g.ChecksumCRC32 != nil || g.ChecksumSHA256 != nil || g.ChecksumCRC32C != nil || g.ChecksumCRC64NVME != nil || g.ChecksumSHA1 != nil {
		t.Errorf("range GET returned a checksum: crc32 %v sha256 %v", aws.ToString(g.ChecksumCRC32), aws.ToString(g.ChecksumSHA256))
	}

	// SHA-256 asked of the SDK.
	po = must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("sha"), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}))(t)
	if aws.ToString(po.ChecksumSHA256) != sha256b64(body) {
		t.Errorf("PutObject echoed SHA256 %q", aws.ToString(po.ChecksumSHA256))
	}
	g = must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("sha"), ChecksumMode: types.ChecksumModeEnabled}))(t)
	readAll(t, g.Body)
	if aws.ToString(g.ChecksumSHA256) != sha256b64(body) {
		t.Errorf("GetObject SHA256 %q, want %q", aws.ToString(g.ChecksumSHA256), sha256b64(body))
	}
	// CRC32C asked of the SDK.
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("crc32c"), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}))(t)
	g = must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("crc32c"), ChecksumMode: types.ChecksumModeEnabled}))(t)
	readAll(t, g.Body)
	if aws.ToString(g.ChecksumCRC32C) != crc32cb64(body) {
		t.Errorf("GetObject CRC32C %q, want %q", aws.ToString(g.ChecksumCRC32C), crc32cb64(body))
	}
}

func sdkDelete(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "del")
	for _, k := range []string{"a", "b", "c", "d", "e f", "keep"} {
		put(t, c, b, k, []byte(k))
	}
	d := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("a")}))(t)
	if s := status(t, d.ResultMetadata); s != http.StatusNoContent {
		t.Errorf("DeleteObject status %d", s)
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("a")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	d = must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("a")}))(t)
	if s := status(t, d.ResultMetadata); s != http.StatusNoContent {
		t.Errorf("DeleteObject of a missing key: status %d, want 204", s)
	}

	ids := func(keys ...string) []types.ObjectIdentifier {
		var out []types.ObjectIdentifier
		for _, k := range keys {
			out = append(out, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	dm := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids("b", "e f", "never-existed")}}))(t)
	var deleted []string
	for _, x := range dm.Deleted {
		deleted = append(deleted, aws.ToString(x.Key))
	}
	sort.Strings(deleted)
	if want := []string{"b", "e f", "never-existed"}; !slices.Equal(deleted, want) {
		t.Errorf("DeleteObjects deleted %q, want %q", deleted, want)
	}
	if len(dm.Errors) != 0 {
		t.Errorf("DeleteObjects errors %+v", dm.Errors)
	}
	dq := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids("c", "d"), Quiet: aws.Bool(true)}}))(t)
	if len(dq.Deleted) != 0 || len(dq.Errors) != 0 {
		t.Errorf("quiet DeleteObjects reported %d deleted, %d errors", len(dq.Deleted), len(dq.Errors))
	}
	l := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)}))(t)
	if len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "keep" {
		var keys []string
		for _, o := range l.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		t.Errorf("after deletes: %q, want [keep]", keys)
	}
	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucketName("gone")), Delete: &types.Delete{Objects: ids("x")}})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
}

// copySource is the x-amz-copy-source value for bucket/key.
func copySource(bucket, key string) *string {
	return aws.String(bucket + "/" + url.PathEscape(key))
}

func sdkCopy(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "copy")
	b2 := newBucket(t, c, "copydst")
	body := []byte("copy me, please")
	src := "src dir/ünï source.txt"
	must(c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b), Key: aws.String(src), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=5"), Metadata: map[string]string{"color": "blue"},
	}))(t)
	sh := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(src)}))(t)
	etag, lm := aws.ToString(sh.ETag), *sh.LastModified

	// COPY (the default directive) keeps the metadata; works across buckets.
	co := must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("copied"), CopySource: copySource(b, src)}))(t)
	if co.CopyObjectResult == nil || aws.ToString(co.CopyObjectResult.ETag) != etag {
		t.Errorf("CopyObject ETag %v, want %s", co.CopyObjectResult, etag)
	}
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b2), Key: aws.String("copied")}))(t)
	if aws.ToString(h.ContentType) != "text/plain" || aws.ToString(h.CacheControl) != "max-age=5" || h.Metadata["color"] != "blue" {
		t.Errorf("COPY lost metadata: %q %q %v", aws.ToString(h.ContentType), aws.ToString(h.CacheControl), h.Metadata)
	}
	if got := get(t, c, b2, "copied"); !bytes.Equal(got, body) {
		t.Errorf("copy body %q", got)
	}
	// A copy source with a leading slash names the same object.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("slash"), CopySource: aws.String("/" + b + "/" + url.PathEscape(src))}))(t)
	if got := get(t, c, b, "slash"); !bytes.Equal(got, body) {
		t.Errorf("copy with a leading slash: %q", got)
	}
	// Explicit COPY ignores metadata sent with the request.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy2"), CopySource: copySource(b, src),
		MetadataDirective: types.MetadataDirectiveCopy, Metadata: map[string]string{"color": "red"}}))(t)
	h = must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("copy2")}))(t)
	if h.Metadata["color"] != "blue" {
		t.Errorf("COPY directive took request metadata: %v", h.Metadata)
	}

	// REPLACE takes the request's metadata.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("replaced"), CopySource: copySource(b, src),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("application/json"), Metadata: map[string]string{"shape": "round"}}))(t)
	h = must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("replaced")}))(t)
	if aws.ToString(h.ContentType) != "application/json" || h.Metadata["shape"] != "round" || h.Metadata["color"] != "" || h.CacheControl != nil {
		t.Errorf("REPLACE metadata: %q %v cache %v", aws.ToString(h.ContentType), h.Metadata, h.CacheControl)
	}

	// Copy-source conditions: every failure is 412.
	past, future := lm.Add(-time.Hour), lm.Add(time.Hour)
	for _, tc := range []struct {
		name string
		in   s3.CopyObjectInput
		ok   bool
	}{
		{"if-match hit", s3.CopyObjectInput{CopySourceIfMatch: aws.String(etag)}, true},
		{"if-match miss", s3.CopyObjectInput{CopySourceIfMatch: aws.String(`"deadbeef"`)}, false},
		{"if-none-match hit", s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(etag)}, false},
		{"if-none-match miss", s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(`"deadbeef"`)}, true},
		{"if-modified-since past", s3.CopyObjectInput{CopySourceIfModifiedSince: &past}, true},
		{"if-modified-since future", s3.CopyObjectInput{CopySourceIfModifiedSince: &future}, false},
		{"if-unmodified-since future", s3.CopyObjectInput{CopySourceIfUnmodifiedSince: &future}, true},
		{"if-unmodified-since past", s3.CopyObjectInput{CopySourceIfUnmodifiedSince: &past}, false},
		{"if-match beats if-unmodified-since", s3.CopyObjectInput{CopySourceIfMatch: aws.String(etag), CopySourceIfUnmodifiedSince: &past}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			dst := "cond-" + strings.ReplaceAll(tc.name, " ", "-")
			in.Bucket, in.Key, in.CopySource = aws.String(b), aws.String(dst), copySource(b, src)
			_, err := c.CopyObject(ctx, &in)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(dst)})
			wantAPIError(t, err, http.StatusNotFound, "NotFound")
		})
	}

	// Onto itself: refused without REPLACE, replaces metadata with it.
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(src), CopySource: copySource(b, src)})
	wantAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(src), CopySource: copySource(b, src),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/markdown"), Metadata: map[string]string{"color": "green", "new": "yes"}}))(t)
	h = must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(src)}))(t)
	if aws.ToString(h.ContentType) != "text/markdown" || h.Metadata["color"] != "green" || h.Metadata["new"] != "yes" {
		t.Errorf("self-copy REPLACE: %q %v", aws.ToString(h.ContentType), h.Metadata)
	}
	if got := get(t, c, b, src); !bytes.Equal(got, body) {
		t.Errorf("self-copy changed the body: %q", got)
	}

	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("x"), CopySource: copySource(b, "missing")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("x"), CopySource: copySource(bucketName("nob"), "k")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
}

// listKeys flattens a page's keys.
func listKeys(objs []types.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, aws.ToString(o.Key))
	}
	return out
}

func prefixes(cps []types.CommonPrefix) []string {
	var out []string
	for _, p := range cps {
		out = append(out, aws.ToString(p.Prefix))
	}
	return out
}

func sdkList(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "list")
	var pageKeys []string
	for i := range 25 {
		pageKeys = append(pageKeys, fmt.Sprintf("page/k%02d", i))
	}
	all := append(slices.Clone(pageKeys), "dir/a/1", "dir/a/2", "dir/b/1", "dir/c", "top")
	for _, k := range all {
		put(t, c, b, k, []byte(k))
	}

	t.Run("v2 pagination", func(t *testing.T) {
		var got []string
		var token *string
		pages := 0
		for {
			out := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("page/"), MaxKeys: aws.Int32(4), ContinuationToken: token}))(t)
			pages++
			if len(out.Contents) > 4 || aws.ToInt32(out.KeyCount) != int32(len(out.Contents)) || aws.ToInt32(out.MaxKeys) != 4 {
				t.Fatalf("page %d: %d keys, KeyCount %d, MaxKeys %d", pages, len(out.Contents), aws.ToInt32(out.KeyCount), aws.ToInt32(out.MaxKeys))
			}
			if aws.ToString(out.ContinuationToken) != aws.ToString(token) {
				t.Errorf("echoed token %q, sent %q", aws.ToString(out.ContinuationToken), aws.ToString(token))
			}
			for _, o := range out.Contents {
				if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) || aws.ToString(o.ETag) != quoted(md5hex([]byte(aws.ToString(o.Key)))) || o.LastModified == nil {
					t.Errorf("entry %s: size %d etag %s", aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag))
				}
			}
			got = append(got, listKeys(out.Contents)...)
			if !aws.ToBool(out.IsTruncated) {
				if out.NextContinuationToken != nil {
					t.Errorf("last page has a NextContinuationToken")
				}
				break
			}
			if out.NextContinuationToken == nil || pages > 10 {
				t.Fatalf("truncated page %d without a usable token", pages)
			}
			token = out.NextContinuationToken
		}
		if pages != 7 || !slices.Equal(got, pageKeys) {
			t.Errorf("%d pages, keys %q", pages, got)
		}
		// The SDK paginator agrees.
		var n int
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("page/"), MaxKeys: aws.Int32(4)})
		for p.HasMorePages() {
			n += len(must(p.NextPage(ctx))(t).Contents)
		}
		if n != 25 {
			t.Errorf("paginator saw %d keys", n)
		}
	})

	t.Run("v1 marker pagination", func(t *testing.T) {
		var got []string
		marker := ""
		for pages := 1; ; pages++ {
			out := must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String("page/"), MaxKeys: aws.Int32(4), Marker: aws.String(marker)}))(t)
			if len(out.Contents) > 4 || aws.ToString(out.Marker) != marker {
				t.Fatalf("page %d: %d keys, marker echoed %q", pages, len(out.Contents), aws.ToString(out.Marker))
			}
			got = append(got, listKeys(out.Contents)...)
			for _, o := range out.Contents {
				if o.Owner == nil || aws.ToString(o.Owner.ID) == "" {
					t.Errorf("v1 entry %s without owner", aws.ToString(o.Key))
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if pages > 10 || len(out.Contents) == 0 {
				t.Fatal("endless listing")
			}
			marker = aws.ToString(out.NextMarker)
			if marker == "" {
				marker = got[len(got)-1] // S3 sends NextMarker only with a delimiter
			}
		}
		if !slices.Equal(got, pageKeys) {
			t.Errorf("keys %q", got)
		}
	})

	t.Run("delimiter", func(t *testing.T) {
		out := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/")}))(t)
		if got := prefixes(out.CommonPrefixes); !slices.Equal(got, []string{"dir/", "page/"}) {
			t.Errorf("common prefixes %q", got)
		}
		if got := listKeys(out.Contents); !slices.Equal(got, []string{"top"}) {
			t.Errorf("keys %q", got)
		}
		if aws.ToInt32(out.KeyCount) != 3 || aws.ToString(out.Delimiter) != "/" {
			t.Errorf("KeyCount %d delimiter %q", aws.ToInt32(out.KeyCount), aws.ToString(out.Delimiter))
		}
		out = must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("dir/"), Delimiter: aws.String("/")}))(t)
		if got := prefixes(out.CommonPrefixes); !slices.Equal(got, []string{"dir/a/", "dir/b/"}) {
			t.Errorf("dir/ prefixes %q", got)
		}
		if got := listKeys(out.Contents); !slices.Equal(got, []string{"dir/c"}) {
			t.Errorf("dir/ keys %q", got)
		}
		// v1 with delimiter pages over prefixes, with NextMarker.
		v1 := must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String("dir/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}))(t)
		if got := prefixes(v1.CommonPrefixes); !slices.Equal(got, []string{"dir/a/", "dir/b/"}) || len(v1.Contents) != 0 || !aws.ToBool(v1.IsTruncated) {
			t.Fatalf("v1 page 1: prefixes %q keys %q truncated %v", got, listKeys(v1.Contents), aws.ToBool(v1.IsTruncated))
		}
		if aws.ToString(v1.NextMarker) != "dir/b/" {
			t.Errorf("v1 NextMarker %q, want dir/b/", aws.ToString(v1.NextMarker))
		}
		v1 = must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String("dir/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), Marker: v1.NextMarker}))(t)
		if len(v1.CommonPrefixes) != 0 || !slices.Equal(listKeys(v1.Contents), []string{"dir/c"}) || aws.ToBool(v1.IsTruncated) {
			t.Errorf("v1 page 2: prefixes %q keys %q truncated %v", prefixes(v1.CommonPrefixes), listKeys(v1.Contents), aws.ToBool(v1.IsTruncated))
		}
		// v2 with delimiter and max-keys 1 pages over prefixes too.
		var seen []string
		var token *string
		for range 10 {
			p := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1), ContinuationToken: token}))(t)
			seen = append(seen, prefixes(p.CommonPrefixes)...)
			seen = append(seen, listKeys(p.Contents)...)
			if !aws.ToBool(p.IsTruncated) {
				break
			}
			token = p.NextContinuationToken
		}
		if !slices.Equal(seen, []string{"dir/", "page/", "top"}) {
			t.Errorf("v2 delimiter pages: %q", seen)
		}
	})

	t.Run("start-after", func(t *testing.T) {
		out := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("page/"), StartAfter: aws.String("page/k20")}))(t)
		if got := listKeys(out.Contents); !slices.Equal(got, pageKeys[21:]) {
			t.Errorf("start-after: %q", got)
		}
		if aws.ToString(out.StartAfter) != "page/k20" {
			t.Errorf("StartAfter echoed %q", aws.ToString(out.StartAfter))
		}
		// start-after with max-keys, then the token continues after the page.
		out = must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("page/"), StartAfter: aws.String("page/k05"), MaxKeys: aws.Int32(3)}))(t)
		if got := listKeys(out.Contents); !slices.Equal(got, pageKeys[6:9]) {
			t.Errorf("start-after page 1: %q", got)
		}
		out = must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("page/"), StartAfter: aws.String("page/k05"), MaxKeys: aws.Int32(3), ContinuationToken: out.NextContinuationToken}))(t)
		if got := listKeys(out.Contents); !slices.Equal(got, pageKeys[9:12]) {
			t.Errorf("start-after page 2: %q", got)
		}
		v1 := must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Marker: aws.String("page/k22")}))(t)
		if got := listKeys(v1.Contents); !slices.Equal(got, []string{"page/k23", "page/k24", "top"}) {
			t.Errorf("marker: %q", got)
		}
	})

	t.Run("empty results", func(t *testing.T) {
		out := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("nothing/")}))(t)
		if len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) || aws.ToInt32(out.KeyCount) != 0 {
			t.Errorf("empty prefix: %d keys", len(out.Contents))
		}
		out = must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(0)}))(t)
		if len(out.Contents) != 0 {
			t.Errorf("max-keys 0: %d keys", len(out.Contents))
		}
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), ContinuationToken: aws.String("!!not-a-token!!")})
		wantAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
	})
}

// encKeys need escaping in listings: space, non-ASCII, reserved
// characters, and a control character XML 1.0 cannot carry.
var encKeys = []string{"enc/with space.txt", "enc/ünïcødé/ключ.bin", "enc/plus+amp&eq=q?.txt", "enc/ctl\x01char"}

func sdkListEncoding(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "enc")
	for _, k := range encKeys {
		put(t, c, b, k, []byte("x"))
	}
	want := slices.Clone(encKeys)
	sort.Strings(want)
	decode := func(t *testing.T, s string) string {
		t.Helper()
		if strings.ContainsAny(s, " +\x01") || !utf8ASCII(s) {
			t.Errorf("not URL-encoded: %q", s)
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			t.Errorf("bad encoding %q: %v", s, err)
		}
		return d
	}
	t.Run("v2", func(t *testing.T) {
		out := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("enc/"), EncodingType: types.EncodingTypeUrl}))(t)
		var got []string
		for _, k := range listKeys(out.Contents) {
			got = append(got, decode(t, k))
		}
		if !slices.Equal(got, want) {
			t.Errorf("decoded keys %q, want %q", got, want)
		}
		if !slices.Contains(listKeys(out.Contents), "enc/with%20space.txt") {
			t.Errorf("space not encoded as %%20: %q", listKeys(out.Contents))
		}
		if out.EncodingType != types.EncodingTypeUrl {
			t.Errorf("EncodingType echoed %q", out.EncodingType)
		}
		// Prefix and common prefixes are encoded too.
		out = must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("enc/ü"), Delimiter: aws.String("/"), EncodingType: types.EncodingTypeUrl}))(t)
		if cp := prefixes(out.CommonPrefixes); len(cp) != 1 || decode(t, cp[0]) != "enc/ünïcødé/" {
			t.Errorf("encoded common prefixes %q", cp)
		}
		if aws.ToString(out.Prefix) != "enc/%C3%BC" {
			t.Errorf("encoded prefix %q, want enc/%%C3%%BC", aws.ToString(out.Prefix))
		}
		// Pagination with encoded keys resumes correctly.
		var paged []string
		var token *string
		for range 10 {
			p := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(1), EncodingType: types.EncodingTypeUrl, ContinuationToken: token}))(t)
			for _, k := range listKeys(p.Contents) {
				paged = append(paged, decode(t, k))
			}
			if !aws.ToBool(p.IsTruncated) {
				break
			}
			token = p.NextContinuationToken
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged encoded keys %q", paged)
		}
	})
	t.Run("v1", func(t *testing.T) {
		out := must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String("enc/with "), EncodingType: types.EncodingTypeUrl}))(t)
		if got := listKeys(out.Contents); !slices.Equal(got, []string{"enc/with%20space.txt"}) {
			t.Errorf("v1 encoded keys %q", got)
		}
		if aws.ToString(out.Prefix) != "enc/with%20" {
			t.Errorf("v1 encoded prefix %q", aws.ToString(out.Prefix))
		}
		// Marker pagination with a delimiter and encoded NextMarker.
		out = must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String("enc/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), EncodingType: types.EncodingTypeUrl}))(t)
		if !aws.ToBool(out.IsTruncated) || out.NextMarker == nil {
			t.Fatalf("v1 page 1 not truncated: %q %q", listKeys(out.Contents), prefixes(out.CommonPrefixes))
		}
		next := decode(t, aws.ToString(out.NextMarker))
		rest := must(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: aws.String("enc/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(10), EncodingType: types.EncodingTypeUrl, Marker: aws.String(next)}))(t)
		var got []string
		for _, k := range append(append(listKeys(out.Contents), prefixes(out.CommonPrefixes)...), append(listKeys(rest.Contents), prefixes(rest.CommonPrefixes)...)...) {
			got = append(got, decode(t, k))
		}
		sort.Strings(got)
		if exp := []string{"enc/ctl\x01char", "enc/plus+amp&eq=q?.txt", "enc/with space.txt", "enc/ünïcødé/"}; !slices.Equal(got, exp) {
			t.Errorf("v1 delimiter pages %q, want %q", got, exp)
		}
	})
}

func utf8ASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func sdkMultipart(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "mpu")
	key := "big/object.bin"

	src := payload(1*MiB, 6*MiB)
	put(t, c, b, "source", src)

	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(b), Key: aws.String(key),
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"stage": "multi"},
	}))(t)
	id := up.UploadId
	if aws.ToString(id) == "" || aws.ToString(up.Key) != key || aws.ToString(up.Bucket) != b {
		t.Fatalf("CreateMultipartUpload: %+v", up)
	}
	p1 := payload(0, partMiB)
	p2 := src[512 : 512+partMiB]
	p3 := payload(7*MiB, 100<<10)

	r1 := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)}))(t)
	if aws.ToString(r1.ETag) != quoted(md5hex(p1)) {
		t.Errorf("part 1 ETag %s", aws.ToString(r1.ETag))
	}
	r2 := must(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(2),
		CopySource: copySource(b, "source"), CopySourceRange: aws.String(fmt.Sprintf("bytes=512-%d", 512+partMiB-1))}))(t)
	if r2.CopyPartResult == nil || aws.ToString(r2.CopyPartResult.ETag) != quoted(md5hex(p2)) {
		t.Errorf("part 2 (copy) result %+v", r2.CopyPartResult)
	}
	r3 := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(3), Body: bytes.NewReader(p3)}))(t)

	// A copy range outside the source is refused.
	_, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(4),
		CopySource: copySource(b, "source"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", len(src)))})
	wantAPIError(t, err, http.StatusBadRequest, "InvalidArgument")

	lp := must(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id}))(t)
	wantParts := []struct {
		n    int32
		data []byte
	}{{1, p1}, {2, p2}, {3, p3}}
	if len(lp.Parts) != 3 {
		t.Fatalf("ListParts: %d parts", len(lp.Parts))
	}
	for i, p := range lp.Parts {
		w := wantParts[i]
		if aws.ToInt32(p.PartNumber) != w.n || aws.ToInt64(p.Size) != int64(len(w.data)) || aws.ToString(p.ETag) != quoted(md5hex(w.data)) || p.LastModified == nil {
			t.Errorf("part %d: number %d size %d etag %s", i, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), aws.ToString(p.ETag))
		}
	}
	lp = must(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, MaxParts: aws.Int32(2)}))(t)
	if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" {
		t.Errorf("ListParts max 2: %d parts truncated %v next %q", len(lp.Parts), aws.ToBool(lp.IsTruncated), aws.ToString(lp.NextPartNumberMarker))
	}
	lp = must(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumberMarker: aws.String("2")}))(t)
	if len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 3 || aws.ToBool(lp.IsTruncated) {
		t.Errorf("ListParts after 2: %+v", lp.Parts)
	}

	lu := must(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)}))(t)
	if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].Key) != key || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) || lu.Uploads[0].Initiated == nil {
		t.Errorf("ListMultipartUploads: %+v", lu.Uploads)
	}

	completed := func(parts ...types.CompletedPart) *types.CompletedMultipartUpload {
		return &types.CompletedMultipartUpload{Parts: parts}
	}
	part := func(n int32, etag *string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	}
	e1, e2, e3 := r1.ETag, r2.CopyPartResult.ETag, r3.ETag
	for _, tc := range []struct {
		name  string
		parts *types.CompletedMultipartUpload
		code  string
	}{
		{"out of order", completed(part(2, e2), part(1, e1), part(3, e3)), "InvalidPartOrder"},
		{"duplicate", completed(part(1, e1), part(1, e1), part(3, e3)), "InvalidPartOrder"},
		{"wrong etag", completed(part(1, e1), part(2, e1), part(3, e3)), "InvalidPart"},
		{"missing part", completed(part(1, e1), part(2, e2), part(4, e3)), "InvalidPart"},
		{"no parts", completed(), "MalformedXML"},
	} {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, MultipartUpload: tc.parts})
		t.Run("complete "+tc.name, func(t *testing.T) { wantAPIError(t, err, http.StatusBadRequest, tc.code) })
	}

	wantETag := quoted(multipartETag(p1, p2, p3))
	cm := must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
		MultipartUpload: completed(part(1, e1), part(2, e2), part(3, e3))}))(t)
	if aws.ToString(cm.ETag) != wantETag {
		t.Errorf("Complete ETag %s, want %s", aws.ToString(cm.ETag), wantETag)
	}
	if aws.ToString(cm.Key) != key || aws.ToString(cm.Bucket) != b || aws.ToString(cm.Location) == "" {
		t.Errorf("Complete result %+v", cm)
	}
	g := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}))(t)
	got := readAll(t, g.Body)
	if !bytes.Equal(got, slices.Concat(p1, p2, p3)) {
		t.Errorf("assembled object differs (%d bytes)", len(got))
	}
	if aws.ToString(g.ETag) != wantETag || aws.ToString(g.ContentType) != "application/x-test" || g.Metadata["stage"] != "multi" {
		t.Errorf("GET multipart: etag %s type %q meta %v", aws.ToString(g.ETag), aws.ToString(g.ContentType), g.Metadata)
	}
	if g.PartsCount != nil {
		t.Errorf("GET multipart: x-amz-mp-parts-count %d on a whole-object read (S3 sends it only with partNumber)", aws.ToInt32(g.PartsCount))
	}
	gp := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), PartNumber: aws.Int32(2)}))(t)
	if got := readAll(t, gp.Body); aws.ToInt32(gp.PartsCount) != 3 || !bytes.Equal(got, p2) {
		t.Errorf("GET part 2: x-amz-mp-parts-count %d, %d bytes; want 3 and part 2", aws.ToInt32(gp.PartsCount), len(got))
	}
	// A range across the part boundary.
	rg := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", partMiB-10, partMiB+9))}))(t)
	if got := readAll(t, rg.Body); !bytes.Equal(got, slices.Concat(p1[partMiB-10:], p2[:10])) {
		t.Errorf("range across parts differs")
	}

	// Completing again succeeds with the same result, as S3 does.
	cm2, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
		MultipartUpload: completed(part(1, e1), part(2, e2), part(3, e3))})
	if err != nil {
		t.Errorf("second Complete: %v", err)
	} else if aws.ToString(cm2.ETag) != wantETag {
		t.Errorf("second Complete ETag %s", aws.ToString(cm2.ETag))
	}
	lu = must(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)}))(t)
	if len(lu.Uploads) != 0 {
		t.Errorf("completed upload still listed: %+v", lu.Uploads)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
}

func sdkMultipartErrors(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "mpuerr")
	small1, small2 := []byte(strings.Repeat("1", 1024)), []byte(strings.Repeat("2", 1024))

	upload := func(key string, parts ...[]byte) (*string, []types.CompletedPart) {
		t.Helper()
		up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key)}))(t)
		var done []types.CompletedPart
		for i, p := range parts {
			r := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)}))(t)
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: r.ETag})
		}
		return up.UploadId, done
	}

	t.Run("EntityTooSmall", func(t *testing.T) {
		id, parts := upload("small", small1, small2)
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		wantAPIError(t, err, http.StatusBadRequest, "EntityTooSmall")
		// The last part may be small: completing with part 1 only works.
		cm := must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts[:1]}}))(t)
		if aws.ToString(cm.ETag) != quoted(multipartETag(small1)) {
			t.Errorf("single-part ETag %s, want %s", aws.ToString(cm.ETag), quoted(multipartETag(small1)))
		}
		if got := get(t, c, b, "small"); !bytes.Equal(got, small1) {
			t.Errorf("body %q", got)
		}
	})

	t.Run("Abort", func(t *testing.T) {
		id, parts := upload("aborted", small1)
		ab := must(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id}))(t)
		if s := status(t, ab.ResultMetadata); s != http.StatusNoContent {
			t.Errorf("Abort status %d", s)
		}
		_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id, PartNumber: aws.Int32(2), Body: bytes.NewReader(small2)})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("aborted")})
		wantAPIError(t, err, http.StatusNotFound, "NotFound")
	})

	t.Run("UnknownUpload", func(t *testing.T) {
		_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: aws.String("no-such-upload"), PartNumber: aws.Int32(1), Body: bytes.NewReader(small1)})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: aws.String("no-such-upload"),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(quoted(md5hex(small1)))}}}})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		// An upload ID belongs to its key.
		id, _ := upload("owner-key", small1)
		_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("other-key"), UploadId: id})
		wantAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
	})

	t.Run("BadPartNumber", func(t *testing.T) {
		id, _ := upload("partnum")
		for _, n := range []int32{0, 10001} {
			_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("partnum"), UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(small1)})
			wantAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
		}
	})

	t.Run("PartDigest", func(t *testing.T) {
		id, _ := upload("partdigest")
		_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("partdigest"), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(small1), ContentMD5: aws.String(md5b64(small2))})
		wantAPIError(t, err, http.StatusBadRequest, "BadDigest")
		_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("partdigest"), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(small1), ChecksumCRC32: aws.String(crc32b64(small2))})
		wantAPIError(t, err, http.StatusBadRequest, "BadDigest")
		lp := must(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("partdigest"), UploadId: id}))(t)
		if len(lp.Parts) != 0 {
			t.Errorf("a refused part was recorded: %+v", lp.Parts)
		}
	})

	t.Run("ListUploads", func(t *testing.T) {
		var ids []string
		for _, k := range []string{"lu/a", "lu/b", "lu/b", "lu/sub/c"} {
			id, _ := upload(k)
			ids = append(ids, aws.ToString(id))
		}
		lu := must(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b), Prefix: aws.String("lu/")}))(t)
		var keys []string
		for _, u := range lu.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
		if !slices.Equal(keys, []string{"lu/a", "lu/b", "lu/b", "lu/sub/c"}) {
			t.Errorf("uploads %q", keys)
		}
		lu = must(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b), Prefix: aws.String("lu/"), Delimiter: aws.String("/")}))(t)
		if cp := prefixes(lu.CommonPrefixes); !slices.Equal(cp, []string{"lu/sub/"}) || len(lu.Uploads) != 3 {
			t.Errorf("delimited uploads: %d uploads, prefixes %q", len(lu.Uploads), cp)
		}
		// Paging with max-uploads 2 visits every upload once.
		var seen []string
		in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b), Prefix: aws.String("lu/"), MaxUploads: aws.Int32(2)}
		for range 5 {
			p := must(c.ListMultipartUploads(ctx, in))(t)
			for _, u := range p.Uploads {
				seen = append(seen, aws.ToString(u.UploadId))
			}
			if !aws.ToBool(p.IsTruncated) {
				break
			}
			in.KeyMarker, in.UploadIdMarker = p.NextKeyMarker, p.NextUploadIdMarker
		}
		sort.Strings(seen)
		sort.Strings(ids)
		if !slices.Equal(seen, ids) {
			t.Errorf("paged upload ids %q, want %q", seen, ids)
		}
	})
}

func sdkAccess(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "private")
	put(t, c, b, "secret.txt", []byte("root's data"))
	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")}))(t)

	bobAK, bobSK := e.user(t, "bob")
	bob := e.s3Client(t, bobAK, bobSK)
	bobs := newBucket(t, bob, "bobs")
	put(t, bob, bobs, "mine", []byte("bob's"))

	denied := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"HeadBucket", func() error { _, err := bob.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); return err }, 403, "Forbidden"},
		{"GetBucketLocation", func() error {
			_, err := bob.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
			return err
		}, 403, "AccessDenied"},
		{"ListObjects", func() error { _, err := bob.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b)}); return err }, 403, "AccessDenied"},
		{"ListObjectsV2", func() error {
			_, err := bob.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			return err
		}, 403, "AccessDenied"},
		{"GetObject", func() error {
			_, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			return err
		}, 403, "AccessDenied"},
		{"GetObject missing key", func() error {
			_, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
			return err
		}, 403, "AccessDenied"},
		{"HeadObject", func() error {
			_, err := bob.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			return err
		}, 403, "Forbidden"},
		{"PutObject", func() error {
			_, err := bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt"), Body: strings.NewReader("bob was here")})
			return err
		}, 403, "AccessDenied"},
		{"DeleteObject", func() error {
			_, err := bob.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			return err
		}, 403, "AccessDenied"},
		{"CopyObject out", func() error {
			_, err := bob.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bobs), Key: aws.String("stolen"), CopySource: copySource(b, "secret.txt")})
			return err
		}, 403, "AccessDenied"},
		{"CopyObject in", func() error {
			_, err := bob.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("planted"), CopySource: copySource(bobs, "mine")})
			return err
		}, 403, "AccessDenied"},
		{"CreateMultipartUpload", func() error {
			_, err := bob.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("x")})
			return err
		}, 403, "AccessDenied"},
		{"UploadPart", func() error {
			_, err := bob.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			return err
		}, 403, "AccessDenied"},
		{"ListParts", func() error {
			_, err := bob.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId})
			return err
		}, 403, "AccessDenied"},
		{"AbortMultipartUpload", func() error {
			_, err := bob.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId})
			return err
		}, 403, "AccessDenied"},
		{"ListMultipartUploads", func() error {
			_, err := bob.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
			return err
		}, 403, "AccessDenied"},
		{"DeleteBucket", func() error {
			_, err := bob.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
			return err
		}, 403, "AccessDenied"},
		{"CreateBucket taken", func() error {
			_, err := bob.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			return err
		}, 409, "BucketAlreadyExists"},
	}
	for _, tc := range denied {
		t.Run("bob "+tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.status, tc.code) })
	}
	// DeleteObjects is judged per key, as S3 does: 200, with AccessDenied
	// for each key bob may not delete.
	t.Run("bob DeleteObjects", func(t *testing.T) {
		out, err := bob.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("secret.txt")}}}})
		if err != nil {
			t.Fatalf("DeleteObjects: %v", err)
		}
		if len(out.Deleted) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" || aws.ToString(out.Errors[0].Key) != "secret.txt" {
			t.Fatalf("DeleteObjects by bob: deleted %d, errors %+v; want one AccessDenied for secret.txt", len(out.Deleted), out.Errors)
		}
	})
	if got := get(t, c, b, "secret.txt"); string(got) != "root's data" {
		t.Errorf("root's object after bob's attempts: %q", got)
	}
	lb := must(bob.ListBuckets(ctx, &s3.ListBucketsInput{}))(t)
	var names []string
	for _, x := range lb.Buckets {
		names = append(names, aws.ToString(x.Name))
	}
	if !slices.Equal(names, []string{bobs}) {
		t.Errorf("bob's ListBuckets = %q, want only %s", names, bobs)
	}

	wrong := e.s3Client(t, e.node.AccessKey, "wrong"+e.node.SecretKey[5:])
	unknown := e.s3Client(t, "AKIDONTEXIST12345678", e.node.SecretKey)
	for _, tc := range []struct {
		name   string
		client *s3.Client
		code   string
	}{{"wrong secret", wrong, "SignatureDoesNotMatch"}, {"unknown key", unknown, "InvalidAccessKeyId"}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.ListBuckets(ctx, &s3.ListBucketsInput{})
			wantAPIError(t, err, http.StatusForbidden, tc.code)
			_, err = tc.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			wantAPIError(t, err, http.StatusForbidden, tc.code)
			_, err = tc.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt"), Body: bytes.NewReader(payload(0, 64<<10))})
			wantAPIError(t, err, http.StatusForbidden, tc.code)
			_, err = tc.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			wantAPIError(t, err, http.StatusForbidden, "Forbidden")
		})
	}
	if got := get(t, c, b, "secret.txt"); string(got) != "root's data" {
		t.Errorf("root's object after forged writes: %q", got)
	}
}

// skewedPresigner signs as if at another time: a presigned URL made an
// hour ago with a one-minute lifetime has expired.
type skewedPresigner struct {
	inner *v4.Signer
	skew  time.Duration
}

func (p skewedPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.inner.PresignHTTP(ctx, creds, r, payloadHash, service, region, signingTime.Add(p.skew), optFns...)
}

type s3ErrorXML struct {
	Code, Message, Resource, RequestId string
}

func sdkPresign(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "presign")
	body := []byte("fetched with a presigned URL")
	put(t, c, b, "dir/shared file.txt", body)
	pc := s3.NewPresignClient(c)

	fetch := func(t *testing.T, p *v4.PresignedHTTPRequest, reqBody []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(p.Method, p.URL, bytes.NewReader(reqBody))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range p.SignedHeader {
			if !strings.EqualFold(k, "Host") {
				req.Header[k] = vs
			}
		}
		return do(t, e.http, req)
	}
	errCode := func(t *testing.T, b []byte) string {
		t.Helper()
		var x s3ErrorXML
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Errorf("error body %q: %v", b, err)
		}
		return x.Code
	}

	t.Run("GET", func(t *testing.T) {
		p := must(pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/shared file.txt"), ResponseContentDisposition: aws.String("attachment")}, s3.WithPresignExpires(5*time.Minute)))(t)
		resp, got := fetch(t, p, nil)
		if resp.StatusCode != 200 || !bytes.Equal(got, body) {
			t.Errorf("presigned GET: %d %q", resp.StatusCode, got)
		}
		if resp.Header.Get("Content-Disposition") != "attachment" {
			t.Errorf("presigned response-content-disposition: %q", resp.Header.Get("Content-Disposition"))
		}
	})
	t.Run("PUT", func(t *testing.T) {
		p := must(pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("uploaded")}, s3.WithPresignExpires(5*time.Minute)))(t)
		resp, rb := fetch(t, p, []byte("uploaded with a presigned URL"))
		if resp.StatusCode != 200 {
			t.Fatalf("presigned PUT: %d %s", resp.StatusCode, rb)
		}
		if got := get(t, c, b, "uploaded"); string(got) != "uploaded with a presigned URL" {
			t.Errorf("presigned PUT stored %q", got)
		}
	})
	t.Run("expired", func(t *testing.T) {
		p := must(pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/shared file.txt")}, func(o *s3.PresignOptions) {
			o.Presigner = skewedPresigner{inner: v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true }), skew: -time.Hour}
			o.Expires = time.Minute
		}))(t)
		resp, rb := fetch(t, p, nil)
		if resp.StatusCode != http.StatusForbidden || errCode(t, rb) != "AccessDenied" {
			t.Errorf("expired presigned GET: %d %s", resp.StatusCode, rb)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		p := must(pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/shared file.txt")}))(t)
		p.URL = strings.Replace(p.URL, "shared%20file.txt", "other.txt", 1)
		resp, rb := fetch(t, p, nil)
		if resp.StatusCode != http.StatusForbidden || errCode(t, rb) != "SignatureDoesNotMatch" {
			t.Errorf("tampered presigned GET: %d %s", resp.StatusCode, rb)
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		u := e.endpoint + "/" + b + "/dir/shared%20file.txt"
		if !e.pathStyle {
			u = strings.Replace(e.endpoint, "://", "://"+b+".", 1) + "/dir/shared%20file.txt"
		}
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, rb := do(t, e.http, req)
		if resp.StatusCode != http.StatusForbidden || errCode(t, rb) != "AccessDenied" {
			t.Errorf("anonymous GET: %d %s", resp.StatusCode, rb)
		}
	})
}

// sdkTamperedBody changes one byte of a PutObject body in transit, after
// the SDK hashed it: over HTTP the signed payload hash no longer matches
// (XAmzContentSHA256Mismatch), over HTTPS the aws-chunked CRC32 trailer
// does not (BadDigest). Nothing is stored either way.
func sdkTamperedBody(t *testing.T, e *env) {
	ctx := context.Background()
	b := newBucket(t, e.root(t), "tamper")
	tp := &tamper{base: e.wire, off: 40, match: func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/victim")
	}}
	ee := *e
	ee.http = &http.Client{Transport: tp}
	c := ee.root(t)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("victim"), Body: bytes.NewReader(payload(0, 4096))})
	if e.tls {
		wantAPIError(t, err, http.StatusBadRequest, "BadDigest")
	} else {
		wantAPIError(t, err, http.StatusBadRequest, "XAmzContentSHA256Mismatch")
	}
	if tp.hits.Load() == 0 {
		t.Fatal("the request was not tampered with")
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("victim")})
	wantAPIError(t, err, http.StatusNotFound, "NotFound")
}
