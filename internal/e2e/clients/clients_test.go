// Package e2eclients drives one strongroom node over HTTPS with the
// command-line clients people script with, rclone and s3cmd from Debian:
// copies up and down (small files and files above the tools' multipart
// thresholds), sync (a second sync transfers nothing), ls and delete, in
// each of the tools' server-side encryption options. Every object the
// tools write is checked with aws-sdk-go-v2: its encryption by HEAD, its
// bytes by content. A missing tool fails the test (scripts/test.sh
// installs both).
//
// The package holds tests only.
package e2eclients

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

const (
	MiB     = 1 << 20
	kmsKey  = "clients-vault"
	region  = "us-east-1"
	bigSize = 12*MiB + 12345 // above both tools' 5 MiB part size: three parts
)

// env is the package's one node, an SDK client for the checks and the
// local files the tools upload.
type env struct {
	node   *testnode.Node
	c      *s3.Client
	caFile string
	src    string            // directory of the files to upload
	files  map[string][]byte // name under src -> content
}

// TestClients runs every tool against one node (started once: the tools'
// cases share it and use a bucket each).
func TestClients(t *testing.T) {
	e := newEnv(t)
	t.Run("rclone", func(t *testing.T) { t.Parallel(); testRclone(t, e) })
	t.Run("s3cmd", func(t *testing.T) { t.Parallel(); testS3cmd(t, e) })
}

func newEnv(t *testing.T) *env {
	t.Helper()
	node := testnode.Start(t, testnode.Options{TLS: true})
	if _, err := node.Keyring.CreateKey(context.Background(), kmsKey); err != nil {
		t.Fatalf("creating KMS key: %v", err)
	}
	e := &env{node: node, caFile: filepath.Join(node.DataDir, "test-cert.pem"), src: t.TempDir(), files: map[string][]byte{}}
	e.c = s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(node.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(node.AccessKey, node.SecretKey, ""),
		HTTPClient:  node.Client,
	})
	for name, size := range map[string]int{"small.txt": 1000, "dir/nested.txt": 1, "big.bin": bigSize} {
		b := make([]byte, size)
		rand.Read(b)
		e.files[name] = b
		p := filepath.Join(e.src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// sse is the encryption a case expects on every object it wrote.
type sse struct {
	mode   types.ServerSideEncryption // "" for none
	kmsKey string
	ssec   []byte // SSE-C key: HEAD and GET send it
}

// run runs a tool, failing the test (with its output) if it fails or is
// not installed.
func run(t *testing.T, tool string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is not installed (scripts/test.sh installs it): %v", tool, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user configuration
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// checkObjects proves that bucket holds exactly the local files under
// prefix, each encrypted as want says, with the same bytes.
func (e *env) checkObjects(t *testing.T, bucket, prefix string, want sse) {
	t.Helper()
	got := e.list(t, bucket, prefix)
	if len(got) != len(e.files) {
		t.Errorf("s3://%s/%s holds %v, want the %d uploaded files", bucket, prefix, got, len(e.files))
	}
	for name, content := range e.files {
		e.checkObject(t, bucket, prefix+name, content, want)
	}
}

// checkObject proves one object's encryption (HEAD) and bytes (GET).
func (e *env) checkObject(t *testing.T, bucket, key string, content []byte, want sse) {
	t.Helper()
	ctx := context.Background()
	head := &s3.HeadObjectInput{Bucket: &bucket, Key: &key}
	get := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if want.ssec != nil {
		alg, k, md5 := ssecHeaders(want.ssec)
		head.SSECustomerAlgorithm, head.SSECustomerKey, head.SSECustomerKeyMD5 = &alg, &k, &md5
		get.SSECustomerAlgorithm, get.SSECustomerKey, get.SSECustomerKeyMD5 = &alg, &k, &md5
	}
	h, err := e.c.HeadObject(ctx, head)
	if err != nil {
		t.Errorf("HEAD %s: %v", key, err)
		return
	}
	if h.ServerSideEncryption != want.mode {
		t.Errorf("%s: x-amz-server-side-encryption %q, want %q", key, h.ServerSideEncryption, want.mode)
	}
	if kid := aws.ToString(h.SSEKMSKeyId); want.kmsKey != "" && !strings.HasSuffix(kid, want.kmsKey) {
		t.Errorf("%s: KMS key id %q, want %s", key, kid, want.kmsKey)
	}
	if alg := aws.ToString(h.SSECustomerAlgorithm); (want.ssec != nil) != (alg == "AES256") {
		t.Errorf("%s: SSE-C algorithm %q (SSE-C key given: %v)", key, alg, want.ssec != nil)
	}
	if aws.ToInt64(h.ContentLength) != int64(len(content)) {
		t.Errorf("%s: Content-Length %d, want %d", key, aws.ToInt64(h.ContentLength), len(content))
	}
	if etag := aws.ToString(h.ETag); len(content) == bigSize && !strings.HasSuffix(etag, "-3\"") {
		t.Errorf("%s: ETag %s, want a three-part multipart upload's", key, etag)
	}
	r, err := e.c.GetObject(ctx, get)
	if err != nil {
		t.Errorf("GET %s: %v", key, err)
		return
	}
	defer r.Body.Close()
	h1 := sha256.New()
	if _, err := io.Copy(h1, r.Body); err != nil || !bytes.Equal(h1.Sum(nil), sum(content)) {
		t.Errorf("GET %s: the bytes differ from the uploaded file (%v)", key, err)
	}
}

// list returns the keys under prefix with their LastModified times.
func (e *env) list(t *testing.T, bucket, prefix string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	p := s3.NewListObjectsV2Paginator(e.c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToTime(o.LastModified)
		}
	}
	return out
}

// checkDownloaded proves a tool's download of the files into dir.
func (e *env) checkDownloaded(t *testing.T, dir string) {
	t.Helper()
	for name, content := range e.files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(sum(b), sum(content)) {
			t.Errorf("downloaded %s differs from the uploaded file (%v)", name, err)
		}
	}
}

// checkListed proves a tool's listing names every file.
func (e *env) checkListed(t *testing.T, out, prefix string) {
	t.Helper()
	for name := range e.files {
		if !strings.Contains(out, prefix+name) {
			t.Errorf("the listing lacks %s%s:\n%s", prefix, name, out)
		}
	}
}

func sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// ssecHeaders are the SDK's SSE-C fields for key.
func ssecHeaders(key []byte) (alg, k, keyMD5 string) {
	m := md5.Sum(key)
	return "AES256", base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(m[:])
}
