package e2eorigin

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// s3Raw sends a request to the node's S3 dialect signed with
// aws-sdk-go-v2's SigV4 signer (the extension has no SDK operation).
func s3Raw(t *testing.T, n *testnode.Node, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if body != nil {
		m := md5.Sum(body) // S3 requires it on configuration documents
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(m[:]))
	}
	creds := aws.Credentials{AccessKeyID: n.AccessKey, SecretAccessKey: n.SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestS3OriginExtension(t *testing.T) {
	n := startNode(t)
	org := newOrigin(t)
	ctx := context.Background()
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(n.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:   n.Client,
		Retryer:      aws.NopRetryer{},
	})
	bucket := fmt.Sprintf("origin-s3-%d", uniq.Add(1))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &bucket,
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
		}}}}); err != nil {
		t.Fatal(err)
	}
	if st, b := s3Raw(t, n, http.MethodGet, "/"+bucket+"?x-strongroom-origin", nil); st != 404 || !strings.Contains(string(b), "NoSuchOriginConfiguration") {
		t.Fatalf("get before put: %d %s", st, b)
	}
	doc := `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
		`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode><Prefix>img/</Prefix></OriginCondition>` +
		`<OriginParameter><Protocol>HTTP</Protocol><FollowQueryString>false</FollowQueryString></OriginParameter>` +
		`<OriginInfo><HostInfo><HostName>` + org.host() + `</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`
	if st, b := s3Raw(t, n, http.MethodPut, "/"+bucket+"?x-strongroom-origin", []byte(doc)); st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	if st, b := s3Raw(t, n, http.MethodGet, "/"+bucket+"?x-strongroom-origin", nil); st != 200 || !strings.Contains(string(b), "<HostName>"+org.host()+"</HostName>") || !strings.Contains(string(b), "<Prefix>img/</Prefix>") {
		t.Fatalf("get: %d %s", st, b)
	}
	// COS's own sub-resource name is not the S3 dialect's.
	if st, _ := s3Raw(t, n, http.MethodGet, "/"+bucket+"?origin", nil); st != 501 {
		t.Errorf("S3 ?origin: %d, want 501", st)
	}

	data := canary(70 << 10)
	org.set("/img/cat.png", originObject{body: data, contentType: "image/png"})
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("img/cat.png")})
	if err != nil {
		t.Fatalf("GET of a miss: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) || aws.ToString(out.ContentType) != "image/png" || out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("GET of a miss: %d bytes %v %q %q", len(got), err, aws.ToString(out.ContentType), out.ServerSideEncryption)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("img/cat.png")})
	if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAes256 || aws.ToString(head.ETag) == "" {
		t.Fatalf("HEAD: %v %+v", err, head)
	}
	if h := org.hitsOf("/img/cat.png"); h != 1 {
		t.Errorf("origin hits %d, want 1", h)
	}
	if o := stored(t, n, bucket, "img/cat.png"); o == nil || o.Encryption == nil || o.Encryption.Algorithm != "AES256" {
		t.Fatalf("stored record: %+v", o)
	}
	if onDisk(t, n, data[:64]) {
		t.Error("the pulled plaintext is on disk")
	}

	if st, b := s3Raw(t, n, http.MethodDelete, "/"+bucket+"?x-strongroom-origin", nil); st != 204 {
		t.Fatalf("delete: %d %s", st, b)
	}
	org.set("/img/dog.png", originObject{body: []byte("woof")})
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("img/dog.png")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchKey" {
		t.Fatalf("GET after delete: %v", err)
	}
}

// patternReader yields n bytes of a repeated 1 MiB block without holding
// them.
type patternReader struct{ left int64 }

var patternBlock = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	off := int((128<<20 - p.left) % int64(len(patternBlock)))
	n := copy(b[:min(int64(len(b)), p.left)], patternBlock[off:])
	p.left -= int64(n)
	return n, nil
}

// TestMirrorStreamsLargeObject: a 128 MiB pull streams (the process's heap
// stays far below the object's size) and is stored whole.
func TestMirrorStreamsLargeObject(t *testing.T) {
	if testing.Short() {
		t.Skip("128 MiB")
	}
	const size = 128 << 20
	n := testnode.Start(t, testnode.Options{OriginAllow: []string{"127.0.0.1"}, OriginMaxSize: 1 << 30})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		io.Copy(w, &patternReader{left: size})
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""), HTTPClient: n.Client, Retryer: aws.NopRetryer{}})
	bucket := fmt.Sprintf("origin-big-%d", uniq.Add(1))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	doc := `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
		`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode></OriginCondition>` +
		`<OriginInfo><HostInfo><HostName>` + srv.Listener.Addr().String() + `</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`
	if st, b := s3Raw(t, n, http.MethodPut, "/"+bucket+"?x-strongroom-origin", []byte(doc)); st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	want := sha256.New()
	io.Copy(want, &patternReader{left: size})
	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	nread, err := io.Copy(got, out.Body)
	out.Body.Close()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	if err != nil || nread != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("pulled %d bytes, %v; digest match %v", nread, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	if o := stored(t, n, bucket, "big.bin"); o == nil || o.Size != size {
		t.Fatalf("stored: %+v", o)
	}
	t.Logf("128 MiB pulled and stored in %v (%.0f MB/s), peak heap in use %d MiB", elapsed, float64(size)/elapsed.Seconds()/1e6, peak.Load()>>20)
	if peak.Load() > 48<<20 {
		t.Errorf("peak heap %d MiB: the pull is not streamed", peak.Load()>>20)
	}
}

// TestMirrorDefaultRetention: a pulled object gets the bucket's default
// retention, as any write does.
func TestMirrorDefaultRetention(t *testing.T) {
	n := startNode(t)
	org := newOrigin(t)
	ctx := context.Background()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""), HTTPClient: n.Client, Retryer: aws.NopRetryer{}})
	bucket := fmt.Sprintf("origin-lock-%d", uniq.Add(1))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &bucket,
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	doc := `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
		`<OriginInfo><HostInfo><HostName>` + org.host() + `</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`
	if st, b := s3Raw(t, n, http.MethodPut, "/"+bucket+"?x-strongroom-origin", []byte(doc)); st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	org.set("/kept", originObject{body: []byte("kept")})
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("kept")}); err != nil {
		t.Fatalf("HEAD of a miss: %v", err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("kept")})
	if err != nil || h.ObjectLockMode != types.ObjectLockModeGovernance || h.ObjectLockRetainUntilDate == nil {
		t.Fatalf("pulled object's lock: %v %q %v", err, h.ObjectLockMode, h.ObjectLockRetainUntilDate)
	}
}

// TestOriginStandbyAndUserMetadata: a primary origin that cannot be
// reached, or answers a server error, fails over to the standby hosts in
// order; an origin 404 is final; the origin's user metadata (any of the
// four dialects' prefixes) is kept on the pulled object.
func TestOriginStandbyAndUserMetadata(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	standby := newOrigin(t)
	failing := newOrigin(t)
	failing.set("/m/obj", originObject{status: http.StatusServiceUnavailable})
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there now
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:  n.Client, Retryer: aws.NopRetryer{},
	})
	bucket := fmt.Sprintf("origin-standby-%d", uniq.Add(1))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	doc := `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
		`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode><Prefix>m/</Prefix></OriginCondition>` +
		`<OriginParameter><Protocol>HTTP</Protocol></OriginParameter>` +
		`<OriginInfo><HostInfo><HostName>` + deadAddr + `</HostName><StandbyHostName_1>` + failing.host() +
		`</StandbyHostName_1><StandbyHostName_2>` + standby.host() + `</StandbyHostName_2></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`
	if st, b := s3Raw(t, n, http.MethodPut, "/"+bucket+"?x-strongroom-origin", []byte(doc)); st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	data := canary(5000)
	standby.set("/m/obj", originObject{body: data, contentType: "text/plain", meta: map[string]string{"X-Amz-Meta-Color": "blue", "X-Oss-Meta-Shape": "round"}})
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("m/obj")})
	if err != nil {
		t.Fatalf("GET through the standby: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes through the standby, want %d", len(got), len(data))
	}
	if failing.hitsOf("/m/obj") != 1 || standby.hitsOf("/m/obj") != 1 {
		t.Fatalf("hits: failing standby %d, good standby %d; want 1 and 1", failing.hitsOf("/m/obj"), standby.hitsOf("/m/obj"))
	}
	eventually(t, "the pulled object stored", func() bool {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("m/obj")})
		return err == nil && h.Metadata["color"] == "blue" && h.Metadata["shape"] == "round"
	})
	// A 404 from the first origin that answers is final: the standby
	// after it is not asked.
	failing.set("/m/gone", originObject{status: http.StatusNotFound})
	standby.set("/m/gone", originObject{body: data})
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("m/gone")}); err == nil {
		t.Fatal("an origin 404 failed over to the next standby")
	}
	if standby.hitsOf("/m/gone") != 0 {
		t.Fatal("the standby after a 404 was asked")
	}
	// So is a redirect the rule does not follow: it is the client's answer.
	// (The test client follows it to the origin, on loopback.)
	failing.set("/m/moved", originObject{status: http.StatusFound, location: "http://" + standby.host() + "/m/target"})
	standby.set("/m/moved", originObject{body: data})
	standby.set("/m/target", originObject{body: data})
	if st, _ := s3Raw(t, n, http.MethodGet, "/"+bucket+"/m/moved", nil); st != http.StatusOK || standby.hitsOf("/m/moved") != 0 || standby.hitsOf("/m/target") != 1 {
		t.Fatalf("a primary's redirect: %d, standby asked for the key %d times, for the target %d; want the client redirected", st, standby.hitsOf("/m/moved"), standby.hitsOf("/m/target"))
	}
}

// TestOriginCopyOriginDataAndTransparentErrors: a Mirror rule with COS's
// CopyOriginData false answers from the origin without storing (each read
// goes back to it); TransparentErrorCode true passes the origin's error
// status through instead of 424.
func TestOriginCopyOriginDataAndTransparentErrors(t *testing.T) {
	n := startNode(t)
	org := newOrigin(t)
	ctx := context.Background()
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:  n.Client, Retryer: aws.NopRetryer{},
	})
	bucket := fmt.Sprintf("origin-params-%d", uniq.Add(1))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	rule := func(prio int, prefix, params string) string {
		return fmt.Sprintf(`<OriginRule><RulePriority>%d</RulePriority><OriginType>Mirror</OriginType>`+
			`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode><Prefix>%s</Prefix></OriginCondition>`+
			`<OriginParameter><Protocol>HTTP</Protocol>%s</OriginParameter>`+
			`<OriginInfo><HostInfo><HostName>%s</HostName></HostInfo></OriginInfo></OriginRule>`, prio, prefix, params, org.host())
	}
	doc := `<OriginConfiguration>` + rule(1, "nocopy/", `<CopyOriginData>false</CopyOriginData>`) +
		rule(2, "transparent/", `<TransparentErrorCode>true</TransparentErrorCode>`) + rule(3, "opaque/", "") + `</OriginConfiguration>`
	if st, b := s3Raw(t, n, http.MethodPut, "/"+bucket+"?x-strongroom-origin", []byte(doc)); st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	data := canary(3000)
	org.set("/nocopy/a", originObject{body: data})
	for i := 1; i <= 2; i++ {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("nocopy/a")})
		if err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) || org.hitsOf("/nocopy/a") != i {
			t.Fatalf("GET %d: %d bytes, origin hits %d; want the origin's bytes, not stored", i, len(got), org.hitsOf("/nocopy/a"))
		}
	}
	for _, tc := range []struct {
		prefix     string
		origin     int
		wantStatus int
	}{
		{"transparent/", http.StatusServiceUnavailable, http.StatusServiceUnavailable},
		{"transparent/", http.StatusForbidden, http.StatusForbidden},
		{"opaque/", http.StatusServiceUnavailable, http.StatusFailedDependency},
	} {
		key := fmt.Sprintf("%sk%d", tc.prefix, tc.origin)
		org.set("/"+key, originObject{status: tc.origin})
		st, b := s3Raw(t, n, http.MethodGet, "/"+bucket+"/"+key, nil)
		if st != tc.wantStatus {
			t.Errorf("%s with the origin answering %d: %d %s, want %d", key, tc.origin, st, b, tc.wantStatus)
		}
	}
}
