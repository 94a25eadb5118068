package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// minio-go signs differently from the AWS SDK: over plain HTTP it sends
// signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, every
// chunk signature checked), over HTTPS unsigned payloads or trailers; it
// sends encoding-type=url on listings and decodes the answer, uses quiet
// multi-object deletes, and builds ComposeObject from UploadPartCopy.

func (e *env) minio(t testing.TB, ak, sk string) *minio.Client {
	t.Helper()
	host := e.node.Addr
	c, err := minio.New(host, &minio.Options{
		Creds:        miniocreds.NewStaticV4(ak, sk, ""),
		Secure:       e.tls,
		Transport:    e.wire,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantMinioError asserts a minio-go error's status and S3 code.
func wantMinioError(t testing.TB, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Errorf("succeeded, want %d %s", status, code)
		return
	}
	er := minio.ToErrorResponse(err)
	if er.StatusCode != status || er.Code != code {
		t.Errorf("got %d %q (%v), want %d %s", er.StatusCode, er.Code, err, status, code)
	}
}

var minioModes = []mode{{name: "http"}, {name: "https", tls: true}}

func TestMinio(t *testing.T) {
	t.Parallel()
	suite := []struct {
		name string
		fn   func(t *testing.T, e *env, c *minio.Client)
	}{
		{"Buckets", minioBuckets},
		{"Objects", minioObjects},
		{"Copy", minioCopy},
		{"Remove", minioRemove},
		{"List", minioList},
		{"Multipart", minioMultipart},
		{"MultipartCore", minioMultipartCore},
		{"Presign", minioPresign},
		{"Access", minioAccess},
		{"TamperedChunk", minioTamperedChunk},
	}
	for _, m := range minioModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			t.Cleanup(func() {
				t.Logf("minio %s framing: %v", m.name, e.wire.seen)
				if !m.tls && e.wire.saw("put-object") > 10 && e.wire.saw("payload:STREAMING-AWS4-HMAC-SHA256-PAYLOAD")+e.wire.saw("payload:STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0 {
					t.Error("minio-go never sent a signed aws-chunked body over HTTP")
				}
			})
			c := e.minio(t, e.node.AccessKey, e.node.SecretKey)
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e, c)
				})
			}
		})
	}
}

func minioBucket(t *testing.T, c *minio.Client, prefix string) string {
	t.Helper()
	b := bucketName(prefix)
	if err := c.MakeBucket(context.Background(), b, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket %s: %v", b, err)
	}
	return b
}

func minioPut(t *testing.T, c *minio.Client, b, key string, body []byte, o minio.PutObjectOptions) minio.UploadInfo {
	t.Helper()
	info, err := c.PutObject(context.Background(), b, key, bytes.NewReader(body), int64(len(body)), o)
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", b, key, err)
	}
	return info
}

// minioGet reads an object; the error is the read's.
func minioGet(c *minio.Client, b, key string, o minio.GetObjectOptions) ([]byte, error) {
	obj, err := c.GetObject(context.Background(), b, key, o)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

func minioBuckets(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := bucketName("mb")
	if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, b); !ok || err != nil {
		t.Errorf("BucketExists = %v, %v", ok, err)
	}
	if loc, err := c.GetBucketLocation(ctx, b); loc != "eu-west-1" || err != nil {
		t.Errorf("GetBucketLocation = %q, %v", loc, err)
	}
	if ok, err := c.BucketExists(ctx, bucketName("nope")); ok || err != nil {
		t.Errorf("BucketExists(missing) = %v, %v", ok, err)
	}
	bs, err := c.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(bs, func(x minio.BucketInfo) bool { return x.Name == b && !x.CreationDate.IsZero() }) {
		t.Errorf("ListBuckets %+v lacks %s", bs, b)
	}
	wantMinioError(t, c.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: "eu-west-1"}), 409, "BucketAlreadyOwnedByYou")

	minioPut(t, c, b, "k", []byte("v"), minio.PutObjectOptions{})
	wantMinioError(t, c.RemoveBucket(ctx, b), 409, "BucketNotEmpty")
	if err := c.RemoveObject(ctx, b, "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, b); err != nil {
		t.Fatalf("RemoveBucket: %v", err)
	}
	if ok, err := c.BucketExists(ctx, b); ok || err != nil {
		t.Errorf("BucketExists after removal = %v, %v", ok, err)
	}
	wantMinioError(t, c.RemoveBucket(ctx, b), 404, "NoSuchBucket")
}

func minioObjects(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mobj")
	body := []byte("abcdefghijklmnopqrstuvwxyz")
	exp := time.Date(2032, 2, 3, 4, 5, 6, 0, time.UTC)
	info := minioPut(t, c, b, "dir/the key.txt", body, minio.PutObjectOptions{
		ContentType: "text/plain", ContentDisposition: `inline; filename="k.txt"`, ContentLanguage: "fr",
		CacheControl: "no-cache", Expires: exp, UserMetadata: map[string]string{"color": "blue", "Two-Words": "a b"},
	})
	if info.ETag != md5hex(body) {
		t.Errorf("PutObject ETag %q, want %s", info.ETag, md5hex(body))
	}
	st, err := c.StatObject(ctx, b, "dir/the key.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(body)) || st.ETag != md5hex(body) || st.ContentType != "text/plain" ||
		st.Metadata.Get("Content-Disposition") != `inline; filename="k.txt"` || st.Metadata.Get("Content-Language") != "fr" ||
		st.Metadata.Get("Cache-Control") != "no-cache" || !st.Expires.Equal(exp) ||
		st.UserMetadata["Color"] != "blue" || st.UserMetadata["Two-Words"] != "a b" {
		t.Errorf("StatObject: %+v (user %v)", st, st.UserMetadata)
	}
	if got, err := minioGet(c, b, "dir/the key.txt", minio.GetObjectOptions{}); err != nil || !bytes.Equal(got, body) {
		t.Errorf("GetObject: %q %v", got, err)
	}

	rng := func(start, end int64) minio.GetObjectOptions {
		var o minio.GetObjectOptions
		if err := o.SetRange(start, end); err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, tc := range []struct {
		name string
		o    minio.GetObjectOptions
		want string
	}{
		{"range", rng(2, 5), "cdef"},
		{"suffix", rng(0, -3), "xyz"},
		{"open", rng(20, 0), "uvwxyz"},
	} {
		if got, err := minioGet(c, b, "dir/the key.txt", tc.o); err != nil || string(got) != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	_, err = minioGet(c, b, "dir/the key.txt", rng(100, 200))
	wantMinioError(t, err, 416, "InvalidRange")

	lm := st.LastModified
	cond := func(f func(o *minio.GetObjectOptions) error) minio.GetObjectOptions {
		var o minio.GetObjectOptions
		if err := f(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	_, err = minioGet(c, b, "dir/the key.txt", cond(func(o *minio.GetObjectOptions) error { return o.SetMatchETag("0123456789abcdef0123456789abcdef") }))
	wantMinioError(t, err, 412, "PreconditionFailed")
	_, err = minioGet(c, b, "dir/the key.txt", cond(func(o *minio.GetObjectOptions) error { return o.SetUnmodified(lm.Add(-time.Hour)) }))
	wantMinioError(t, err, 412, "PreconditionFailed")
	for name, o := range map[string]minio.GetObjectOptions{
		"if-none-match":     cond(func(o *minio.GetObjectOptions) error { return o.SetMatchETagExcept(st.ETag) }),
		"if-modified-since": cond(func(o *minio.GetObjectOptions) error { return o.SetModified(lm.Add(time.Hour)) }),
	} {
		_, err := minioGet(c, b, "dir/the key.txt", o)
		if er := minio.ToErrorResponse(err); er.StatusCode != http.StatusNotModified {
			t.Errorf("%s: %v, want 304", name, err)
		}
	}
	if got, err := minioGet(c, b, "dir/the key.txt", cond(func(o *minio.GetObjectOptions) error { return o.SetMatchETag(st.ETag) })); err != nil || !bytes.Equal(got, body) {
		t.Errorf("if-match hit: %q %v", got, err)
	}

	var ov minio.GetObjectOptions
	ov.AddReqParam("response-content-type", "application/pdf")
	ov.AddReqParam("response-cache-control", "private")
	obj, err := c.GetObject(ctx, b, "dir/the key.txt", ov)
	if err != nil {
		t.Fatal(err)
	}
	if ost, err := obj.Stat(); err != nil || ost.ContentType != "application/pdf" || ost.Metadata.Get("Cache-Control") != "private" {
		t.Errorf("response overrides: %q %q %v", ost.ContentType, ost.Metadata.Get("Cache-Control"), err)
	}
	obj.Close()

	_, err = c.StatObject(ctx, b, "missing", minio.StatObjectOptions{})
	wantMinioError(t, err, 404, "NoSuchKey")
	_, err = minioGet(c, b, "missing", minio.GetObjectOptions{})
	wantMinioError(t, err, 404, "NoSuchKey")
	_, err = minioGet(c, bucketName("nob"), "k", minio.GetObjectOptions{})
	wantMinioError(t, err, 404, "NoSuchBucket")

	// A wrong Content-MD5 is refused.
	_, err = minio.Core{Client: c}.PutObject(ctx, b, "bad-md5", bytes.NewReader(body), int64(len(body)), md5b64([]byte("other")), "", minio.PutObjectOptions{})
	wantMinioError(t, err, 400, "BadDigest")
}

func minioCopy(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mcopy")
	body := []byte("copy source body")
	src := minioPut(t, c, b, "src ü.txt", body, minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"color": "blue"}})
	st, err := c.StatObject(ctx, b, "src ü.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srcOpt := minio.CopySrcOptions{Bucket: b, Object: "src ü.txt"}

	ci, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "copy"}, srcOpt)
	if err != nil || ci.ETag != src.ETag {
		t.Fatalf("CopyObject: %+v %v", ci, err)
	}
	cs, err := c.StatObject(ctx, b, "copy", minio.StatObjectOptions{})
	if err != nil || cs.ContentType != "text/plain" || cs.UserMetadata["Color"] != "blue" {
		t.Errorf("copy metadata: %q %v %v", cs.ContentType, cs.UserMetadata, err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "replaced", ReplaceMetadata: true, UserMetadata: map[string]string{"shape": "round"}, ContentType: "application/json"}, srcOpt); err != nil {
		t.Fatal(err)
	}
	rs, err := c.StatObject(ctx, b, "replaced", minio.StatObjectOptions{})
	if err != nil || rs.UserMetadata["Shape"] != "round" || rs.UserMetadata["Color"] != "" || rs.ContentType != "application/json" {
		t.Errorf("replaced metadata: %q %v %v", rs.ContentType, rs.UserMetadata, err)
	}
	for name, so := range map[string]minio.CopySrcOptions{
		"if-match":            {MatchETag: "deadbeef"},
		"if-none-match":       {NoMatchETag: st.ETag},
		"if-modified-since":   {MatchModifiedSince: st.LastModified.Add(time.Hour)},
		"if-unmodified-since": {MatchUnmodifiedSince: st.LastModified.Add(-time.Hour)},
	} {
		so.Bucket, so.Object = b, "src ü.txt"
		_, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "cond"}, so)
		t.Run(name, func(t *testing.T) { wantMinioError(t, err, 412, "PreconditionFailed") })
	}
	// Copy onto itself needs REPLACE.
	_, err = c.CopyObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "src ü.txt"}, srcOpt)
	wantMinioError(t, err, 400, "InvalidRequest")
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "src ü.txt", ReplaceMetadata: true, UserMetadata: map[string]string{"color": "green"}}, srcOpt); err != nil {
		t.Errorf("self-copy with REPLACE: %v", err)
	}
	if s, _ := c.StatObject(ctx, b, "src ü.txt", minio.StatObjectOptions{}); s.UserMetadata["Color"] != "green" {
		t.Errorf("self-copy metadata %v", s.UserMetadata)
	}

	// ComposeObject: a ranged UploadPartCopy of 5 MiB plus a small whole copy.
	big := payload(2*MiB, 6*MiB)
	minioPut(t, c, b, "big", big, minio.PutObjectOptions{})
	ui, err := c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "composed"},
		minio.CopySrcOptions{Bucket: b, Object: "big", MatchRange: true, Start: 100, End: 100 + partMiB - 1},
		minio.CopySrcOptions{Bucket: b, Object: "copy"},
	)
	if err != nil {
		t.Fatalf("ComposeObject: %v", err)
	}
	want := slices.Concat(big[100:100+partMiB], body)
	if ui.ETag != multipartETag(big[100:100+partMiB], body) {
		t.Errorf("composed ETag %q, want %q", ui.ETag, multipartETag(big[100:100+partMiB], body))
	}
	if got, err := minioGet(c, b, "composed", minio.GetObjectOptions{}); err != nil || !bytes.Equal(got, want) {
		t.Errorf("composed object differs (%d bytes, %v)", len(got), err)
	}
}

func minioRemove(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mrm")
	var keys []string
	for i := range 12 {
		k := fmt.Sprintf("rm/%02d ü", i)
		keys = append(keys, k)
		minioPut(t, c, b, k, []byte(k), minio.PutObjectOptions{})
	}
	minioPut(t, c, b, "keep", []byte("x"), minio.PutObjectOptions{})
	if err := c.RemoveObject(ctx, b, keys[0], minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, b, keys[0], minio.RemoveObjectOptions{}); err != nil {
		t.Errorf("removing a missing key: %v", err)
	}
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, k := range append(keys[1:], "never-existed") {
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	for re := range c.RemoveObjects(ctx, b, ch, minio.RemoveObjectsOptions{}) {
		t.Errorf("RemoveObjects %s: %v", re.ObjectName, re.Err)
	}
	var left []string
	for o := range c.ListObjects(ctx, b, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		left = append(left, o.Key)
	}
	if !slices.Equal(left, []string{"keep"}) {
		t.Errorf("after RemoveObjects: %q", left)
	}
}

func minioList(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mlist")
	var pageKeys []string
	for i := range 25 {
		pageKeys = append(pageKeys, fmt.Sprintf("page/k%02d", i))
	}
	special := []string{"enc/with space.txt", "enc/ünïcødé/ключ", "enc/a+b&c=d"}
	for _, k := range slices.Concat(pageKeys, special, []string{"dir/a/1", "dir/b", "top"}) {
		minioPut(t, c, b, k, []byte(k), minio.PutObjectOptions{})
	}
	list := func(t *testing.T, o minio.ListObjectsOptions) []string {
		t.Helper()
		var out []string
		for obj := range c.ListObjects(ctx, b, o) {
			if obj.Err != nil {
				t.Fatalf("ListObjects %+v: %v", o, obj.Err)
			}
			out = append(out, obj.Key)
		}
		return out
	}
	for _, v1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v1=%v", v1), func(t *testing.T) {
			if got := list(t, minio.ListObjectsOptions{Prefix: "page/", Recursive: true, MaxKeys: 4, UseV1: v1}); !slices.Equal(got, pageKeys) {
				t.Errorf("paged listing %q", got)
			}
			// minio-go yields a page's keys before its prefixes: compare as sets.
			if got := list(t, minio.ListObjectsOptions{UseV1: v1}); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"dir/", "enc/", "page/", "top"}) {
				t.Errorf("delimited listing %q", got)
			}
			if got := list(t, minio.ListObjectsOptions{Prefix: "dir/", MaxKeys: 1, UseV1: v1}); !slices.Equal(got, []string{"dir/a/", "dir/b"}) {
				t.Errorf("delimited paged listing %q", got)
			}
			want := slices.Clone(special)
			sort.Strings(want)
			if got := list(t, minio.ListObjectsOptions{Prefix: "enc/", Recursive: true, MaxKeys: 1, UseV1: v1}); !slices.Equal(got, want) {
				t.Errorf("encoded keys %q, want %q", got, want)
			}
		})
	}
	if got := list(t, minio.ListObjectsOptions{Prefix: "page/", Recursive: true, StartAfter: "page/k20"}); !slices.Equal(got, pageKeys[21:]) {
		t.Errorf("start-after %q", got)
	}
}

func minioMultipart(t *testing.T, e *env, c *minio.Client) {
	b := minioBucket(t, c, "mmpu")
	body := payload(512<<10, 2*partMiB+MiB)
	info := minioPut(t, c, b, "big", body, minio.PutObjectOptions{PartSize: partMiB, ContentType: "application/x-big", UserMetadata: map[string]string{"kind": "multipart"}})
	want := multipartETag(body[:partMiB], body[partMiB:2*partMiB], body[2*partMiB:])
	if info.ETag != want {
		t.Errorf("multipart ETag %q, want %q", info.ETag, want)
	}
	st, err := c.StatObject(context.Background(), b, "big", minio.StatObjectOptions{})
	if err != nil || st.Size != int64(len(body)) || st.ETag != want || st.ContentType != "application/x-big" || st.UserMetadata["Kind"] != "multipart" {
		t.Errorf("stat: %+v %v", st, err)
	}
	if got, err := minioGet(c, b, "big", minio.GetObjectOptions{}); err != nil || !bytes.Equal(got, body) {
		t.Errorf("multipart object differs (%d bytes, %v)", len(got), err)
	}
}

func minioMultipartCore(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	core := minio.Core{Client: c}
	b := minioBucket(t, c, "mcore")
	src := payload(3*MiB, 6*MiB)
	minioPut(t, c, b, "src", src, minio.PutObjectOptions{})

	id, err := core.NewMultipartUpload(ctx, b, "obj", minio.PutObjectOptions{UserMetadata: map[string]string{"stage": "core"}})
	if err != nil {
		t.Fatal(err)
	}
	p1 := payload(0, partMiB)
	p2 := src[1000 : 1000+partMiB]
	p3 := []byte("the small last part")
	r1, err := core.PutObjectPart(ctx, b, "obj", id, 1, bytes.NewReader(p1), int64(len(p1)), minio.PutObjectPartOptions{})
	if err != nil || r1.ETag != md5hex(p1) {
		t.Fatalf("part 1: %+v %v", r1, err)
	}
	r2, err := core.CopyObjectPart(ctx, b, "src", b, "obj", id, 2, 1000, partMiB, nil)
	if err != nil || strings.Trim(r2.ETag, `"`) != md5hex(p2) {
		t.Fatalf("part 2 (copy): %+v %v", r2, err)
	}
	r3, err := core.PutObjectPart(ctx, b, "obj", id, 3, bytes.NewReader(p3), int64(len(p3)), minio.PutObjectPartOptions{Md5Base64: md5b64(p3)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = core.PutObjectPart(ctx, b, "obj", id, 4, bytes.NewReader(p3), int64(len(p3)), minio.PutObjectPartOptions{Md5Base64: md5b64(p1)})
	wantMinioError(t, err, 400, "BadDigest")

	lp, err := core.ListObjectParts(ctx, b, "obj", id, 0, 1000)
	if err != nil || len(lp.ObjectParts) != 3 {
		t.Fatalf("ListObjectParts: %+v %v", lp, err)
	}
	for i, p := range lp.ObjectParts {
		want := [][]byte{p1, p2, p3}[i]
		if p.PartNumber != i+1 || p.Size != int64(len(want)) || strings.Trim(p.ETag, `"`) != md5hex(want) {
			t.Errorf("listed part %d: %+v", i+1, p)
		}
	}
	lu, err := core.ListMultipartUploads(ctx, b, "", "", "", "", 1000)
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].UploadID != id || lu.Uploads[0].Key != "obj" {
		t.Errorf("ListMultipartUploads: %+v %v", lu.Uploads, err)
	}

	parts := []minio.CompletePart{{PartNumber: 1, ETag: r1.ETag}, {PartNumber: 2, ETag: r2.ETag}, {PartNumber: 3, ETag: r3.ETag}}
	_, err = core.CompleteMultipartUpload(ctx, b, "obj", id, []minio.CompletePart{parts[1], parts[0], parts[2]}, minio.PutObjectOptions{})
	wantMinioError(t, err, 400, "InvalidPartOrder")
	_, err = core.CompleteMultipartUpload(ctx, b, "obj", id, []minio.CompletePart{parts[0], {PartNumber: 2, ETag: r1.ETag}, parts[2]}, minio.PutObjectOptions{})
	wantMinioError(t, err, 400, "InvalidPart")
	ui, err := core.CompleteMultipartUpload(ctx, b, "obj", id, parts, minio.PutObjectOptions{})
	want := multipartETag(p1, p2, p3)
	if err != nil || ui.ETag != want {
		t.Fatalf("Complete: %+v %v, want ETag %s", ui, err, want)
	}
	if ui2, err := core.CompleteMultipartUpload(ctx, b, "obj", id, parts, minio.PutObjectOptions{}); err != nil || ui2.ETag != want {
		t.Errorf("second Complete: %+v %v", ui2, err)
	}
	if got, err := minioGet(c, b, "obj", minio.GetObjectOptions{}); err != nil || !bytes.Equal(got, slices.Concat(p1, p2, p3)) {
		t.Errorf("assembled object differs (%d bytes, %v)", len(got), err)
	}

	// Abort, then the upload is gone.
	id2, err := core.NewMultipartUpload(ctx, b, "aborted", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutObjectPart(ctx, b, "aborted", id2, 1, bytes.NewReader(p3), int64(len(p3)), minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := core.AbortMultipartUpload(ctx, b, "aborted", id2); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	_, err = core.ListObjectParts(ctx, b, "aborted", id2, 0, 1000)
	wantMinioError(t, err, 404, "NoSuchUpload")
	_, err = core.PutObjectPart(ctx, b, "aborted", id2, 2, bytes.NewReader(p3), int64(len(p3)), minio.PutObjectPartOptions{})
	wantMinioError(t, err, 404, "NoSuchUpload")
	wantMinioError(t, core.AbortMultipartUpload(ctx, b, "aborted", id2), 404, "NoSuchUpload")
	lu, err = core.ListMultipartUploads(ctx, b, "", "", "", "", 1000)
	if err != nil || len(lu.Uploads) != 0 {
		t.Errorf("uploads left: %+v %v", lu.Uploads, err)
	}
}

func minioPresign(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mpre")
	minioPut(t, c, b, "shared ü.txt", []byte("presigned by minio"), minio.PutObjectOptions{})
	u, err := c.PresignedGetObject(ctx, b, "shared ü.txt", 5*time.Minute, url.Values{"response-content-type": {"text/csv"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, e.http, must(http.NewRequest(http.MethodGet, u.String(), nil))(t))
	if resp.StatusCode != 200 || string(body) != "presigned by minio" || resp.Header.Get("Content-Type") != "text/csv" {
		t.Errorf("presigned GET: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	pu, err := c.PresignedPutObject(ctx, b, "up", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, e.http, must(http.NewRequest(http.MethodPut, pu.String(), strings.NewReader("put via presign")))(t))
	if resp.StatusCode != 200 {
		t.Errorf("presigned PUT: %d %s", resp.StatusCode, body)
	}
	if got, err := minioGet(c, b, "up", minio.GetObjectOptions{}); err != nil || string(got) != "put via presign" {
		t.Errorf("presigned PUT stored %q %v", got, err)
	}
	// Expiry: a one-second URL used after it lapsed.
	eu, err := c.PresignedGetObject(ctx, b, "shared ü.txt", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	resp, body = do(t, e.http, must(http.NewRequest(http.MethodGet, eu.String(), nil))(t))
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Errorf("expired presigned GET: %d %s", resp.StatusCode, body)
	}
}

func minioAccess(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mpriv")
	minioPut(t, c, b, "secret", []byte("root only"), minio.PutObjectOptions{})
	ak, sk := e.user(t, "mallory")
	m := e.minio(t, ak, sk)
	_, err := minioGet(m, b, "secret", minio.GetObjectOptions{})
	wantMinioError(t, err, 403, "AccessDenied")
	_, err = m.PutObject(ctx, b, "planted", strings.NewReader("x"), 1, minio.PutObjectOptions{})
	wantMinioError(t, err, 403, "AccessDenied")
	for o := range m.ListObjects(ctx, b, minio.ListObjectsOptions{}) {
		wantMinioError(t, o.Err, 403, "AccessDenied")
	}
	wantMinioError(t, m.RemoveObject(ctx, b, "secret", minio.RemoveObjectOptions{}), 403, "AccessDenied")
	wantMinioError(t, m.MakeBucket(ctx, b, minio.MakeBucketOptions{}), 409, "BucketAlreadyExists")

	wrong := e.minio(t, e.node.AccessKey, "x"+e.node.SecretKey)
	_, err = wrong.ListBuckets(ctx)
	wantMinioError(t, err, 403, "SignatureDoesNotMatch")
	_, err = wrong.PutObject(ctx, b, "forged", bytes.NewReader(payload(0, 100<<10)), 100<<10, minio.PutObjectOptions{})
	wantMinioError(t, err, 403, "SignatureDoesNotMatch")
	unknown := e.minio(t, "AKIAUNKNOWN000000000", e.node.SecretKey)
	_, err = unknown.ListBuckets(ctx)
	wantMinioError(t, err, 403, "InvalidAccessKeyId")
	if got, err := minioGet(c, b, "secret", minio.GetObjectOptions{}); err != nil || string(got) != "root only" {
		t.Errorf("root's object: %q %v", got, err)
	}
	_, err = c.StatObject(ctx, b, "forged", minio.StatObjectOptions{})
	wantMinioError(t, err, 404, "NoSuchKey")
}

// minioTamperedChunk changes one data byte of a signed aws-chunked body in
// transit (minio-go signs every chunk over plain HTTP): the chunk
// signature no longer verifies and nothing is stored. Over HTTPS minio-go
// sends UNSIGNED-PAYLOAD with a body MD5/CRC, which must catch it too.
func minioTamperedChunk(t *testing.T, e *env, c *minio.Client) {
	ctx := context.Background()
	b := minioBucket(t, c, "mtamper")
	tp := &tamper{base: e.wire, off: 300, match: func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/victim")
	}}
	m, err := minio.New(e.node.Addr, &minio.Options{
		Creds: miniocreds.NewStaticV4(e.node.AccessKey, e.node.SecretKey, ""), Secure: e.tls, Transport: tp, BucketLookup: minio.BucketLookupPath,
		Region: region, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	body := payload(0, 200<<10) // several 64 KiB chunks
	_, err = m.PutObject(ctx, b, "victim", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{SendContentMd5: e.tls})
	if tp.hits.Load() == 0 {
		t.Fatal("the request was not tampered with")
	}
	if e.tls {
		wantMinioError(t, err, 400, "BadDigest")
	} else {
		wantMinioError(t, err, 403, "SignatureDoesNotMatch")
	}
	_, err = c.StatObject(ctx, b, "victim", minio.StatObjectOptions{})
	wantMinioError(t, err, 404, "NoSuchKey")
}
