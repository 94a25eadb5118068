package hostile

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"strongroom/internal/testnode"
)

//go:embed testdata/early_error.py
var earlyErrorPy string

// s3Client is an aws-sdk-go-v2 client of the node, path style, one attempt.
func s3Client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(n.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:       n.Client,
		RetryMaxAttempts: 1,
		Logger:           logging.Nop{},
	})
}

func createBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
}

// TestEarlyErrorBoto3 sends PUTs the server refuses before reading their
// body (bad SSE-C key MD5, unknown KMS key, missing bucket) from boto3, with
// and without Expect: 100-continue, and wants the error code at once: not
// a ConnectionClosedError after the client's timeout, nor an SSL EOF.
func TestEarlyErrorBoto3(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, with python3-boto3 (a pyenv python3 may shadow it)
	n := testnode.Start(t, testnode.Options{TLS: true})
	createBucket(t, s3Client(n), "early")
	script := filepath.Join(t.TempDir(), "early_error.py")
	if err := os.WriteFile(script, []byte(earlyErrorPy), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, n.URL, n.AccessKey, n.SecretKey, "early", "100000,1100000,12000000")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, stderr.String())
	}
	var results []struct {
		Case   string  `json:"case"`
		Size   int     `json:"size"`
		Expect bool    `json:"expect"`
		Result string  `json:"result"`
		Secs   float64 `json:"secs"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("boto3 script output %q: %v", out, err)
	}
	want := map[string]string{"ssec": "InvalidArgument", "kms": "KMS.NotFoundException", "nobucket": "NoSuchBucket"}
	for _, r := range results {
		t.Logf("%+v", r)
		if r.Result != want[r.Case] || r.Secs > 5 {
			t.Errorf("%s, %d bytes, expect=%v: got %q after %.1fs, want %s at once", r.Case, r.Size, r.Expect, r.Result, r.Secs, want[r.Case])
		}
	}
}

var _ = tls.VersionTLS12
var _ = http.MethodPut
