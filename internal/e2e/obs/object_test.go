package e2eobs

import (
	"bytes"
	"io"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Objects under the bucket default and under request headers that override
// it (seed 003 upload / download columns); an object written before the
// default stays unencrypted.
func TestObjectSSE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key1, key2 := e.kmsKey("obs-obj-1"), e.kmsKey("obs-obj-2")
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "obj-"+m.name)

		before := []byte("written before the default")
		out, err := c.PutObject(putInput(b, "before", before))
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "before", &out.BaseModel, sse{})
		if out.SseHeader != nil {
			t.Fatalf("before: SDK saw encryption %+v", out.SseHeader)
		}

		if _, err := c.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: b,
			BucketEncryptionConfiguration: obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", KMSMasterKeyID: key1, ProjectID: "proj-1"}}); err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "before, after the default", &head(t, c, b, "before", nil).BaseModel, sse{})
		get(t, c, b, "before", nil, before)

		body := randomBytes(200 * KiB) // several sealed segments
		cases := []struct {
			name    string
			sse     obs.ISseHeader
			headers map[string]string
			want    sse
		}{
			{name: "bucket default", want: sse{mode: "kms", keyID: key1, project: "proj-1"}},
			{name: "kms, other key, SM4", sse: obs.SseKmsHeader{Encryption: obs.DEFAULT_SSE_KMS_ENCRYPTION_OBS, Key: key2},
				headers: map[string]string{"x-obs-server-side-data-encryption": "SM4"}, want: sse{mode: "kms", data: "SM4", keyID: key2}},
			{name: "kms as the SDK defaults it, default key", sse: obs.SseKmsHeader{},
				want: sse{mode: "kms", keyID: "strongroom-default"}},
			{name: "kms, key and project by header", sse: obs.SseKmsHeader{Key: key2},
				headers: map[string]string{"x-obs-sse-kms-key-project-id": "proj-2", "x-obs-server-side-data-encryption": "AES256"},
				want:    sse{mode: "kms", keyID: key2, project: "proj-2"}},
			{name: "SSE-OBS as AES256", sse: obs.SseKmsHeader{Encryption: "AES256"}, want: sse{mode: "AES256"}},
			{name: "SSE-OBS as obs, by header", headers: map[string]string{"x-obs-server-side-encryption": "obs"}, want: sse{mode: "AES256"}},
			{name: "everything by x-obs- header", headers: map[string]string{"x-obs-server-side-encryption": "kms",
				"x-obs-server-side-encryption-kms-key-id": key2, "x-obs-server-side-data-encryption": "SM4"},
				want: sse{mode: "kms", data: "SM4", keyID: key2}},
		}
		for i, tc := range cases {
			k := "obj-" + string(rune('a'+i))
			in := putInput(b, k, body)
			in.SseHeader = tc.sse
			in.Metadata = map[string]string{"case": k}
			out, err := withHeaders(c.PutObject, in, tc.headers)
			if err != nil {
				t.Fatalf("%s: put: %v", tc.name, err)
			}
			wantSSE(t, tc.name+": put", &out.BaseModel, tc.want)
			wantRequestID(t, &out.BaseModel)
			if kms, ok := out.SseHeader.(obs.SseKmsHeader); !ok || kms.Encryption != tc.want.mode || kms.Key != tc.want.keyID {
				t.Fatalf("%s: SDK SseHeader %#v", tc.name, out.SseHeader)
			}
			h := head(t, c, b, k, nil)
			wantSSE(t, tc.name+": head", &h.BaseModel, tc.want)
			if h.Metadata["case"] != k { // x-amz-meta-* in the S3-compatible modes
				t.Fatalf("%s: metadata %v", tc.name, h.Metadata)
			}
			g := get(t, c, b, k, nil, body)
			wantSSE(t, tc.name+": get", &g.BaseModel, tc.want)
		}

		// Refused headers.
		for _, tc := range []struct {
			name    string
			sse     obs.ISseHeader
			headers map[string]string
			code    string
		}{
			{"unknown method", nil, map[string]string{"x-obs-server-side-encryption": "DES"}, "InvalidArgument"},
			{"unknown data algorithm", obs.SseKmsHeader{}, map[string]string{"x-obs-server-side-data-encryption": "DES"}, "InvalidArgument"},
			{"SM4 with SSE-OBS", obs.SseKmsHeader{Encryption: "AES256"}, map[string]string{"x-obs-server-side-data-encryption": "SM4"}, "InvalidArgument"},
			{"key id with SSE-OBS", nil, map[string]string{"x-obs-server-side-encryption": "obs", "x-obs-server-side-encryption-kms-key-id": key1}, "InvalidArgument"},
			{"key id alone", nil, map[string]string{"x-obs-server-side-encryption-kms-key-id": key1}, "InvalidArgument"},
			{"project without key", obs.SseKmsHeader{}, map[string]string{"x-obs-sse-kms-key-project-id": "p"}, "InvalidArgument"},
			{"unknown key", obs.SseKmsHeader{Key: "no-such-key"}, nil, "KMS.NotFoundException"},
		} {
			in := putInput(b, "refused", []byte("x"))
			in.SseHeader = tc.sse
			_, err := withHeaders(c.PutObject, in, tc.headers)
			wantObsErr(t, err, 400, tc.code)
		}
		_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "refused"})
		wantObsErr(t, err, 404, "NoSuchKey")

		// Copies follow the request's headers, else the destination's default.
		cp := &obs.CopyObjectInput{CopySourceBucket: b, CopySourceKey: "before"}
		cp.Bucket, cp.Key = b, "copy-default"
		cout, err := c.CopyObject(cp)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "copy under the default", &cout.BaseModel, sse{mode: "kms", keyID: key1, project: "proj-1"})
		cp.Key, cp.SseHeader = "copy-sm4", obs.SseKmsHeader{Key: key2}
		cout, err = withHeaders(c.CopyObject, cp, map[string]string{"x-obs-server-side-data-encryption": "SM4"})
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "copy with headers", &cout.BaseModel, sse{mode: "kms", data: "SM4", keyID: key2})
		get(t, c, b, "copy-sm4", nil, before)
		// Copy-source conditions arrive under either prefix too.
		cp.Key, cp.CopySourceIfMatch = "copy-cond", `"0123456789abcdef0123456789abcdef"`
		_, err = c.CopyObject(cp)
		wantObsErr(t, err, 412, "PreconditionFailed")
	})
}

// SSE-C: put, get without key / wrong key / right key, range, HEAD errors
// in x-obs-error-code, copy with a copy-source key.
func TestSSEC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kmsKey := e.kmsKey("obs-ssec-dest")
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "ssec-"+m.name)
		ka, kb := newCustomerKey(), newCustomerKey()
		body := randomBytes(150 * KiB)

		in := putInput(b, "secret", body)
		in.SseHeader = ka.header()
		out, err := c.PutObject(in)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "put", &out.BaseModel, sse{custAlg: "AES256", custMD5: ka.md5})
		if sc, ok := out.SseHeader.(obs.SseCHeader); !ok || sc.Encryption != "AES256" {
			t.Fatalf("SDK SseHeader %#v", out.SseHeader)
		}

		gin := &obs.GetObjectInput{}
		gin.Bucket, gin.Key = b, "secret"
		_, err = c.GetObject(gin)
		wantObsErr(t, err, 400, "InvalidRequest")
		gin.SseHeader = kb.header()
		_, err = c.GetObject(gin)
		wantObsErr(t, err, 403, "AccessDenied")
		// HEAD carries no body: the codes come from x-obs-error-code.
		_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "secret"})
		wantObsErr(t, err, 400, "InvalidRequest")
		_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "secret", SseHeader: kb.header()})
		wantObsErr(t, err, 403, "AccessDenied")
		// A key that does not match its MD5.
		_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "secret", SseHeader: obs.SseCHeader{Key: ka.b64, KeyMD5: kb.md5}})
		wantObsErr(t, err, 400, "InvalidArgument")

		wantSSE(t, "head", &head(t, c, b, "secret", ka.header()).BaseModel, sse{custAlg: "AES256", custMD5: ka.md5})
		g := get(t, c, b, "secret", ka.header(), body)
		wantSSE(t, "get", &g.BaseModel, sse{custAlg: "AES256", custMD5: ka.md5})

		// A range across a segment boundary.
		gin.SseHeader, gin.RangeStart, gin.RangeEnd = ka.header(), 64*KiB-10, 64*KiB+9
		rout, err := c.GetObject(gin)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(rout.Body)
		rout.Body.Close()
		if !bytes.Equal(part, body[64*KiB-10:64*KiB+10]) || rout.StatusCode != 206 {
			t.Fatalf("range: status %d, %d bytes", rout.StatusCode, len(part))
		}

		// Copy: source key A -> destination key B; -> SSE-KMS; without the
		// source key.
		cp := &obs.CopyObjectInput{CopySourceBucket: b, CopySourceKey: "secret", SourceSseHeader: ka.header()}
		cp.Bucket, cp.Key, cp.SseHeader = b, "copy-b", kb.header()
		cout, err := c.CopyObject(cp)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "copy to SSE-C", &cout.BaseModel, sse{custAlg: "AES256", custMD5: kb.md5})
		get(t, c, b, "copy-b", kb.header(), body)
		_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "copy-b", SseHeader: ka.header()})
		wantObsErr(t, err, 403, "AccessDenied")

		cp.Key, cp.SseHeader = "copy-kms", obs.SseKmsHeader{Key: kmsKey}
		cout, err = c.CopyObject(cp)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "copy to SSE-KMS", &cout.BaseModel, sse{mode: "kms", keyID: kmsKey})
		get(t, c, b, "copy-kms", nil, body)

		cp.Key, cp.SseHeader, cp.SourceSseHeader = "copy-nokey", nil, nil
		_, err = c.CopyObject(cp)
		wantObsErr(t, err, 400, "InvalidRequest")
		cp.SourceSseHeader = kb.header()
		_, err = c.CopyObject(cp)
		wantObsErr(t, err, 403, "AccessDenied")

		// SSE-C and SSE-KMS headers together are refused.
		in = putInput(b, "both", []byte("x"))
		in.SseHeader = ka.header()
		_, err = withHeaders(c.PutObject, in, map[string]string{"x-obs-server-side-encryption": "kms"})
		wantObsErr(t, err, 400, "InvalidArgument")
	})
}
