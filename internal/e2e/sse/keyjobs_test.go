package e2esse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// seen is what a client sees of one object version.
type seen struct {
	body             []byte
	etag, sse, keyID string
	dataEnc          string
	meta             map[string]string
	tags             int
	parts            int32
	version          string
}

func (e *env) look(t *testing.T, bucket, key, version string) seen {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := e.c.GetObject(e.ctx, in)
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	s := seen{body: body, etag: aws.ToString(out.ETag), sse: string(out.ServerSideEncryption), keyID: aws.ToString(out.SSEKMSKeyId),
		dataEnc: raw(t, out.ResultMetadata).Header.Get("x-amz-server-side-data-encryption"), meta: out.Metadata, parts: aws.ToInt32(out.PartsCount),
		version: aws.ToString(out.VersionId)}
	tags, err := e.c.GetObjectTagging(e.ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: in.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	s.tags = len(tags.TagSet)
	return s
}

// TestKeyJobsAWSSDK: objects written with aws-sdk-go-v2 (SSE-KMS with and
// without a bucket key, SSE-S3, a multipart upload, two versions of a
// key, tags and user metadata) stay readable while the key is rotated and
// rewrapped and the bucket re-encrypted to SM4 and back, and look the same
// to the client after each (body, ETag, version IDs, tags, metadata, part
// count, the KMS key), but for the data algorithm it reports.
func TestKeyJobsAWSSDK(t *testing.T) {
	e := newEnv(t)
	e.kmsKey("jobs-key")
	b := e.bucket("keyjobs")
	if _, err := e.c.PutBucketVersioning(e.ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	type obj struct{ key, version string }
	var objs []obj
	put := func(key string, size int, in *s3.PutObjectInput) {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		in.Bucket, in.Key, in.Body = aws.String(b), aws.String(key), bytes.NewReader(data)
		in.Metadata = map[string]string{"owner": "jobs"}
		in.Tagging = aws.String("t=1")
		out, err := e.c.PutObject(e.ctx, in)
		if err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		objs = append(objs, obj{key, aws.ToString(out.VersionId)})
	}
	for i := range 6 {
		put(fmt.Sprintf("kms/%d", i), 1000+i*20000, &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("jobs-key")})
		put(fmt.Sprintf("bk/%d", i), 500+i*30000, &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("jobs-key"), BucketKeyEnabled: aws.Bool(true)})
		put(fmt.Sprintf("s3/%d", i), 100+i*40000, &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAes256})
	}
	put("kms/0", 4242, &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("jobs-key")}) // a second version
	// A multipart object under the key: two parts.
	cr, err := e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("jobs-key"),
		Metadata: map[string]string{"owner": "jobs"}, Tagging: aws.String("t=1")})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, size := range []int{partMin, 300 * KiB} {
		up, err := e.c.UploadPart(e.ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(bytes.Repeat([]byte{byte(i + 1)}, size))})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	cmp, err := e.c.CompleteMultipartUpload(e.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, obj{"mp", aws.ToString(cmp.VersionId)})

	before := map[obj]seen{}
	for _, o := range objs {
		before[o] = e.look(t, b, o.key, o.version)
	}
	check := func(stage, wantAlg string) {
		t.Helper()
		for _, o := range objs {
			got, was := e.look(t, b, o.key, o.version), before[o]
			if !bytes.Equal(got.body, was.body) || got.etag != was.etag || got.sse != was.sse || got.keyID != was.keyID ||
				got.tags != was.tags || got.meta["owner"] != "jobs" || got.parts != was.parts || got.version != was.version {
				t.Fatalf("%s: %s %s looks different: etag %s/%s sse %s/%s key %s/%s parts %d/%d", stage, o.key, o.version,
					got.etag, was.etag, got.sse, was.sse, got.keyID, was.keyID, got.parts, was.parts)
			}
			// The S3 dialect reports SM4 for SSE-KMS only (SSE-S3 is
			// AES256 to S3 clients whatever seals it).
			if got.sse == "aws:kms" && (wantAlg == "SM4" && got.dataEnc != "SM4" || wantAlg == "" && got.dataEnc != "") {
				t.Fatalf("%s: %s reports data encryption %q", stage, o.key, got.dataEnc)
			}
		}
	}
	// Reads run throughout every job.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, o := range objs {
				select {
				case <-stop:
					return
				default:
				}
				out, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(o.key), VersionId: aws.String(o.version)})
				if err == nil {
					var got []byte
					got, err = io.ReadAll(out.Body)
					out.Body.Close()
					if err == nil && !bytes.Equal(got, before[o].body) {
						err = fmt.Errorf("wrong bytes")
					}
				}
				if err != nil {
					readErr = fmt.Errorf("%s during a job: %w", o.key, err)
					return
				}
			}
		}
	}()

	for _, k := range []string{"jobs-key", kms.DefaultKeyName} {
		if _, err := e.node.Keyring.RotateKey(e.ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	st := e2eutil.StartKeyJob(t, e.node, "rewrap", url.Values{"name": {"jobs-key"}})()
	if st.Total != 14 || st.Counts["rewrapped"] != 14 || st.LastError != "" {
		t.Fatalf("rewrap: %+v", st)
	}
	var usage []service.KeyUsage
	if err := json.Unmarshal(e2eutil.Admin(t, e.node, http.MethodGet, "keys/usage", nil), &usage); err != nil {
		t.Fatal(err)
	}
	for _, u := range usage {
		if u.Key == "jobs-key" && u.Version != 2 {
			t.Fatalf("after the rewrap %d objects still depend on jobs-key v%d", u.Objects, u.Version)
		}
	}
	check("after rewrap", "")
	st = e2eutil.StartKeyJob(t, e.node, "reencrypt", url.Values{"bucket": {b}, "algorithm": {"SM4"}})()
	if st.Total != 20 || st.Counts["reencrypted"] != 20 || st.LastError != "" {
		t.Fatalf("reencrypt to SM4: %+v", st)
	}
	check("after reencrypt to SM4", "SM4")
	st = e2eutil.StartKeyJob(t, e.node, "reencrypt", url.Values{"bucket": {b}, "algorithm": {"AES256"}})()
	if st.Counts["reencrypted"] != 20 {
		t.Fatalf("reencrypt to AES256: %+v", st)
	}
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	check("after reencrypt back to AES256", "")
	// The part-number view of the multipart object survives too.
	out, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(p2, bytes.Repeat([]byte{2}, 300*KiB)) {
		t.Fatal("part 2 of the multipart object after the re-encrypts")
	}
}
