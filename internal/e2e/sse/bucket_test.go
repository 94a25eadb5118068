package e2esse

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func encConfig(alg types.ServerSideEncryption, keyID string, bucketKey *bool, blocked ...types.EncryptionType) *types.ServerSideEncryptionConfiguration {
	r := types.ServerSideEncryptionRule{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg},
		BucketKeyEnabled:                   bucketKey,
	}
	if keyID != "" {
		r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(keyID)
	}
	if blocked != nil {
		r.BlockedEncryptionTypes = &types.BlockedEncryptionTypes{EncryptionType: blocked}
	}
	return &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{r}}
}

func (e *env) putBucketEncryption(t testing.TB, bucket string, c *types.ServerSideEncryptionConfiguration) {
	t.Helper()
	out, err := e.c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket), ServerSideEncryptionConfiguration: c})
	if err != nil {
		t.Fatalf("PutBucketEncryption: %v", err)
	}
	if s := raw(t, out.ResultMetadata).StatusCode; s != 200 {
		t.Errorf("PutBucketEncryption status %d, want 200", s)
	}
}

// TestBucketEncryptionConfig: Put/Get/DeleteBucketEncryption round trips
// and their errors.
func TestBucketEncryptionConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("enc-config")

	_, err := e.c.GetBucketEncryption(e.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	wantAPIError(t, "GetBucketEncryption with none set", err, 404, "ServerSideEncryptionConfigurationNotFoundError")

	for _, c := range []struct {
		name string
		cfg  *types.ServerSideEncryptionConfiguration
	}{
		{"AES256", encConfig("AES256", "", nil)},
		{"aws:kms default key", encConfig("aws:kms", "", nil)},
		{"aws:kms key-1 bucket key", encConfig("aws:kms", "key-1", aws.Bool(true))},
		{"AES256 block SSE-C", encConfig("AES256", "", nil, types.EncryptionTypeSseC)},
		{"aws:kms block SSE-C", encConfig("aws:kms", "key-1", aws.Bool(false), types.EncryptionTypeSseC)},
	} {
		e.putBucketEncryption(t, bucket, c.cfg)
		got, err := e.c.GetBucketEncryption(e.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("%s: GetBucketEncryption: %v", c.name, err)
		}
		if n := len(got.ServerSideEncryptionConfiguration.Rules); n != 1 {
			t.Fatalf("%s: %d rules, want 1", c.name, n)
		}
		r, want := got.ServerSideEncryptionConfiguration.Rules[0], c.cfg.Rules[0]
		d := r.ApplyServerSideEncryptionByDefault
		if d == nil || d.SSEAlgorithm != want.ApplyServerSideEncryptionByDefault.SSEAlgorithm ||
			aws.ToString(d.KMSMasterKeyID) != aws.ToString(want.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) {
			t.Errorf("%s: got default %+v", c.name, d)
		}
		if aws.ToBool(r.BucketKeyEnabled) != aws.ToBool(want.BucketKeyEnabled) {
			t.Errorf("%s: BucketKeyEnabled %v, want %v", c.name, aws.ToBool(r.BucketKeyEnabled), aws.ToBool(want.BucketKeyEnabled))
		}
		var gotBlocked, wantBlocked []types.EncryptionType
		if r.BlockedEncryptionTypes != nil {
			gotBlocked = r.BlockedEncryptionTypes.EncryptionType
		}
		if want.BlockedEncryptionTypes != nil {
			wantBlocked = want.BlockedEncryptionTypes.EncryptionType
		}
		if fmt.Sprint(gotBlocked) != fmt.Sprint(wantBlocked) {
			t.Errorf("%s: BlockedEncryptionTypes %v, want %v", c.name, gotBlocked, wantBlocked)
		}
	}

	del, err := e.c.DeleteBucketEncryption(e.ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if s := raw(t, del.ResultMetadata).StatusCode; s != 204 {
		t.Errorf("DeleteBucketEncryption status %d, want 204", s)
	}
	_, err = e.c.GetBucketEncryption(e.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	wantAPIError(t, "GetBucketEncryption after delete", err, 404, "ServerSideEncryptionConfigurationNotFoundError")
	if _, err := e.c.DeleteBucketEncryption(e.ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("deleting an absent configuration: %v", err)
	}

	// Errors through the SDK.
	for _, c := range []struct {
		name   string
		cfg    *types.ServerSideEncryptionConfiguration
		status int
		code   string
	}{
		{"AES256 with a KMSMasterKeyID", encConfig("AES256", "key-1", nil), 400, "InvalidArgument"},
		{"unknown SSEAlgorithm", encConfig("DES", "", nil), 400, "InvalidArgument"},
		{"aws:kms with an unknown key", encConfig("aws:kms", "no-such-key", nil), 400, "KMS.NotFoundException"},
	} {
		_, err := e.c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket), ServerSideEncryptionConfiguration: c.cfg})
		wantAPIError(t, c.name, err, c.status, c.code)
	}
	_, err = e.c.GetBucketEncryption(e.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	wantAPIError(t, "GetBucketEncryption after refused puts", err, 404, "ServerSideEncryptionConfigurationNotFoundError")

	// Missing bucket, for all three operations.
	_, err = e.c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("no-such-bucket"), ServerSideEncryptionConfiguration: encConfig("AES256", "", nil)})
	wantAPIError(t, "PutBucketEncryption on a missing bucket", err, 404, "NoSuchBucket")
	_, err = e.c.GetBucketEncryption(e.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("no-such-bucket")})
	wantAPIError(t, "GetBucketEncryption on a missing bucket", err, 404, "NoSuchBucket")
	_, err = e.c.DeleteBucketEncryption(e.ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("no-such-bucket")})
	wantAPIError(t, "DeleteBucketEncryption on a missing bucket", err, 404, "NoSuchBucket")

	// Raw bodies: Content-MD5 (instead of the SDK's CRC32) is accepted;
	// malformed XML, a missing integrity header and a wrong MD5 are not.
	putRaw := func(body string, h http.Header) (*http.Response, []byte) {
		return e.do(t, e.signed(t, "PUT", "/"+bucket, "encryption=", []byte(body), h))
	}
	good := `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
	resp, body := putRaw(good, http.Header{"Content-Md5": {md5b64([]byte(good))}})
	if resp.StatusCode != 200 {
		t.Errorf("PUT ?encryption with Content-MD5: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"not XML", "this is not xml", 400, "MalformedXML"},
		{"truncated XML", good[:len(good)-20], 400, "MalformedXML"},
		{"no Rule", `<ServerSideEncryptionConfiguration></ServerSideEncryptionConfiguration>`, 400, "MalformedXML"},
		{"wrong root", `<Foo><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></Foo>`, 400, "MalformedXML"},
		{"unknown blocked type", `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-X</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>`, 400, "InvalidArgument"},
	} {
		resp, body := putRaw(c.body, http.Header{"Content-Md5": {md5b64([]byte(c.body))}})
		wantRawError(t, c.name, resp, body, c.status, c.code)
	}
	resp, body = putRaw(good, nil)
	wantRawError(t, "no Content-MD5 nor checksum", resp, body, 400, "InvalidRequest")
	resp, body = putRaw(good, http.Header{"Content-Md5": {md5b64([]byte("other"))}})
	wantRawError(t, "wrong Content-MD5", resp, body, 400, "BadDigest")
}

// TestBucketDefaultEncryption: a default applies to objects written after
// it is set (PUT, multipart, copy) and never to existing ones, whose blobs
// keep their plaintext; request headers override it; BlockedEncryptionTypes
// SSE-C refuses SSE-C writes with 403.
func TestBucketDefaultEncryption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	e.kmsKey("key-2")
	bucket := e.bucket("default")
	c := sseC(e.customerKey(), "SSE-C")

	head := func(t *testing.T, key string, m mode) http.Header {
		t.Helper()
		out, err := e.c.HeadObject(e.ctx, m.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
		if err != nil {
			t.Fatalf("HEAD %s: %v", key, err)
		}
		return raw(t, out.ResultMetadata).Header
	}

	// An object written before any default, found on disk by the blob it
	// created.
	before := []byte(fmt.Sprintf("written before the default %x ", randBytes(16)))
	before = append(before, randBytes(seg)...)
	blobs := newBlobs(t, e.node.DataDir, func() { e.putObject(t, bucket, "before", before, none) })
	if len(blobs) != 1 {
		t.Fatalf("PUT created %d blobs, want 1", len(blobs))
	}
	beforeBlob := blobs[0]
	beforeStored, err := os.ReadFile(beforeBlob)
	if err != nil {
		t.Fatal(err)
	}

	// Default SSE-S3.
	e.putBucketEncryption(t, bucket, encConfig("AES256", "", nil))
	_, resp := e.putObject(t, bucket, "after-s3", before, none)
	sseS3.checkHeaders(t, "PUT after AES256 default", resp.Header, echo{})
	sseS3.checkHeaders(t, "HEAD after AES256 default", head(t, "after-s3", none), echo{})
	none.checkHeaders(t, "HEAD of the object written before", head(t, "before", none), echo{})
	// Request headers override the default.
	_, resp = e.putObject(t, bucket, "override-kms", before, sseKMS("key-2"))
	sseKMS("key-2").checkHeaders(t, "PUT aws:kms over an AES256 default", resp.Header, echo{})
	_, resp = e.putObject(t, bucket, "override-c", before, c)
	c.checkHeaders(t, "PUT SSE-C over an AES256 default", resp.Header, echo{keyMD5: true})

	// Default SSE-KMS with a key and bucket keys.
	kmsBK := sseKMS("key-1")
	kmsBK.bucketKey = true
	e.putBucketEncryption(t, bucket, encConfig("aws:kms", "key-1", aws.Bool(true)))
	_, resp = e.putObject(t, bucket, "after-kms", before, none)
	kmsBK.checkHeaders(t, "PUT after aws:kms default", resp.Header, echo{})
	kmsBK.checkHeaders(t, "HEAD after aws:kms default", head(t, "after-kms", none), echo{})
	sseS3.checkHeaders(t, "HEAD of the object written under the AES256 default", head(t, "after-s3", none), echo{})
	none.checkHeaders(t, "HEAD of the object written before, again", head(t, "before", none), echo{})
	_, resp = e.putObject(t, bucket, "override-s3", before, sseS3)
	sseS3.checkHeaders(t, "PUT AES256 over an aws:kms default", resp.Header, echo{})

	// Multipart and copy take the default too.
	cr, err := e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("after-mp")})
	if err != nil {
		t.Fatal(err)
	}
	kmsBK.checkHeaders(t, "CreateMultipartUpload after aws:kms default", raw(t, cr.ResultMetadata).Header, echo{})
	up, err := e.c.UploadPart(e.ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("after-mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(before)})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := e.c.CompleteMultipartUpload(e.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("after-mp"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	kmsBK.checkHeaders(t, "Complete after aws:kms default", raw(t, comp.ResultMetadata).Header, echo{})
	cp, err := e.c.CopyObject(e.ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy-of-before"), CopySource: aws.String(bucket + "/before")})
	if err != nil {
		t.Fatal(err)
	}
	kmsBK.checkHeaders(t, "copy of an unencrypted source into a bucket with a default", raw(t, cp.ResultMetadata).Header, echo{})
	for _, k := range []string{"before", "after-s3", "after-kms", "after-mp", "copy-of-before", "override-kms", "override-s3"} {
		if got, _ := e.getObject(t, bucket, k, "", none); !bytes.Equal(got, before) {
			t.Errorf("%s read back %d bytes", k, len(got))
		}
	}

	// Blocking SSE-C.
	e.putBucketEncryption(t, bucket, encConfig("AES256", "", nil, types.EncryptionTypeSseC))
	_, err = e.c.PutObject(e.ctx, c.put(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("blocked"), Body: bytes.NewReader(before)}))
	wantAPIError(t, "PUT SSE-C into a bucket blocking SSE-C", err, 403, "AccessDenied")
	_, err = e.c.CreateMultipartUpload(e.ctx, c.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("blocked")}))
	wantAPIError(t, "CreateMultipartUpload SSE-C into a bucket blocking SSE-C", err, 403, "AccessDenied")
	_, err = e.c.CopyObject(e.ctx, c.copyDst(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("blocked"), CopySource: aws.String(bucket + "/before")}))
	wantAPIError(t, "CopyObject to SSE-C into a bucket blocking SSE-C", err, 403, "AccessDenied")
	_, err = e.c.HeadObject(e.ctx, c.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("blocked")}))
	wantAPIError(t, "HEAD of the blocked object", err, 404, "NotFound")
	// Existing SSE-C objects stay readable; other writes go through.
	if got, _ := e.getObject(t, bucket, "override-c", "", c); !bytes.Equal(got, before) {
		t.Errorf("existing SSE-C object unreadable after blocking SSE-C")
	}
	_, resp = e.putObject(t, bucket, "not-blocked", before, none)
	sseS3.checkHeaders(t, "PUT without SSE-C into a bucket blocking SSE-C", resp.Header, echo{})

	// After deleting the default, new objects are plaintext again and the
	// encrypted ones stay encrypted.
	if _, err := e.c.DeleteBucketEncryption(e.ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	_, resp = e.putObject(t, bucket, "after-delete", before, none)
	none.checkHeaders(t, "PUT after DeleteBucketEncryption", resp.Header, echo{})
	kmsBK.checkHeaders(t, "HEAD of an aws:kms object after DeleteBucketEncryption", head(t, "after-kms", none), echo{})

	// The object written before the default never changed on disk: its
	// blob still holds its plaintext.
	b, err := os.ReadFile(beforeBlob)
	if err != nil {
		t.Fatalf("the blob of the object written before the default is gone: %v", err)
	}
	// (Plain blobs hold the plaintext in 64 KiB segments, each followed by
	// its checksum.)
	if !bytes.Equal(b, beforeStored) || !bytes.Contains(b, before[:1024]) {
		t.Errorf("the blob of the object written before the default no longer holds its plaintext: the default touched an existing object")
	}
}

// TestBucketKeys: with a default of aws:kms + BucketKeyEnabled, 1000 PUTs
// (concurrent) and their reads cost a handful of KMS calls; without
// bucket keys every PUT costs exactly one GenerateDataKey.
func TestBucketKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	withBK, withoutBK := e.bucket("bk-on"), e.bucket("bk-off")
	e.putBucketEncryption(t, withBK, encConfig("aws:kms", "key-1", aws.Bool(true)))
	e.putBucketEncryption(t, withoutBK, encConfig("aws:kms", "key-1", aws.Bool(false)))
	kmsBK := sseKMS("key-1")
	kmsBK.bucketKey = true

	const n, workers = 1000, 8
	body := func(i int) []byte { return []byte(fmt.Sprintf("object %d of the bucket-key test", i)) }
	parallel := func(n int, fn func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errc := make(chan error, n)
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if err := fn(i); err != nil {
						errc <- err
					}
				}
			}()
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
	}

	e.node.KMS.Reset()
	parallel(n, func(i int) error {
		out, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(withBK), Key: aws.String(fmt.Sprintf("k%04d", i)), Body: bytes.NewReader(body(i))})
		if err != nil {
			return err
		}
		if out.ServerSideEncryption != "aws:kms" || aws.ToString(out.SSEKMSKeyId) != "key-1" || !aws.ToBool(out.BucketKeyEnabled) {
			return fmt.Errorf("PUT %d: %q %q %v", i, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), aws.ToBool(out.BucketKeyEnabled))
		}
		return nil
	})
	calls := e.node.KMS.Calls()
	total := uint64(0)
	for _, c := range calls {
		total += c
	}
	t.Logf("KMS calls for %d PUTs with a bucket key: %v", n, calls)
	if total > 5 {
		t.Errorf("%d PUTs with a bucket key cost %d KMS calls (%v), want at most a handful (5)", n, total, calls)
	}

	e.node.KMS.Reset()
	parallel(n, func(i int) error {
		out, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(withBK), Key: aws.String(fmt.Sprintf("k%04d", i))})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(out.Body); err != nil {
			return err
		}
		if !bytes.Equal(buf.Bytes(), body(i)) {
			return fmt.Errorf("object %d read back %q", i, buf.Bytes())
		}
		return nil
	})
	calls = e.node.KMS.Calls()
	total = 0
	for _, c := range calls {
		total += c
	}
	t.Logf("KMS calls for %d GETs with a bucket key: %v", n, calls)
	if total > 5 {
		t.Errorf("%d GETs with a bucket key cost %d KMS calls (%v), want at most a handful (5)", n, total, calls)
	}

	// Without bucket keys: one GenerateDataKey per PUT, and nothing else.
	const m = 20
	e.node.KMS.Reset()
	parallel(m, func(i int) error {
		_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(withoutBK), Key: aws.String(fmt.Sprintf("k%02d", i)), Body: bytes.NewReader(body(i))})
		return err
	})
	calls = e.node.KMS.Calls()
	t.Logf("KMS calls for %d PUTs without a bucket key: %v", m, calls)
	if calls["GenerateDataKey"] != m {
		t.Errorf("%d PUTs without a bucket key made %d GenerateDataKey calls, want exactly %d", m, calls["GenerateDataKey"], m)
	}
	for op, c := range calls {
		if op != "GenerateDataKey" && c != 0 {
			t.Errorf("%d PUTs without a bucket key also made %d %s calls, want 0 (one GenerateDataKey per PUT)", m, c, op)
		}
	}
	// And one Decrypt per GET.
	e.node.KMS.Reset()
	for i := range m {
		if got, _ := e.getObject(t, withoutBK, fmt.Sprintf("k%02d", i), "", none); !bytes.Equal(got, body(i)) {
			t.Errorf("object %d read back %q", i, got)
		}
	}
	if calls = e.node.KMS.Calls(); calls["Decrypt"] != m {
		t.Errorf("%d GETs without a bucket key made %d Decrypt calls (%v), want %d", m, calls["Decrypt"], calls, m)
	}
}

// TestBucketKeyConcurrentFirstWrites: concurrent first writes into a
// bucket with bucket keys (connections already open, released together)
// share one bucket key: one GenerateDataKey, not one per racing request.
func TestBucketKeyConcurrentFirstWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	for round := range 4 {
		bucket := e.bucket("bk-race")
		e.putBucketEncryption(t, bucket, encConfig("aws:kms", "key-1", aws.Bool(true)))
		const n = 16
		var ready, wg sync.WaitGroup
		start := make(chan struct{})
		ready.Add(n)
		e.node.KMS.Reset()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.c.HeadBucket(e.ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}) // open a connection
				ready.Done()
				<-start
				if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprint(i)), Body: bytes.NewReader([]byte("x"))}); err != nil {
					t.Error(err)
				}
			}()
		}
		ready.Wait()
		close(start)
		wg.Wait()
		if calls := e.node.KMS.Calls(); calls["GenerateDataKey"] != 1 {
			t.Errorf("round %d: %d concurrent first PUTs made %d GenerateDataKey calls (%v), want 1 bucket key", round, n, calls["GenerateDataKey"], calls)
		}
	}
}

// TestRestart: objects of every mode, including bucket-key objects, read
// back after the node restarts on the same data directory (the key
// material that matters is on disk, not in a cache), and bucket-key reads
// after a restart cost one KMS Decrypt for the bucket key, not one per
// object, even when concurrent.
func TestRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("restart")
	bkBucket := e.bucket("restart-bk")
	e.putBucketEncryption(t, bkBucket, encConfig("aws:kms", "key-1", aws.Bool(true)))
	c := sseC(e.customerKey(), "SSE-C")
	modes := []mode{none, sseS3, sseKMS("key-1"), sseKMS(""), c}
	data := randBytes(seg + 99)
	for _, m := range modes {
		e.putObject(t, bucket, m.name, data, m)
	}
	const n = 32
	for i := range n {
		e.putObject(t, bkBucket, fmt.Sprint(i), data[:100+i], none)
	}
	if err := e.node.Close(e.ctx); err != nil {
		t.Fatalf("closing the first node: %v", err)
	}

	r := newEnv(t, envOptions{dataDir: e.node.DataDir})
	r.wire.addSecret(c.key)
	for _, m := range modes {
		got, out := r.getObject(t, bucket, m.name, "", m)
		if !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes after restart", m.name, len(got))
		}
		m.checkHeaders(t, "GET after restart", raw(t, out.ResultMetadata).Header, echo{keyMD5: true})
	}
	r.node.KMS.Reset()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := r.c.GetObject(r.ctx, &s3.GetObjectInput{Bucket: aws.String(bkBucket), Key: aws.String(fmt.Sprint(i))})
			if err != nil {
				t.Error(err)
				return
			}
			var b bytes.Buffer
			b.ReadFrom(out.Body)
			out.Body.Close()
			if !bytes.Equal(b.Bytes(), data[:100+i]) {
				t.Errorf("bucket-key object %d read back wrong after restart", i)
			}
		}()
	}
	wg.Wait()
	if calls := r.node.KMS.Calls(); calls["Decrypt"] != 1 || calls["GenerateDataKey"] != 0 {
		t.Errorf("%d bucket-key GETs after restart made %v KMS calls, want one Decrypt (of the bucket key)", n, calls)
	}
}
