package e2esse

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
)

// Browser form uploads (POST Object): forms built as a browser sends them
// (mime/multipart), signed as the S3 documentation's POST examples sign
// (SigV4 and V2), posted over TLS; and minio-go's PresignedPostPolicy as a
// real client.

// field is one form field; forms keep their order.
type field struct{ name, value string }

// postForm describes a form to sign and post.
type postForm struct {
	fields []field // before the file; each gets an eq condition unless bare
	conds  []any   // more conditions
	bare   bool
	exp    time.Time // zero: in an hour
	v2     bool
	ak, sk string // zero: the node's root credentials
	anon   bool   // no policy, no signature
	after  []field
}

// sign returns the form's fields with its policy and signature.
func (e *env) sign(bucket string, p postForm) []field {
	if p.anon {
		return p.fields
	}
	ak, sk := p.ak, p.sk
	if ak == "" {
		ak, sk = e.node.AccessKey, e.node.SecretKey
	}
	exp := p.exp
	if exp.IsZero() {
		exp = time.Now().Add(time.Hour)
	}
	conds := []any{map[string]string{"bucket": bucket}}
	if !p.bare {
		for _, f := range p.fields {
			conds = append(conds, map[string]string{f.name: f.value})
		}
	}
	conds = append(conds, p.conds...)
	fields := append([]field(nil), p.fields...)
	if !p.v2 {
		for _, f := range e2eutil.SignPostV4(ak, sk, region, time.Now(), exp, conds) {
			fields = append(fields, field{f.Name, f.Value})
		}
		return fields
	}
	doc, err := json.Marshal(map[string]any{"expiration": exp.UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conds})
	if err != nil {
		panic(err)
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	m := hmac.New(sha1.New, []byte(sk))
	m.Write([]byte(policy))
	return append(fields, field{"Policy", policy}, field{"AWSAccessKeyId", ak}, field{"Signature", base64.StdEncoding.EncodeToString(m.Sum(nil))})
}

// post sends fields, the file (streamed: the body is never built whole)
// and the fields after it to baseURL/bucket.
func post(t testing.TB, c *http.Client, baseURL, bucket string, fields []field, fileName string, file io.Reader, after ...field) (*http.Response, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range fields {
			mw.WriteField(f.name, f.value)
		}
		fw, err := mw.CreateFormFile("file", fileName)
		if err == nil {
			_, err = io.Copy(fw, file)
		}
		for _, f := range after {
			mw.WriteField(f.name, f.value)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/"+bucket, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", bucket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	pr.CloseWithError(io.EOF) // a refused upload stops the writer
	return resp, body
}

func (e *env) postForm(t testing.TB, bucket string, p postForm, fileName string, data []byte) (*http.Response, []byte) {
	t.Helper()
	return post(t, e.node.Client, e.node.URL, bucket, e.sign(bucket, p), fileName, bytes.NewReader(data), p.after...)
}

// wantMissing asserts that no object exists under key.
func (e *env) wantMissing(t testing.TB, what, bucket, key string) {
	t.Helper()
	_, err := e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	wantAPIError(t, what+": HEAD after a refused upload", err, http.StatusNotFound, "NotFound")
}

// wantMessage asserts an error document's message.
func wantMessage(t testing.TB, what string, body []byte, msg string) {
	t.Helper()
	var doc struct{ Message string }
	if err := xml.Unmarshal(body, &doc); err != nil || doc.Message != msg {
		t.Errorf("%s: message %q, want %q", what, doc.Message, msg)
	}
}

func TestPostObjectSSE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("post-sse")
	marker := fmt.Sprintf("STRONGROOM-POST-CANARY-%x", randBytes(8))
	data := append(randBytes(3*seg+5), marker...)
	var needles needleSet
	needles.add("marker", []byte(marker))
	needles.add("data", data[seg:seg+64])

	withContext := mode{name: "SSE-KMS(context, bucket key)", kind: kKMS, keyID: "key-1", context: map[string]string{"app": "form"}, bucketKey: true}
	modes := []mode{sseS3, sseKMS("key-1"), sseKMS(""), withContext, sseC(e.customerKey(), "SSE-C")}
	for i, m := range modes {
		key := fmt.Sprintf("form-%d", i)
		var fields []field
		for k, v := range m.headers() {
			fields = append(fields, field{k, v[0]})
		}
		fields = append(fields, field{"key", key})
		resp, body := e.postForm(t, bucket, postForm{fields: fields}, "canary.bin", data)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: POST %d %s", m.name, resp.StatusCode, body)
		}
		if got := resp.Header.Get("ETag"); got == "" {
			t.Errorf("%s: no ETag", m.name)
		}
		m.checkHeaders(t, "POST "+m.name, resp.Header, echo{keyMD5: true})
		head, err := e.c.HeadObject(e.ctx, m.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
		if err != nil {
			t.Fatalf("%s: HEAD: %v", m.name, err)
		}
		m.checkHeaders(t, "HEAD "+m.name, raw(t, head.ResultMetadata).Header, echo{keyMD5: true})
		if got, _ := e.getObject(t, bucket, key, "", m); !bytes.Equal(got, data) {
			t.Errorf("%s: read back wrong", m.name)
		}
		if m.kind == kSSEC {
			_, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			wantAPIError(t, "SSE-C object read without its key", err, http.StatusBadRequest, "InvalidRequest")
		}
	}
	e.scanAll(t, "form uploads", &needles)
}

func TestPostObjectBucketDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("post-default")
	if _, err := e.c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("key-1")},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.postForm(t, bucket, postForm{fields: []field{{"key", "plain-form"}}}, "a.txt", []byte("hello"))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST %d %s", resp.StatusCode, body)
	}
	sseKMS("key-1").checkHeaders(t, "POST under a KMS default", resp.Header, echo{})
	head := must(e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain-form")}))(t)
	sseKMS("key-1").checkHeaders(t, "HEAD under a KMS default", raw(t, head.ResultMetadata).Header, echo{})
}

func TestPostObjectSSECNeedsTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{plainHTTP: true})
	bucket := e.bucket("post-plain")
	var fields []field
	for k, v := range sseC(e.customerKey(), "SSE-C").headers() {
		fields = append(fields, field{k, v[0]})
	}
	fields = append(fields, field{"key", "ssec"})
	resp, body := e.postForm(t, bucket, postForm{fields: fields}, "a", []byte("secret"))
	wantRawError(t, "SSE-C form over HTTP", resp, body, http.StatusBadRequest, "InvalidRequest")
	e.wantMissing(t, "SSE-C form over HTTP", bucket, "ssec")
}

func TestPostObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bucket := e.bucket("post")
	key := func(k string) field { return field{"key", k} }

	t.Run("content-length-range", func(t *testing.T) {
		rng := []any{[]any{"content-length-range", 10, MiB}}
		// Too large: 4 MiB streamed against a 1 MiB maximum. The upload
		// aborts while streaming and nothing is stored.
		resp, body := e.postForm(t, bucket, postForm{fields: []field{key("big")}, conds: rng}, "big", randBytes(4*MiB))
		wantRawError(t, "too large", resp, body, http.StatusBadRequest, "EntityTooLarge")
		wantMessage(t, "too large", body, "Your proposed upload exceeds the maximum allowed size")
		e.wantMissing(t, "too large", bucket, "big")
		resp, body = e.postForm(t, bucket, postForm{fields: []field{key("small")}, conds: rng}, "small", []byte("123456789"))
		wantRawError(t, "too small", resp, body, http.StatusBadRequest, "EntityTooSmall")
		wantMessage(t, "too small", body, "Your proposed upload is smaller than the minimum allowed size")
		e.wantMissing(t, "too small", bucket, "small")
		for _, n := range []int{10, MiB} {
			resp, body = e.postForm(t, bucket, postForm{fields: []field{key("fits")}, conds: rng}, "fits", randBytes(n))
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("%d bytes in [10, 1 MiB]: %d %s", n, resp.StatusCode, body)
			}
		}
	})

	t.Run("filename", func(t *testing.T) {
		p := postForm{fields: []field{key("uploads/${filename}")}, bare: true, conds: []any{[]any{"starts-with", "$key", "uploads/"}}}
		resp, body := e.postForm(t, bucket, p, `C:\Users\eric\photo.jpg`, []byte("jpeg"))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %d %s", resp.StatusCode, body)
		}
		if got, _ := e.getObject(t, bucket, "uploads/photo.jpg", "", none); string(got) != "jpeg" {
			t.Errorf("uploads/photo.jpg = %q", got)
		}
	})

	t.Run("success actions", func(t *testing.T) {
		data := []byte("status")
		etag := quoted(md5hex(data))
		resp, body := e.postForm(t, bucket, postForm{fields: []field{key("s/204")}}, "f", data)
		if resp.StatusCode != http.StatusNoContent || len(body) != 0 || resp.Header.Get("ETag") != etag ||
			resp.Header.Get("Location") != e.node.URL+"/"+bucket+"/s%2F204" {
			t.Errorf("default: %d %q ETag %q Location %q", resp.StatusCode, body, resp.Header.Get("ETag"), resp.Header.Get("Location"))
		}
		resp, body = e.postForm(t, bucket, postForm{fields: []field{key("s/200"), {"success_action_status", "200"}}}, "f", data)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("200: %d %q", resp.StatusCode, body)
		}
		resp, body = e.postForm(t, bucket, postForm{fields: []field{key("s/201"), {"success_action_status", "201"}}}, "f", data)
		var pr struct {
			XMLName                     xml.Name `xml:"PostResponse"`
			Location, Bucket, Key, ETag string
		}
		if err := xml.Unmarshal(body, &pr); err != nil || resp.StatusCode != http.StatusCreated ||
			pr.Bucket != bucket || pr.Key != "s/201" || pr.ETag != etag || pr.Location != e.node.URL+"/"+bucket+"/s%2F201" {
			t.Errorf("201: %d %s (%v)", resp.StatusCode, body, err)
		}
		c := *e.node.Client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		redirect := "https://example.com/done?from=form"
		resp, body = post(t, &c, e.node.URL, bucket, e.sign(bucket, postForm{fields: []field{key("s/303"), {"success_action_redirect", redirect}}}), "f", bytes.NewReader(data))
		want := redirect + "&bucket=" + bucket + "&key=s%2F303&etag=" + url.QueryEscape(etag)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("redirect: %d Location %q, want %q (%s)", resp.StatusCode, resp.Header.Get("Location"), want, body)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		sum := sha256.Sum256([]byte("png"))
		fields := []field{key("meta"), {"Content-Type", "image/png"}, {"Cache-Control", "max-age=60"}, {"x-amz-meta-color", "green"},
			{"x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum[:])}, {"x-ignore-submit", "Upload"}}
		// x-ignore-* needs no condition; fields after the file are ignored.
		p := postForm{fields: fields, bare: true, after: []field{{"x-amz-meta-after", "ignored"}}}
		for _, f := range fields[:5] {
			p.conds = append(p.conds, map[string]string{f.name: f.value})
		}
		resp, body := e.postForm(t, bucket, p, "m", []byte("png"))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %d %s", resp.StatusCode, body)
		}
		h := must(e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("meta"), ChecksumMode: types.ChecksumModeEnabled}))(t)
		if aws.ToString(h.ContentType) != "image/png" || aws.ToString(h.CacheControl) != "max-age=60" || h.Metadata["color"] != "green" || h.Metadata["after"] != "" ||
			aws.ToString(h.ChecksumSHA256) != fields[4].value {
			t.Errorf("HEAD: type %q cache %q meta %v sha256 %q", aws.ToString(h.ContentType), aws.ToString(h.CacheControl), h.Metadata, aws.ToString(h.ChecksumSHA256))
		}
	})

	t.Run("tagging", func(t *testing.T) {
		doc := `<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag><Tag><Key>tier</Key><Value>gold</Value></Tag></TagSet></Tagging>`
		resp, body := e.postForm(t, bucket, postForm{fields: []field{key("tagged"), {"tagging", doc}}}, "t", []byte("tagged"))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %d %s", resp.StatusCode, body)
		}
		got := must(e.c.GetObjectTagging(e.ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("tagged")}))(t)
		if len(got.TagSet) != 2 || aws.ToString(got.TagSet[0].Key) != "team" || aws.ToString(got.TagSet[1].Value) != "gold" {
			t.Fatalf("tags %+v", got.TagSet)
		}
		bad := `<Tagging><TagSet><Tag><Key>aws:reserved</Key><Value>x</Value></Tag></TagSet></Tagging>`
		resp, body = e.postForm(t, bucket, postForm{fields: []field{key("badtag"), {"tagging", bad}}}, "t", []byte("x"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "InvalidTag") {
			t.Fatalf("reserved tag key: %d %s", resp.StatusCode, body)
		}
		e.wantMissing(t, "a form with a bad tag", bucket, "badtag")
	})

	t.Run("object lock fields are not dropped", func(t *testing.T) {
		// The bucket has no object lock: a form asking for one is refused
		// as the same PUT would be, never stored unlocked.
		fields := []field{key("locked"), {"x-amz-object-lock-mode", "GOVERNANCE"}, {"x-amz-object-lock-retain-until-date", time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}}
		resp, body := e.postForm(t, bucket, postForm{fields: fields}, "l", []byte("locked"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "InvalidRequest") {
			t.Fatalf("object lock fields on a bucket without object lock: %d %s", resp.StatusCode, body)
		}
		e.wantMissing(t, "a form asking for a lock", bucket, "locked")
	})

	t.Run("sigv2", func(t *testing.T) {
		resp, body := e.postForm(t, bucket, postForm{fields: []field{key("v2")}, v2: true}, "f", []byte("v2"))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %d %s", resp.StatusCode, body)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			p      postForm
			status int
			code   string
			msg    string
		}{
			{"extra field", postForm{fields: []field{key("r/extra"), {"x-amz-meta-note", "x"}}, bare: true, conds: []any{[]any{"starts-with", "$key", ""}}},
				http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-note"},
			{"extra SSE field", postForm{fields: []field{key("r/sse"), {"x-amz-server-side-encryption", "AES256"}}, bare: true, conds: []any{map[string]string{"key": "r/sse"}}},
				http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-server-side-encryption"},
			{"condition failed", postForm{fields: []field{key("r/other")}, bare: true, conds: []any{[]any{"starts-with", "$key", "user/"}}},
				http.StatusForbidden, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]`},
			{"expired", postForm{fields: []field{key("r/expired")}, exp: time.Now().Add(-time.Second)},
				http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired."},
			{"wrong secret", postForm{fields: []field{key("r/secret")}, ak: e.node.AccessKey, sk: "not-the-secret"},
				http.StatusForbidden, "SignatureDoesNotMatch", ""},
			{"wrong secret v2", postForm{fields: []field{key("r/secret2")}, ak: e.node.AccessKey, sk: "not-the-secret", v2: true},
				http.StatusForbidden, "SignatureDoesNotMatch", ""},
			{"unknown key", postForm{fields: []field{key("r/unknown")}, ak: "AKIAUNKNOWN", sk: "x"},
				http.StatusForbidden, "InvalidAccessKeyId", ""},
			{"anonymous on a private bucket", postForm{fields: []field{key("r/anon")}, anon: true},
				http.StatusForbidden, "AccessDenied", "Access Denied"},
			{"wrong Content-MD5", postForm{fields: []field{key("r/md5"), {"Content-MD5", md5b64([]byte("other"))}}},
				http.StatusBadRequest, "BadDigest", ""},
			{"wrong checksum", postForm{fields: []field{key("r/sha256"), {"x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(make([]byte, 32))}}},
				http.StatusBadRequest, "BadDigest", ""},
			{"no key", postForm{fields: []field{{"Content-Type", "text/plain"}}},
				http.StatusBadRequest, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."},
		} {
			resp, body := e.postForm(t, bucket, tc.p, "f", []byte("refused"))
			wantRawError(t, tc.name, resp, body, tc.status, tc.code)
			if tc.msg != "" {
				wantMessage(t, tc.name, body, tc.msg)
			}
			if len(tc.p.fields) > 0 && tc.p.fields[0].name == "key" {
				e.wantMissing(t, tc.name, bucket, tc.p.fields[0].value)
			}
		}
		// Fields before the file are bounded (S3: 20 KB).
		resp, body := e.postForm(t, bucket, postForm{fields: []field{key("r/big"), {"x-ignore-pad", strings.Repeat("a", 21<<10)}}}, "f", []byte("x"))
		wantRawError(t, "21 KiB of fields", resp, body, http.StatusBadRequest, "MaxPostPreDataLengthExceededError")
	})

	t.Run("anonymous on a public-write bucket", func(t *testing.T) {
		public := e.bucket("post-public")
		if _, err := e.c.PutBucketAcl(e.ctx, &s3.PutBucketAclInput{Bucket: aws.String(public), ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
			t.Fatal(err)
		}
		resp, body := e.postForm(t, public, postForm{fields: []field{key("anon")}, anon: true}, "f", []byte("anon"))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %d %s", resp.StatusCode, body)
		}
	})
}

// TestPostObjectBucketPolicy: a bucket policy that denies unencrypted
// writes applies to form uploads as to PUT.
func TestPostObjectBucketPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cr, err := e.node.IAM.CreateUser(context.Background(), "poster")
	if err != nil {
		t.Fatal(err)
	}
	uc := e.client(cr.AccessKey, cr.SecretKey)
	bucket := fmt.Sprintf("post-policy-%d", uniq.Add(1))
	if _, err := uc.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version": "2012-10-17", "Statement": [{"Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*",
		"Action": "s3:PutObject", "Resource": "arn:aws:s3:::` + bucket + `/*",
		"Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}]}`
	if _, err := uc.PutBucketPolicy(e.ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	user := postForm{ak: cr.AccessKey, sk: cr.SecretKey}
	user.fields = []field{{"key", "plain"}}
	resp, body := e.postForm(t, bucket, user, "f", []byte("plain"))
	wantRawError(t, "unencrypted form", resp, body, http.StatusForbidden, "AccessDenied")
	e.wantMissing(t, "unencrypted form", bucket, "plain")
	user.fields = []field{{"key", "sealed"}, {"x-amz-server-side-encryption", "AES256"}}
	resp, body = e.postForm(t, bucket, user, "f", []byte("sealed"))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("encrypted form: %d %s", resp.StatusCode, body)
	}
	// The same refusal for a PUT: the form takes the same path.
	_, err = uc.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("put"), Body: strings.NewReader("x")})
	wantAPIError(t, "unencrypted PUT", err, http.StatusForbidden, "AccessDenied")
}

// TestPostObjectMinio uses minio-go's PresignedPostPolicy, a real client's
// form signer.
func TestPostObjectMinio(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bucket := e.bucket("post-minio")
	mc, err := minio.New(strings.TrimPrefix(e.node.URL, "https://"), &minio.Options{
		Creds: credentials.NewStaticV4(e.node.AccessKey, e.node.SecretKey, ""), Secure: true,
		Transport: e.node.Client.Transport, Region: region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	policy := func(key string) *minio.PostPolicy {
		p := minio.NewPostPolicy()
		for _, err := range []error{
			p.SetBucket(bucket), p.SetKey(key), p.SetExpires(time.Now().Add(time.Hour)),
			p.SetContentType("text/plain"), p.SetContentLengthRange(1, 1024), p.SetUserMetadata("origin", "minio"),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	send := func(p *minio.PostPolicy, data string) (*http.Response, []byte) {
		u, form, err := mc.PresignedPostPolicy(e.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var fields []field
		for k, v := range form {
			fields = append(fields, field{k, v})
		}
		base := strings.TrimSuffix(u.String(), "/"+bucket+"/")
		return post(t, e.node.Client, base, bucket, fields, "m.txt", strings.NewReader(data))
	}
	resp, body := send(policy("minio-form"), "from minio")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("minio form: %d %s", resp.StatusCode, body)
	}
	obj, err := mc.GetObject(e.ctx, bucket, "minio-form", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	st, _ := obj.Stat()
	if err != nil || string(got) != "from minio" || st.ContentType != "text/plain" || st.UserMetadata["Origin"] != "minio" {
		t.Errorf("read back %q %v: type %q meta %v", got, err, st.ContentType, st.UserMetadata)
	}
	// minio-go's SetEncryption adds the SSE fields without a condition:
	// S3 refuses such a form, and so does strongroom.
	p := policy("minio-sse")
	p.SetEncryption(encrypt.NewSSE())
	resp, body = send(p, "x")
	wantRawError(t, "minio SetEncryption", resp, body, http.StatusForbidden, "AccessDenied")
	wantMessage(t, "minio SetEncryption", body, "Invalid according to Policy: Extra input fields: x-amz-server-side-encryption")
}

// TestPostObjectHeaderSigned: a form without a signature in a request
// signed in its headers is that principal's upload; with a SHA-256 payload
// hash the whole body is checked before anything is stored, although the
// fields after the file are never used.
func TestPostObjectHeaderSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bucket := e.bucket("post-header")
	form := func(key string) ([]byte, http.Header) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("key", key)
		mw.WriteField("x-amz-server-side-encryption", "AES256")
		fw, _ := mw.CreateFormFile("file", "f")
		fw.Write(randBytes(seg + 1))
		mw.WriteField("x-ignore-after", strings.Repeat("t", 1000))
		mw.Close()
		return b.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}}
	}
	body, h := form("signed")
	resp, doc := e.do(t, e.signed(t, http.MethodPost, "/"+bucket, "", body, h))
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("header-signed form: %d %s", resp.StatusCode, doc)
	}
	// The same, with a byte after the file changed once signed.
	body, h = form("tampered")
	req := e.signed(t, http.MethodPost, "/"+bucket, "", body, h)
	body[len(body)-60] ^= 1
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, doc = e.do(t, req)
	wantRawError(t, "tampered tail", resp, doc, http.StatusBadRequest, "XAmzContentSHA256Mismatch")
	e.wantMissing(t, "tampered tail", bucket, "tampered")
}
