// Package e2ekeys proves who may use a KMS key (grants), crypto-shredding
// (schedule-deletion, destruction by the key-deletion job) and the
// behaviour of a node whose KMS is down, end to end through
// aws-sdk-go-v2 and the Alibaba OSS v2 SDK against real nodes on loopback.
package e2ekeys

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

const region = "us-east-1"

type env struct {
	node  *testnode.Node
	ctx   context.Context
	root  *s3.Client
	audit string // audit log path
	clock *e2eutil.Clock
}

func start(t *testing.T, o testnode.Options) *env {
	t.Helper()
	o.TLS = true
	o.Dialects = []string{"oss"}
	e := &env{ctx: context.Background(), audit: filepath.Join(t.TempDir(), "audit.log"), clock: &e2eutil.Clock{}}
	o.AuditLog = e.audit
	if o.Now == nil {
		o.Now = e.clock.Now
	}
	e.node = testnode.Start(t, o)
	e.root = e.s3(&iam.Credentials{AccessKey: e.node.AccessKey, SecretKey: e.node.SecretKey})
	return e
}

func (e *env) s3(c *iam.Credentials) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:     aws.String(e.node.URL),
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, ""),
		UsePathStyle:     true,
		HTTPClient:       e.node.Client,
		RetryMaxAttempts: 1,
	})
}

func (e *env) oss(c *iam.Credentials) *oss2.Client {
	return oss2.NewClient(oss2.LoadDefaultConfig().
		WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey)).
		WithRegion("cn-hangzhou").WithEndpoint(e.node.DialectURL["oss"]).WithHttpClient(e.node.Client).
		WithSignatureVersion(oss2.SignatureVersionV4).WithRetryMaxAttempts(1))
}

func (e *env) user(t *testing.T, name string) *iam.Credentials {
	t.Helper()
	c, err := e.node.IAM.CreateUser(e.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// admin calls the admin API as the CLI does and decodes its answer into
// out (if not nil); it returns the status and body.
func (e *env) admin(t *testing.T, method, path string, q url.Values, out any) (int, string) {
	t.Helper()
	u := e.node.URL + server.AdminPrefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(method, u, nil)
	empty := sha256.Sum256(nil)
	auth.SignV4(req, e.node.AccessKey, e.node.SecretKey, region, time.Now(), hex.EncodeToString(empty[:]))
	resp, err := e.node.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("admin %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode, string(body)
}

func (e *env) mustAdmin(t *testing.T, op string, q url.Values) server.KeyStatus {
	t.Helper()
	var st server.KeyStatus
	if status, body := e.admin(t, http.MethodPost, "keys/"+op, q, &st); status != http.StatusOK {
		t.Fatalf("admin %s %v: %d %s", op, q, status, body)
	}
	return st
}

func (e *env) keyList(t *testing.T) map[string]server.KeyStatus {
	t.Helper()
	var list []server.KeyStatus
	if status, body := e.admin(t, http.MethodGet, "keys", nil, &list); status != http.StatusOK {
		t.Fatalf("key list: %d %s", status, body)
	}
	out := map[string]server.KeyStatus{}
	for _, k := range list {
		out[k.ID] = k
	}
	return out
}

func put(ctx context.Context, c *s3.Client, bucket, key, kmsKey string, data []byte) error {
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)}
	if kmsKey != "-" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if kmsKey != "" {
			in.SSEKMSKeyId = &kmsKey
		}
	}
	_, err := c.PutObject(ctx, in)
	return err
}

func get(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// wantErr checks an aws-sdk-go-v2 error's status and code.
func wantErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) || re.HTTPStatusCode() != status || ae.ErrorCode() != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
	}
}

// wantOSSErr checks an OSS v2 SDK error's status and code.
func wantOSSErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var se *oss2.ServiceError
	if !errors.As(err, &se) || se.StatusCode != status || se.Code != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
	}
}

// auditLines returns the audit log's events.
func auditLines(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]string
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// findAudit returns the first event with all the given fields.
func findAudit(events []map[string]string, want map[string]string) map[string]string {
	for _, ev := range events {
		ok := true
		for k, v := range want {
			if ev[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return ev
		}
	}
	return nil
}

func startOpts(dir string) testnode.Options { return testnode.Options{DataDir: dir} }

// restart opens a new node on the data directory of a closed one, with
// the same clock and audit log.
func restart(t *testing.T, old *env, dir string) *env {
	t.Helper()
	e := &env{ctx: old.ctx, audit: old.audit, clock: old.clock}
	e.node = testnode.Start(t, testnode.Options{DataDir: dir, TLS: true, Dialects: []string{"oss"}, AuditLog: e.audit, Now: e.clock.Now})
	e.root = e.s3(&iam.Credentials{AccessKey: e.node.AccessKey, SecretKey: e.node.SecretKey})
	return e
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
