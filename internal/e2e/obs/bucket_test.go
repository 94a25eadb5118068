package e2eobs

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Bucket default encryption: put / get / delete for SSE-KMS with a key and
// project, SSE-OBS (AES256), the S3 spelling aws:kms, and SM4 through the
// KMSDataEncryption element (sent with an SDK-signed URL, as the SDK has no
// field for it).
func TestBucketEncryption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obs-bucket-key")
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "enc-"+m.name)

		_, err := c.GetBucketEncryption(b)
		wantObsErr(t, err, 404, "NoSuchEncryptionConfiguration")

		for _, cfg := range []obs.BucketEncryptionConfiguration{
			{SSEAlgorithm: "kms", KMSMasterKeyID: key, ProjectID: "proj-1"},
			{SSEAlgorithm: "kms"},
			{SSEAlgorithm: "AES256"},
			{SSEAlgorithm: "aws:kms", KMSMasterKeyID: key},
		} {
			out, err := c.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: b, BucketEncryptionConfiguration: cfg})
			if err != nil {
				t.Fatalf("set %+v: %v", cfg, err)
			}
			if out.StatusCode != 200 {
				t.Fatalf("set: status %d", out.StatusCode)
			}
			got, err := c.GetBucketEncryption(b)
			if err != nil {
				t.Fatalf("get after %+v: %v", cfg, err)
			}
			want := cfg
			if want.SSEAlgorithm == "aws:kms" {
				want.SSEAlgorithm = "kms" // OBS answers with its own spelling
			}
			got.BucketEncryptionConfiguration.XMLName = want.XMLName
			if got.BucketEncryptionConfiguration != want {
				t.Fatalf("get: %+v; want %+v", got.BucketEncryptionConfiguration, want)
			}
			wantRequestID(t, &got.BaseModel)
		}

		// SM4: KMSDataEncryption in the document.
		doc := "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>kms</SSEAlgorithm>" +
			"<KMSMasterKeyID>" + key + "</KMSMasterKeyID><KMSDataEncryption>SM4</KMSDataEncryption>" +
			"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
		put, err := c.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodPut, Bucket: b, SubResource: obs.SubResourceEncryption, Expires: 300})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SetBucketEncryptionWithSignedURL(put.SignedUrl, put.ActualSignedRequestHeaders, strings.NewReader(doc)); err != nil {
			t.Fatalf("set SM4: %v", err)
		}
		raw := signedGet(t, e, c, m, &obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, SubResource: obs.SubResourceEncryption, Expires: 300})
		if !strings.Contains(raw, "<SSEAlgorithm>kms</SSEAlgorithm><KMSMasterKeyID>"+key+"</KMSMasterKeyID><KMSDataEncryption>SM4</KMSDataEncryption>") {
			t.Fatalf("SM4 document: %s", raw)
		}
		// ... and objects written now are SM4.
		body := []byte("sm4 by default")
		if _, err := c.PutObject(putInput(b, "sm4", body)); err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "SM4 default", &head(t, c, b, "sm4", nil).BaseModel, sse{mode: "kms", data: "SM4", keyID: key})

		del, err := c.DeleteBucketEncryption(b)
		if err != nil {
			t.Fatal(err)
		}
		if del.StatusCode != 204 {
			t.Fatalf("delete: status %d", del.StatusCode)
		}
		_, err = c.GetBucketEncryption(b)
		wantObsErr(t, err, 404, "NoSuchEncryptionConfiguration")
	})
}

// signedGet fetches an SDK-presigned GET URL with a plain HTTP client and
// returns the body.
func signedGet(t *testing.T, e *env, c *obs.ObsClient, m mode, in *obs.CreateSignedUrlInput) string {
	t.Helper()
	resp, b := signedDo(t, e, c, m, in, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("presigned GET: %d %s (%s)", resp.StatusCode, resp.Header.Get("x-obs-error-code"), b)
	}
	return string(b)
}

// signedDo sends a request on a URL the SDK presigned (in.Method, with
// body) with a plain HTTP client and returns the response and its body.
func signedDo(t *testing.T, e *env, c *obs.ObsClient, m mode, in *obs.CreateSignedUrlInput, body []byte) (*http.Response, []byte) {
	t.Helper()
	out, err := c.CreateSignedUrl(in)
	if err != nil {
		t.Fatal(err)
	}
	_, addr := e.endpoint(m)
	req, err := http.NewRequest(string(in.Method), out.SignedUrl, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range out.ActualSignedRequestHeaders {
		if !strings.EqualFold(k, "Host") {
			req.Header[k] = vs
		}
	}
	resp, err := (&http.Client{Transport: transport(addr, nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestBucketEncryptionErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obs-err-key")
	bob, err := e.node.IAM.CreateUser(e.ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "encerr-"+m.name)
		set := func(bucket string, cfg obs.BucketEncryptionConfiguration) error {
			_, err := c.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: bucket, BucketEncryptionConfiguration: cfg})
			return err
		}
		for _, tc := range []struct {
			name string
			cfg  obs.BucketEncryptionConfiguration
			code string
		}{
			{"invalid algorithm", obs.BucketEncryptionConfiguration{SSEAlgorithm: "DES"}, "InvalidArgument"},
			{"SM4 as algorithm", obs.BucketEncryptionConfiguration{SSEAlgorithm: "SM4"}, "InvalidArgument"},
			{"key id with AES256", obs.BucketEncryptionConfiguration{SSEAlgorithm: "AES256", KMSMasterKeyID: key}, "InvalidArgument"},
			{"project without key", obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", ProjectID: "proj-1"}, "InvalidArgument"},
			{"unknown key", obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", KMSMasterKeyID: "no-such-key"}, "KMS.NotFoundException"},
		} {
			wantObsErr(t, set(b, tc.cfg), 400, tc.code)
		}
		// Nothing was set by the refused requests.
		_, err := c.GetBucketEncryption(b)
		wantObsErr(t, err, 404, "NoSuchEncryptionConfiguration")

		// A missing bucket.
		missing := "missing-" + m.name
		wantObsErr(t, set(missing, obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms"}), 404, "NoSuchBucket")
		_, err = c.GetBucketEncryption(missing)
		wantObsErr(t, err, 404, "NoSuchBucket")
		_, err = c.DeleteBucketEncryption(missing)
		wantObsErr(t, err, 404, "NoSuchBucket")
		_, err = c.HeadBucket(missing) // HEAD: the code travels in x-obs-error-code
		wantObsErr(t, err, 404, "NoSuchBucket")

		// Not the owner.
		if err := set(b, obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", KMSMasterKeyID: key}); err != nil {
			t.Fatal(err)
		}
		other := e.clientAs(t, m, bob.AccessKey, bob.SecretKey)
		wantObsErr(t, func() error {
			_, err := other.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: b, BucketEncryptionConfiguration: obs.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}})
			return err
		}(), 403, "AccessDenied")
		_, err = other.GetBucketEncryption(b)
		wantObsErr(t, err, 403, "AccessDenied")
		_, err = other.DeleteBucketEncryption(b)
		wantObsErr(t, err, 403, "AccessDenied")
		got, err := c.GetBucketEncryption(b)
		if err != nil || got.SSEAlgorithm != "kms" || got.KMSMasterKeyID != key {
			t.Fatalf("owner's configuration after refused changes: %+v %v", got, err)
		}
	})
}

// Encryption headers on CreateBucket set the bucket default and are echoed
// (seed 003, create bucket column).
func TestCreateBucketSSE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obs-create-key")
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		for i, tc := range []struct {
			name    string
			headers map[string]string
			echo    sse
			doc     obs.BucketEncryptionConfiguration
			object  sse // what a plain PUT into the bucket gets
		}{
			{
				name: "kms, SM4, key and project",
				headers: map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-data-encryption": "SM4",
					"x-obs-server-side-encryption-kms-key-id": key, "x-obs-sse-kms-key-project-id": "proj-9"},
				echo:   sse{mode: "kms", data: "SM4", keyID: key, project: "proj-9"},
				doc:    obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", KMSMasterKeyID: key, ProjectID: "proj-9"},
				object: sse{mode: "kms", data: "SM4", keyID: key, project: "proj-9"},
			},
			{
				name:    "kms with the default key: no key id echoed",
				headers: map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-data-encryption": "AES256"},
				echo:    sse{mode: "kms", data: "AES256"},
				doc:     obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms"},
				object:  sse{mode: "kms", keyID: "strongroom-default"},
			},
			{
				name:    "obs",
				headers: map[string]string{"x-obs-server-side-encryption": "obs"},
				echo:    sse{mode: "obs"},
				doc:     obs.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"},
				object:  sse{mode: "AES256"},
			},
			{
				name:    "AES256",
				headers: map[string]string{"x-obs-server-side-encryption": "AES256"},
				echo:    sse{mode: "obs"},
				doc:     obs.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"},
				object:  sse{mode: "AES256"},
			},
			{
				name:    "x-amz- prefix, aws:kms",
				headers: map[string]string{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": key},
				echo:    sse{mode: "kms", keyID: key},
				doc:     obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", KMSMasterKeyID: key},
				object:  sse{mode: "kms", keyID: key},
			},
		} {
			b := "create-" + m.name + "-" + string(rune('a'+i))
			out, err := createWithHeaders(c, b, tc.headers)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			wantSSE(t, tc.name+": create echo", out, tc.echo)
			got, err := c.GetBucketEncryption(b)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got.BucketEncryptionConfiguration.XMLName = tc.doc.XMLName
			if got.BucketEncryptionConfiguration != tc.doc {
				t.Fatalf("%s: configuration %+v; want %+v", tc.name, got.BucketEncryptionConfiguration, tc.doc)
			}
			put, err := c.PutObject(putInput(b, "o", []byte("x")))
			if err != nil {
				t.Fatalf("%s: put: %v", tc.name, err)
			}
			wantSSE(t, tc.name+": object", &put.BaseModel, tc.object)
		}

		// Invalid headers refuse the creation.
		for i, h := range []map[string]string{
			{"x-obs-server-side-encryption": "DES"},
			{"x-obs-server-side-encryption": "obs", "x-obs-server-side-encryption-kms-key-id": key},
			{"x-obs-server-side-encryption": "obs", "x-obs-server-side-data-encryption": "SM4"},
			{"x-obs-server-side-encryption": "kms", "x-obs-server-side-data-encryption": "DES"},
			{"x-obs-server-side-encryption": "kms", "x-obs-sse-kms-key-project-id": "p"},
			{"x-obs-server-side-encryption-kms-key-id": key},
		} {
			b := "create-bad-" + m.name + "-" + string(rune('a'+i))
			_, err := createWithHeaders(c, b, h)
			wantObsErr(t, err, 400, "InvalidArgument")
			_, err = c.HeadBucket(b)
			wantObsErr(t, err, 404, "NoSuchBucket")
		}
		_, err := createWithHeaders(c, "create-bad-"+m.name+"-key", map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-encryption-kms-key-id": "no-such-key"})
		wantObsErr(t, err, 400, "KMS.NotFoundException")
		_, err = c.HeadBucket("create-bad-" + m.name + "-key")
		wantObsErr(t, err, 404, "NoSuchBucket")
	})
}

func createWithHeaders(c *obs.ObsClient, bucket string, headers map[string]string) (*obs.BaseModel, error) {
	return withHeaders(c.CreateBucket, &obs.CreateBucketInput{Bucket: bucket}, headers)
}
