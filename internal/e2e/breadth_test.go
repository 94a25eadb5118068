package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/cors"
	"github.com/minio/minio-go/v7/pkg/tags"
)

// Issue 10 (object store breadth) through aws-sdk-go-v2 and minio-go:
// tagging, GetObjectAttributes, CORS and PublicAccessBlock.

func TestBreadthSDK(t *testing.T) {
	t.Parallel()
	suite := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"ObjectTagging", sdkObjectTagging},
		{"TaggingLimits", sdkTaggingLimits},
		{"TaggingOnCopyAndUpload", sdkTaggingCopyUpload},
		{"BucketTagging", sdkBucketTagging},
		{"TagConditions", sdkTagConditions},
		{"ObjectAttributes", sdkObjectAttributes},
		{"MinioTagging", minioTagging},
		{"CORS", sdkCORS},
		{"MinioCORS", minioCORS},
		{"PublicAccessBlock", sdkPublicAccessBlock},
	}
	for _, m := range []mode{{name: "http"}, {name: "https", tls: true}} {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e)
				})
			}
		})
	}
}

func s3Tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func tagList(ts []types.Tag) []string {
	var out []string
	for _, t := range ts {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

func wantTags(t *testing.T, c *s3.Client, b, k string, want ...string) {
	t.Helper()
	out, err := c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &b, Key: &k})
	if err != nil {
		t.Fatalf("GetObjectTagging %s: %v", k, err)
	}
	if got := tagList(out.TagSet); !slices.Equal(got, want) {
		t.Fatalf("tags of %s: %q, want %q", k, got, want)
	}
}

func sdkObjectTagging(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "tags")
	// The header is URL query encoded; a key without '=' has the empty
	// value; tags come back sorted by key.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: strings.NewReader("x"),
		Tagging: aws.String("team=blue%20green&a%2Bb=1+2&empty")}); err != nil {
		t.Fatal(err)
	}
	wantTags(t, c, b, "k", "a+b=1 2", "empty=", "team=blue green")
	head := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	if aws.ToInt32(head.TagCount) != 3 {
		t.Fatalf("HeadObject TagCount %d, want 3", aws.ToInt32(head.TagCount))
	}
	get := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	get.Body.Close()
	if aws.ToInt32(get.TagCount) != 3 {
		t.Fatalf("GetObject TagCount %d, want 3", aws.ToInt32(get.TagCount))
	}
	req, _ := http.NewRequest(http.MethodHead, e.node.URL+"/"+b+"/k", nil)
	if resp, err := e.node.Client.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous HEAD: %d", resp.StatusCode)
	}

	out := must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: s3Tags("z", "26", "y", "")}}))(t)
	if st := status(t, out.ResultMetadata); st != http.StatusOK {
		t.Fatalf("PutObjectTagging status %d", st)
	}
	wantTags(t, c, b, "k", "y=", "z=26")
	// Metadata-only: the data and ETag are untouched.
	if got := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k")}))(t); aws.ToString(got.ETag) != aws.ToString(head.ETag) {
		t.Fatalf("ETag changed by tagging: %s -> %s", aws.ToString(head.ETag), aws.ToString(got.ETag))
	}
	del := must(c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: &b, Key: aws.String("k")}))(t)
	if st := status(t, del.ResultMetadata); st != http.StatusNoContent {
		t.Fatalf("DeleteObjectTagging status %d", st)
	}
	wantTags(t, c, b, "k")
	get = must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	get.Body.Close()
	if get.TagCount != nil {
		t.Fatalf("untagged object reports TagCount %d", *get.TagCount)
	}
	// An empty TagSet removes the tags too.
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: s3Tags("a", "b")}}))(t)
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: []types.Tag{}}}))(t)
	wantTags(t, c, b, "k")

	// A presigned PutObject carries the tags in its (signed) query.
	pr, err := s3.NewPresignClient(c).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("presigned"), Tagging: aws.String("via=url")})
	if err != nil {
		t.Fatal(err)
	}
	preq, _ := http.NewRequest(pr.Method, pr.URL, strings.NewReader("p"))
	for k, vs := range pr.SignedHeader {
		if !strings.EqualFold(k, "Host") {
			preq.Header[k] = vs
		}
	}
	if resp, body := do(t, e.http, preq); resp.StatusCode != 200 {
		t.Fatalf("presigned PUT with tagging: %d %s (%s)", resp.StatusCode, body, pr.URL)
	}
	wantTags(t, c, b, "presigned", "via=url")
	// Presigners that hoist x-amz-* headers put it in the query itself.
	qreq, _ := http.NewRequest(http.MethodPut, e.node.URL+"/"+b+"/hoisted?X-Amz-Expires=300&x-amz-tagging="+url.QueryEscape("via=query&n=1"), strings.NewReader("q"))
	qurl, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: e.node.AccessKey, SecretAccessKey: e.node.SecretKey}, qreq, "UNSIGNED-PAYLOAD", "s3", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	qreq, _ = http.NewRequest(http.MethodPut, qurl, strings.NewReader("q"))
	if resp, body := do(t, e.node.Client, qreq); resp.StatusCode != 200 {
		t.Fatalf("presigned PUT with x-amz-tagging in the query: %d %s", resp.StatusCode, body)
	}
	wantTags(t, c, b, "hoisted", "n=1", "via=query")

	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("missing")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("missing"), Tagging: &types.Tagging{TagSet: s3Tags("a", "b")}})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	_, err = c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("no-such-bucket-tags"), Key: aws.String("k")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")

	// Another user may not read or change the tags.
	ak, sk := e.user(t, "tagger-"+e.name)
	other := e.s3Client(t, ak, sk)
	_, err = other.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("k")})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	_, err = other.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: s3Tags("a", "b")}})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
}

func sdkTaggingLimits(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "taglimits")
	put(t, c, b, "k", []byte("x"))
	many := func(n int) []types.Tag {
		var ts []types.Tag
		for i := 0; i < n; i++ {
			ts = append(ts, types.Tag{Key: aws.String(fmt.Sprintf("%03d", i) + strings.Repeat("k", 125)), Value: aws.String(strings.Repeat("v", 256))})
		}
		return ts
	}
	// Ten tags at the longest key and value are accepted.
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: many(10)}}))(t)
	// Keys count UTF-16 units: 128 'ü' fit, and 126 + one astral letter (2 units).
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: s3Tags(strings.Repeat("k", 126)+"𝒜", "v")}}))(t)
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: s3Tags(strings.Repeat("ü", 128), "日本語 ok")}}))(t)
	for _, tc := range []struct {
		name   string
		tags   []types.Tag
		status int
		code   string
	}{
		{"eleven", many(11), 400, "BadRequest"},
		{"key 129", s3Tags(strings.Repeat("k", 129), "v"), 400, "InvalidTag"},
		{"key 128 utf16 + 1", s3Tags(strings.Repeat("k", 127)+"𝒜", "v"), 400, "InvalidTag"},
		{"value 257", s3Tags("k", strings.Repeat("v", 257)), 400, "InvalidTag"},
		{"empty key", s3Tags("", "v"), 400, "InvalidTag"},
		{"duplicate", s3Tags("k", "1", "k", "2"), 400, "InvalidTag"},
		{"aws prefix", s3Tags("aws:cloudformation", "v"), 400, "InvalidTag"},
		{"bad character", s3Tags("a{b}", "v"), 400, "InvalidTag"},
		{"bad value character", s3Tags("k", "<v>"), 400, "InvalidTag"},
	} {
		_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("k"), Tagging: &types.Tagging{TagSet: tc.tags}})
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, err, tc.status, tc.code) })
	}
	wantTags(t, c, b, "k", strings.Repeat("ü", 128)+"=日本語 ok")

	// The same rules hold for the header, plus its own syntax.
	for _, tc := range []struct {
		header, code string
	}{
		{"a=1&a=2", "InvalidArgument"},
		{"TagSet=[{Key=string,Value=string}]", "InvalidArgument"},
		{"a=%zz", "InvalidArgument"},
		{"TagSet%3D%5B%7BKey%3Dstring%7D%5D", "InvalidTag"},
		{"aws:x=1", "InvalidTag"},
		{"1&2&3&4&5&6&7&8&9&10&11", "BadRequest"},
	} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("h"), Body: strings.NewReader("x"), Tagging: aws.String(tc.header)})
		t.Run("header "+tc.header, func(t *testing.T) { wantAPIError(t, err, 400, tc.code) })
	}
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("h")})
	wantAPIError(t, err, 404, "NotFound")

	// Documents that are not Tagging documents.
	for _, body := range []string{"<Tagging></Tagging>", "<Tagging><TagSet><Tag><Key>a</Key>", "not xml"} {
		req := signedRequest(t, e.node.URL, e.node.AccessKey, e.node.SecretKey, http.MethodPut, "/"+b+"/k", "tagging=", []byte(body), http.Header{"Content-Md5": {md5b64([]byte(body))}}, "")
		resp, data := do(t, e.node.Client, req)
		if resp.StatusCode != 400 || !bytes.Contains(data, []byte("<Code>MalformedXML</Code>")) {
			t.Errorf("PutObjectTagging %q: %d %s", body, resp.StatusCode, data)
		}
	}
	// The document needs an integrity header, as S3's does.
	body := []byte("<Tagging><TagSet/></Tagging>")
	req := signedRequest(t, e.node.URL, e.node.AccessKey, e.node.SecretKey, http.MethodPut, "/"+b+"/k", "tagging=", body, nil, "")
	if resp, data := do(t, e.node.Client, req); resp.StatusCode != 400 || !bytes.Contains(data, []byte("Content-MD5")) {
		t.Errorf("PutObjectTagging without Content-MD5: %d %s", resp.StatusCode, data)
	}
}

func sdkTaggingCopyUpload(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "tagcopy")
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("src"), Body: strings.NewReader("data"), Tagging: aws.String("a=1&b=2")}))(t)
	// COPY (the default) keeps the source's tags.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy"), CopySource: aws.String(b + "/src")}))(t)
	wantTags(t, c, b, "copy", "a=1", "b=2")
	// Even with a tagging header: only REPLACE takes it.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy2"), CopySource: aws.String(b + "/src"), Tagging: aws.String("c=3")}))(t)
	wantTags(t, c, b, "copy2", "a=1", "b=2")
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("repl"), CopySource: aws.String(b + "/src"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("c=3")}))(t)
	wantTags(t, c, b, "repl", "c=3")
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("none"), CopySource: aws.String(b + "/src"),
		TaggingDirective: types.TaggingDirectiveReplace}))(t)
	wantTags(t, c, b, "none")
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("bad"), CopySource: aws.String(b + "/src"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("aws:a=1")})
	wantAPIError(t, err, 400, "InvalidTag")

	// Multipart: the initiation's tags apply at Complete.
	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), Tagging: aws.String("stage=upload")}))(t)
	part := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))}))(t)
	must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}))(t)
	wantTags(t, c, b, "mp", "stage=upload")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp2"), Tagging: aws.String("a=1&a=2")})
	wantAPIError(t, err, 400, "InvalidArgument")
}

func sdkBucketTagging(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "btags")
	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &b})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchTagSet")
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &b, Tagging: &types.Tagging{TagSet: s3Tags("owner", "ops", "cost", "42")}}))(t)
	got := must(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &b}))(t)
	if l := tagList(got.TagSet); !slices.Equal(l, []string{"cost=42", "owner=ops"}) {
		t.Fatalf("bucket tags %q", l)
	}
	var fifty, fiftyOne []types.Tag
	for i := 0; i < 51; i++ {
		tg := types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}
		if i < 50 {
			fifty = append(fifty, tg)
		}
		fiftyOne = append(fiftyOne, tg)
	}
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &b, Tagging: &types.Tagging{TagSet: fifty}}))(t)
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &b, Tagging: &types.Tagging{TagSet: fiftyOne}})
	wantAPIError(t, err, 400, "InvalidTag")
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &b, Tagging: &types.Tagging{TagSet: s3Tags("a", "1", "a", "2")}})
	wantAPIError(t, err, 400, "InvalidTag")
	if n := len(must(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &b}))(t).TagSet); n != 50 {
		t.Fatalf("a refused PutBucketTagging changed the tags: %d", n)
	}
	del := must(c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: &b}))(t)
	if st := status(t, del.ResultMetadata); st != http.StatusNoContent {
		t.Fatalf("DeleteBucketTagging status %d", st)
	}
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &b})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchTagSet")
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("no-such-bucket-btags")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchBucket")

	// CreateBucket's configuration may carry the tags; invalid ones
	// refuse the bucket.
	tb := bucketName("btags-create")
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &tb, CreateBucketConfiguration: &types.CreateBucketConfiguration{Tags: s3Tags("project", "x")}}))(t)
	if l := tagList(must(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &tb}))(t).TagSet); !slices.Equal(l, []string{"project=x"}) {
		t.Fatalf("tags from CreateBucket: %q", l)
	}
	bad := bucketName("btags-bad")
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bad, CreateBucketConfiguration: &types.CreateBucketConfiguration{Tags: s3Tags("aws:x", "1")}})
	wantAPIError(t, err, 400, "InvalidTag")
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bad})
	wantAPIError(t, err, 404, "NotFound")

	ak, sk := e.user(t, "btagger-"+e.name)
	other := e.s3Client(t, ak, sk)
	_, err = other.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &b, Tagging: &types.Tagging{TagSet: s3Tags("a", "1")}})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	_, err = other.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: &b})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
}

// sdkTagConditions: s3:ExistingObjectTag/<key> gates reads by the
// object's tags; s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys
// gate what tags a writer may set.
func sdkTagConditions(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "tagcond")
	user := "reader-" + e.name
	ak, sk := e.user(t, user)
	u := e.s3Client(t, ak, sk)
	principal := `{"AWS":"arn:aws:iam::strongroom:user/` + user + `"}`
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"ReadPublic","Effect":"Allow","Principal":` + principal + `,"Action":["s3:GetObject","s3:GetObjectTagging","s3:GetObjectAcl"],
	  "Resource":"arn:aws:s3:::` + b + `/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/Class":"public"}}},
	 {"Sid":"WriteTeamTags","Effect":"Allow","Principal":` + principal + `,"Action":["s3:PutObject","s3:PutObjectTagging"],
	  "Resource":"arn:aws:s3:::` + b + `/*","Condition":{"StringEquals":{"s3:RequestObjectTag/team":"blue"},
	  "ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["team","class"]}}}]}`
	must(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &policy}))(t)
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("open"), Body: strings.NewReader("o"), Tagging: aws.String("class=public")}))(t)
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("closed"), Body: strings.NewReader("c"), Tagging: aws.String("class=secret")}))(t)
	put(t, c, b, "untagged", []byte("u"))

	get := func(k string) error {
		out, err := u.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &k})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	if err := get("open"); err != nil {
		t.Fatalf("reading an object tagged class=public: %v", err)
	}
	wantAPIError(t, get("closed"), 403, "AccessDenied")
	wantAPIError(t, get("untagged"), 403, "AccessDenied")
	var err error
	wantTags(t, u, b, "open", "class=public")
	must(u.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("open")}))(t)
	_, err = u.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("untagged")})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = u.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("closed")})
	wantAPIError(t, err, 403, "AccessDenied")
	// Retagging changes what the policy allows.
	must(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("closed"), Tagging: &types.Tagging{TagSet: s3Tags("Class", "public")}}))(t)
	if err := get("closed"); err != nil {
		t.Fatalf("reading after retagging to class=public: %v", err)
	}

	putTagged := func(k, tagging string) error {
		_, err := u.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &k, Body: strings.NewReader("w"), Tagging: aws.String(tagging)})
		return err
	}
	if err := putTagged("w1", "team=blue"); err != nil {
		t.Fatalf("PutObject with team=blue: %v", err)
	}
	if err := putTagged("w2", "team=blue&class=x"); err != nil {
		t.Fatalf("PutObject with team=blue, class=x: %v", err)
	}
	wantAPIError(t, putTagged("w3", "team=red"), 403, "AccessDenied")
	wantAPIError(t, putTagged("w4", "team=blue&cost=1"), 403, "AccessDenied")
	_, err = u.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("w5"), Body: strings.NewReader("w")})
	wantAPIError(t, err, 403, "AccessDenied") // no team tag
	_, err = u.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w1"), Tagging: &types.Tagging{TagSet: s3Tags("team", "red")}})
	wantAPIError(t, err, 403, "AccessDenied")
	must(u.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w1"), Tagging: &types.Tagging{TagSet: s3Tags("team", "blue", "class", "public")}}))(t)
	wantTags(t, c, b, "w1", "class=public", "team=blue")
}

func sdkObjectAttributes(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "attrs")
	t.Run("version", func(t *testing.T) {
		vb := newBucket(t, c, "attrsv")
		must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &vb, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
		old := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &vb, Key: aws.String("k"), Body: strings.NewReader("older, longer body")}))(t)
		must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &vb, Key: aws.String("k"), Body: strings.NewReader("new")}))(t)
		a := must(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &vb, Key: aws.String("k"), VersionId: old.VersionId,
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}}))(t)
		if aws.ToInt64(a.ObjectSize) != int64(len("older, longer body")) || aws.ToString(a.VersionId) != aws.ToString(old.VersionId) {
			t.Fatalf("attributes of an older version: size %d, version %q", aws.ToInt64(a.ObjectSize), aws.ToString(a.VersionId))
		}
	})
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}
	body := []byte("attributes of a single PUT")
	p := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("one"), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}))(t)
	a := must(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("one"), ObjectAttributes: all}))(t)
	if aws.ToString(a.ETag) != strings.Trim(aws.ToString(p.ETag), `"`) || aws.ToInt64(a.ObjectSize) != int64(len(body)) ||
		a.StorageClass != types.StorageClassStandard || a.Checksum == nil || aws.ToString(a.Checksum.ChecksumSHA256) != sha256b64(body) ||
		a.ObjectParts != nil || a.LastModified == nil {
		t.Fatalf("GetObjectAttributes of a PUT: %+v", a)
	}
	if a.Checksum.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("checksum type %q", a.Checksum.ChecksumType)
	}
	// Only what was asked for.
	a = must(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("one"), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}}))(t)
	if a.ETag != nil || a.Checksum != nil || a.StorageClass != "" || aws.ToInt64(a.ObjectSize) != int64(len(body)) {
		t.Fatalf("ObjectSize only: %+v", a)
	}

	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}))(t)
	var parts []types.CompletedPart
	for i, data := range [][]byte{payload(0, partMiB), payload(1, 3)} {
		out := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}))(t)
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
	}
	must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}))(t)
	a = must(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("mp"), ObjectAttributes: all, MaxParts: aws.Int32(1)}))(t)
	op := a.ObjectParts
	if op == nil || aws.ToInt32(op.TotalPartsCount) != 2 || !aws.ToBool(op.IsTruncated) || len(op.Parts) != 1 ||
		aws.ToInt32(op.Parts[0].PartNumber) != 1 || aws.ToInt64(op.Parts[0].Size) != partMiB ||
		aws.ToString(op.Parts[0].ChecksumCRC32C) != aws.ToString(parts[0].ChecksumCRC32C) || aws.ToString(op.NextPartNumberMarker) != "1" {
		t.Fatalf("ObjectParts page 1: %+v", op)
	}
	if a.Checksum == nil || a.Checksum.ChecksumType != types.ChecksumTypeComposite || aws.ToInt64(a.ObjectSize) != partMiB+3 {
		t.Fatalf("multipart attributes: %+v", a)
	}
	a = must(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("mp"), ObjectAttributes: all, PartNumberMarker: aws.String("1")}))(t)
	if op := a.ObjectParts; op == nil || len(op.Parts) != 1 || aws.ToInt32(op.Parts[0].PartNumber) != 2 || aws.ToBool(op.IsTruncated) {
		t.Fatalf("ObjectParts after marker 1: %+v", a.ObjectParts)
	}

	_, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("missing"), ObjectAttributes: all})
	wantAPIError(t, err, 404, "NoSuchKey")
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("one"), ObjectAttributes: []types.ObjectAttributes{"Colour"}})
	wantAPIError(t, err, 400, "InvalidArgument")
	ak, sk := e.user(t, "attrs-"+e.name)
	_, err = e.s3Client(t, ak, sk).GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("one"), ObjectAttributes: all})
	wantAPIError(t, err, 403, "AccessDenied")

	if e.tls { // SSE-C objects need their key, as for HEAD
		key := bytes.Repeat([]byte{7}, 32)
		sse := func(in *s3.PutObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(b64(key)), aws.String(md5b64(key))
		}
		in := &s3.PutObjectInput{Bucket: &b, Key: aws.String("ssec"), Body: strings.NewReader("secret")}
		sse(in)
		must(c.PutObject(ctx, in))(t)
		_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("ssec"), ObjectAttributes: all})
		wantAPIError(t, err, 400, "InvalidRequest")
		a = must(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: aws.String("ssec"), ObjectAttributes: all,
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(b64(key)), SSECustomerKeyMD5: aws.String(md5b64(key))}))(t)
		if aws.ToInt64(a.ObjectSize) != 6 {
			t.Fatalf("SSE-C attributes: %+v", a)
		}
	}
}

func minioTagging(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.minio(t, e.node.AccessKey, e.node.SecretKey)
	b := minioBucket(t, c, "mtags")
	minioPut(t, c, b, "k", []byte("data"), minio.PutObjectOptions{UserTags: map[string]string{"env": "prod", "team": "a b"}})
	ot, err := c.GetObjectTagging(ctx, b, "k", minio.GetObjectTaggingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := ot.ToMap(); len(m) != 2 || m["env"] != "prod" || m["team"] != "a b" {
		t.Fatalf("tags %v", m)
	}
	st, err := c.StatObject(ctx, b, "k", minio.StatObjectOptions{})
	if err != nil || st.UserTagCount != 2 {
		t.Fatalf("StatObject tag count %d (%v)", st.UserTagCount, err)
	}
	nt, _ := tags.NewTags(map[string]string{"x": "1"}, true)
	if err := c.PutObjectTagging(ctx, b, "k", nt, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if ot, err = c.GetObjectTagging(ctx, b, "k", minio.GetObjectTaggingOptions{}); err != nil || ot.String() != "x=1" {
		t.Fatalf("after PutObjectTagging: %v %v", ot, err)
	}
	if err := c.RemoveObjectTagging(ctx, b, "k", minio.RemoveObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if ot, err = c.GetObjectTagging(ctx, b, "k", minio.GetObjectTaggingOptions{}); err != nil || len(ot.ToMap()) != 0 {
		t.Fatalf("after RemoveObjectTagging: %v %v", ot, err)
	}
	_, err = c.GetObjectTagging(ctx, b, "missing", minio.GetObjectTaggingOptions{})
	wantMinioError(t, err, 404, "NoSuchKey")

	_, err = c.GetBucketTagging(ctx, b)
	wantMinioError(t, err, 404, "NoSuchTagSet")
	bt, _ := tags.NewTags(map[string]string{"cost": "7"}, false)
	if err := c.SetBucketTagging(ctx, b, bt); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetBucketTagging(ctx, b); err != nil || got.String() != "cost=7" {
		t.Fatalf("GetBucketTagging: %v %v", got, err)
	}
	if err := c.RemoveBucketTagging(ctx, b); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketTagging(ctx, b)
	wantMinioError(t, err, 404, "NoSuchTagSet")

	// minio-go's GetObjectAttributes (it refuses a response with an ETag
	// header, the sign of a server that answered GetObject instead).
	oa, err := c.GetObjectAttributes(ctx, b, "k", minio.ObjectAttributesOptions{})
	if err != nil || oa.ObjectSize != 4 || oa.ETag == "" || oa.StorageClass != "STANDARD" {
		t.Fatalf("GetObjectAttributes: %+v %v", oa, err)
	}
}

// anonymous sends an unsigned request.
func (e *env) anonymous(t *testing.T, method, path string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.node.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return do(t, e.node.Client, req)
}

func wantRaw(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || (code != "" && !bytes.Contains(body, []byte("<Code>"+code+"</Code>"))) {
		t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, status, code)
	}
}

func sdkCORS(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "cors")
	put(t, c, b, "k", []byte("data"))
	const app = "https://app.example.com"
	pre := func(origin, method, headers string) (*http.Response, []byte) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if method != "" {
			h.Set("Access-Control-Request-Method", method)
		}
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return e.anonymous(t, http.MethodOptions, "/"+b+"/k", h)
	}

	_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b})
	wantAPIError(t, err, 404, "NoSuchCORSConfiguration")
	resp, body := pre(app, "GET", "")
	wantRaw(t, resp, body, 403, "AccessForbidden")
	if !bytes.Contains(body, []byte("CORS is not enabled for this bucket")) {
		t.Errorf("preflight without configuration: %s", body)
	}

	rules := []types.CORSRule{
		{ID: aws.String("app"), AllowedOrigins: []string{app}, AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"x-amz-*", "Content-Type"}, ExposeHeaders: []string{"ETag", "x-amz-request-id"}, MaxAgeSeconds: aws.Int32(600)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "HEAD"}},
		{AllowedOrigins: []string{"https://*.example.org"}, AllowedMethods: []string{"DELETE"}},
	}
	must(c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &b, CORSConfiguration: &types.CORSConfiguration{CORSRules: rules}}))(t)
	got := must(c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b}))(t)
	if len(got.CORSRules) != 3 || aws.ToString(got.CORSRules[0].ID) != "app" || !slices.Equal(got.CORSRules[0].AllowedHeaders, rules[0].AllowedHeaders) ||
		aws.ToInt32(got.CORSRules[0].MaxAgeSeconds) != 600 || !slices.Equal(got.CORSRules[1].AllowedOrigins, []string{"*"}) || got.CORSRules[1].MaxAgeSeconds != nil {
		t.Fatalf("GetBucketCors: %+v", got.CORSRules)
	}

	resp, body = pre(app, "PUT", "Content-Type, X-Amz-Date")
	wantRaw(t, resp, body, 200, "")
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "GET, PUT",
		"Access-Control-Allow-Headers": "content-type, x-amz-date", "Access-Control-Max-Age": "600",
		"Access-Control-Expose-Headers": "ETag, x-amz-request-id", "Access-Control-Allow-Credentials": "true",
	} {
		if resp.Header.Get(k) != v {
			t.Errorf("preflight %s: %q, want %q", k, resp.Header.Get(k), v)
		}
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("preflight Vary %q", resp.Header.Get("Vary"))
	}
	resp, body = pre("https://other.example.net", "GET", "")
	wantRaw(t, resp, body, 200, "")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("wildcard rule: %v", resp.Header)
	}
	if resp, _ = pre("https://cdn.example.org", "DELETE", ""); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://cdn.example.org" {
		t.Errorf("wildcard origin https://*.example.org: %d %v", resp.StatusCode, resp.Header)
	}
	for _, tc := range []struct{ origin, method, headers string }{
		{"https://other.example.net", "PUT", ""},
		{app, "PUT", "Authorization"},
		{app, "POST", ""},
		{"https://example.org", "DELETE", ""},
	} {
		resp, body := pre(tc.origin, tc.method, tc.headers)
		wantRaw(t, resp, body, 403, "AccessForbidden")
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("refused preflight %v carries Allow-Origin", tc)
		}
	}
	resp, body = pre("", "GET", "")
	wantRaw(t, resp, body, 400, "BadRequest")
	resp, body = pre(app, "", "")
	wantRaw(t, resp, body, 400, "BadRequest")
	resp, body = e.anonymous(t, http.MethodOptions, "/no-such-bucket-cors/k", http.Header{"Origin": {app}, "Access-Control-Request-Method": {"GET"}})
	wantRaw(t, resp, body, 403, "AccessForbidden")

	// Actual requests get the headers of the matching rule, errors too.
	req := signedRequest(t, e.node.URL, e.node.AccessKey, e.node.SecretKey, http.MethodGet, "/"+b+"/k", "", nil, http.Header{"Origin": {app}}, "")
	resp, body = do(t, e.node.Client, req)
	if resp.StatusCode != 200 || string(body) != "data" || resp.Header.Get("Access-Control-Allow-Origin") != app || resp.Header.Get("Access-Control-Expose-Headers") != "ETag, x-amz-request-id" {
		t.Errorf("GET with Origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = e.anonymous(t, http.MethodGet, "/"+b+"/k", http.Header{"Origin": {"https://any.example"}})
	wantRaw(t, resp, body, 403, "AccessDenied")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("denied GET with Origin lacks CORS headers: %v", resp.Header)
	}
	resp, _ = e.anonymous(t, http.MethodPut, "/"+b+"/k", http.Header{"Origin": {"https://other.example.net"}})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("PUT from an origin allowed only GET and HEAD got CORS headers: %v", resp.Header)
	}
	resp, _ = e.anonymous(t, http.MethodGet, "/"+b+"/k", nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET without Origin got CORS headers")
	}

	for _, tc := range []struct {
		rule types.CORSRule
		code string
	}{
		{types.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}, "InvalidRequest"},
		{types.CORSRule{AllowedOrigins: []string{"https://*.*.example"}, AllowedMethods: []string{"GET"}}, "InvalidRequest"},
		{types.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*-*"}}, "InvalidRequest"},
	} {
		_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &b, CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{tc.rule}}})
		wantAPIError(t, err, 400, tc.code)
	}
	for _, doc := range []string{"<CORSConfiguration/>", "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", "<CORSConfiguration>"} {
		req := signedRequest(t, e.node.URL, e.node.AccessKey, e.node.SecretKey, http.MethodPut, "/"+b, "cors=", []byte(doc), http.Header{"Content-Md5": {md5b64([]byte(doc))}}, "")
		resp, body := do(t, e.node.Client, req)
		wantRaw(t, resp, body, 400, "MalformedXML")
	}
	var many []types.CORSRule
	for i := 0; i < 101; i++ {
		many = append(many, types.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}})
	}
	_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &b, CORSConfiguration: &types.CORSConfiguration{CORSRules: many}})
	wantAPIError(t, err, 400, "MalformedXML")

	ak, sk := e.user(t, "corser-"+e.name)
	other := e.s3Client(t, ak, sk)
	_, err = other.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &b, CORSConfiguration: &types.CORSConfiguration{CORSRules: rules}})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = other.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b})
	wantAPIError(t, err, 403, "AccessDenied")

	del := must(c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: &b}))(t)
	if st := status(t, del.ResultMetadata); st != http.StatusNoContent {
		t.Fatalf("DeleteBucketCors status %d", st)
	}
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b})
	wantAPIError(t, err, 404, "NoSuchCORSConfiguration")
	resp, body = pre(app, "GET", "")
	wantRaw(t, resp, body, 403, "AccessForbidden")
}

func minioCORS(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.minio(t, e.node.AccessKey, e.node.SecretKey)
	b := minioBucket(t, c, "mcors")
	cfg := cors.NewConfig([]cors.Rule{{AllowedOrigin: []string{"https://a.example"}, AllowedMethod: []string{"GET"}, MaxAgeSeconds: 30}})
	if err := c.SetBucketCors(ctx, b, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketCors(ctx, b)
	if err != nil || len(got.CORSRules) != 1 || got.CORSRules[0].AllowedOrigin[0] != "https://a.example" || got.CORSRules[0].MaxAgeSeconds != 30 {
		t.Fatalf("GetBucketCors: %+v %v", got, err)
	}
	if err := c.SetBucketCors(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetBucketCors(ctx, b); err != nil || got != nil {
		t.Fatalf("GetBucketCors after removal: %+v %v", got, err)
	}
}

func sdkPublicAccessBlock(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.root(t)
	b := newBucket(t, c, "pab")
	_, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &b})
	wantAPIError(t, err, 404, "NoSuchPublicAccessBlockConfiguration")
	setPAB := func(acls, ignore, policy, restrict bool) {
		t.Helper()
		must(c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &b, PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: &acls, IgnorePublicAcls: &ignore, BlockPublicPolicy: &policy, RestrictPublicBuckets: &restrict}}))(t)
	}
	anonGet := func(key string) int {
		resp, _ := e.anonymous(t, http.MethodGet, "/"+b+"/"+key, nil)
		return resp.StatusCode
	}
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("pub"), Body: strings.NewReader("p"), ACL: types.ObjectCannedACLPublicRead}))(t)
	if st := anonGet("pub"); st != 200 {
		t.Fatalf("anonymous GET of a public-read object: %d", st)
	}

	// IgnorePublicAcls: the ACL stays, and grants nothing.
	setPAB(false, true, false, false)
	if st := anonGet("pub"); st != 403 {
		t.Fatalf("anonymous GET with IgnorePublicAcls: %d", st)
	}
	got := must(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &b}))(t).PublicAccessBlockConfiguration
	if aws.ToBool(got.BlockPublicAcls) || !aws.ToBool(got.IgnorePublicAcls) || aws.ToBool(got.BlockPublicPolicy) || aws.ToBool(got.RestrictPublicBuckets) {
		t.Fatalf("GetPublicAccessBlock: %+v", got)
	}

	// BlockPublicAcls: every way of setting a public ACL is refused.
	setPAB(true, false, false, false)
	if st := anonGet("pub"); st != 200 {
		t.Fatalf("existing public ACL with only BlockPublicAcls: %d", st)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("new"), Body: strings.NewReader("n"), ACL: types.ObjectCannedACLPublicRead})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("pub"), ACL: types.ObjectCannedACLAuthenticatedRead})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPublicReadWrite})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("cp"), CopySource: aws.String(b + "/pub"), ACL: types.ObjectCannedACLPublicRead})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), ACL: types.ObjectCannedACLPublicReadWrite})
	wantAPIError(t, err, 403, "AccessDenied")
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("priv"), Body: strings.NewReader("n"), ACL: types.ObjectCannedACLPrivate}))(t)
	must(c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("pub"), ACL: types.ObjectCannedACLPrivate}))(t)

	// Public policies.
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`
	fromLoopback := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*",
	  "Condition":{"IpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}}]}`
	setPAB(false, false, true, false)
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: aws.String(public)})
	wantAPIError(t, err, 403, "AccessDenied")
	must(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: aws.String(fromLoopback)}))(t)
	if st := anonGet("priv"); st != 200 {
		t.Fatalf("anonymous GET allowed by a source-IP policy: %d", st)
	}
	setPAB(false, false, false, true)
	if st := anonGet("priv"); st != 200 {
		t.Fatalf("RestrictPublicBuckets must not touch a non-public policy: %d", st)
	}
	must(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: aws.String(public)}))(t)
	if st := anonGet("priv"); st != 403 {
		t.Fatalf("anonymous GET through a public policy with RestrictPublicBuckets: %d", st)
	}
	del := must(c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: &b}))(t)
	if st := status(t, del.ResultMetadata); st != http.StatusNoContent {
		t.Fatalf("DeletePublicAccessBlock status %d", st)
	}
	if st := anonGet("priv"); st != 200 {
		t.Fatalf("anonymous GET through a public policy: %d", st)
	}
	_, err = c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &b})
	wantAPIError(t, err, 404, "NoSuchPublicAccessBlockConfiguration")

	ak, sk := e.user(t, "pab-"+e.name)
	other := e.s3Client(t, ak, sk)
	_, err = other.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: &b})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = other.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &b})
	wantAPIError(t, err, 403, "AccessDenied")
}
