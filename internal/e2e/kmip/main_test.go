package e2ekmip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/kms/kmip/kmiptest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const region = "us-east-1"

// kmipSrv is the package's PyKMIP server; a test that stops it owns it
// until it has started it again (such tests do not run in parallel).
var kmipSrv *kmiptest.Server

func TestMain(m *testing.M) {
	e2eutil.CleanEnv()
	dir, err := os.MkdirTemp("", "e2ekmip")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kmipSrv, err = kmiptest.New(dir)
	if err != nil {
		// Never a skip: CI installs python3-pykmip (scripts/test.sh).
		fmt.Fprintln(os.Stderr, "starting PyKMIP:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	kmipSrv.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func kmsConfig() server.KMSConfig {
	return server.KMSConfig{KMS: "kmip", KMIPAddr: kmipSrv.Addr, KMIPCert: kmipSrv.CertFile, KMIPKey: kmipSrv.KeyFile, KMIPCA: kmipSrv.CAFile}
}

// env is a TLS node using the KMIP provider, its Debug log and a client.
type env struct {
	node *testnode.Node
	logs *e2eutil.LogBuffer
	c    *s3.Client
	ctx  context.Context
}

func newEnv(t *testing.T, dialects ...string) *env {
	return newEnvWith(t, testnode.Options{Dialects: dialects})
}

// newEnvWith starts a TLS node with the KMIP provider and options o.
func newEnvWith(t *testing.T, o testnode.Options) *env {
	t.Helper()
	logs := &e2eutil.LogBuffer{}
	o.TLS, o.KMS = true, kmsConfig()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	node := testnode.Start(t, o)
	e := &env{node: node, logs: logs, ctx: context.Background()}
	e.c = s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(node.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(node.AccessKey, node.SecretKey, ""),
		HTTPClient:  node.Client, Retryer: aws.NopRetryer{},
	})
	t.Cleanup(func() { e.canary(t) })
	return e
}

// canaryText is in every object body the tests store.
const canaryText = "KMIP-CANARY-7c1f0b9e"

func body(n int) []byte {
	b := bytes.Repeat([]byte(canaryText+" "), n/len(canaryText)+1)
	return b[:n]
}

// canary proves that no master key the KMIP server holds (read from its
// database), and no plaintext body, reached the node's data directory or
// its logs.
func (e *env) canary(t *testing.T) {
	t.Helper()
	keys, err := kmipSrv.KeyMaterial()
	if err != nil {
		t.Error(err)
		return
	}
	if len(keys) == 0 {
		t.Error("the KMIP server holds no key: the canary proves nothing")
	}
	needles := append(keys, []byte(canaryText))
	check := func(where string, data []byte) {
		for _, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s holds key material or plaintext (%d-byte needle)", where, len(n))
			}
		}
	}
	check("the log", e.logs.Bytes())
	filepath.WalkDir(e.node.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil {
			check(path, data)
		}
		return nil
	})
}

func (e *env) bucket(t *testing.T, name string) string {
	t.Helper()
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return name
}

func (e *env) get(t *testing.T, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s: reading: %v", key, err)
	}
	return b, out
}

// apiErr returns the status, code and Retry-After of an SDK error.
func apiErr(t *testing.T, err error) (status int, code, retryAfter string) {
	t.Helper()
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &re) || !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return re.HTTPStatusCode(), ae.ErrorCode(), re.Response.Header.Get("Retry-After")
}

// listKeys returns the keys of a bucket, to prove nothing changed.
func (e *env) listKeys(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := e.c.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key)+"/"+aws.ToString(o.ETag))
	}
	return keys
}

// ossClient is the Alibaba OSS v2 SDK on the node's OSS listener.
func (e *env) ossClient() *oss2.Client {
	return oss2.NewClient(oss2.LoadDefaultConfig().
		WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(e.node.AccessKey, e.node.SecretKey)).
		WithRegion("cn-hangzhou").WithEndpoint(e.node.DialectURL["oss"]).WithHttpClient(e.node.Client).
		WithSignatureVersion(oss2.SignatureVersionV4).WithRetryMaxAttempts(1))
}
