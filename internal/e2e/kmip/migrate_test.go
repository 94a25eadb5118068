//go:build cgo

package e2ekmip

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsmtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// sseCase is one way an object is encrypted through aws-sdk-go-v2.
type sseCase struct {
	key       string
	sse       types.ServerSideEncryption
	kmsKey    string // "" for the default key
	bucketKey bool
}

var migrateCases = []sseCase{
	{"sse-s3", types.ServerSideEncryptionAes256, "", false},
	{"sse-s3-bucket-key", types.ServerSideEncryptionAes256, "", true},
	{"kms-default", types.ServerSideEncryptionAwsKms, "", false},
	{"kms-named", types.ServerSideEncryptionAwsKms, "photos", false},
	{"kms-named-bucket-key", types.ServerSideEncryptionAwsKms, "photos", true},
	{"kms-default-bucket-key", types.ServerSideEncryptionAwsKms, "", true},
}

func s3Client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:  n.Client, Retryer: aws.NopRetryer{},
	})
}

// putCases writes one object per case under prefix and returns the bodies.
func putCases(t *testing.T, c *s3.Client, bucket, prefix string, into map[string][]byte) {
	t.Helper()
	for i, sc := range migrateCases {
		key := prefix + sc.key
		data := body(1000 + 97*i)
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
			ServerSideEncryption: sc.sse, BucketKeyEnabled: aws.Bool(sc.bucketKey)}
		if sc.kmsKey != "" {
			in.SSEKMSKeyId = aws.String(sc.kmsKey)
		}
		if _, err := c.PutObject(context.Background(), in); err != nil {
			t.Fatalf("PutObject %s: %v", key, err)
		}
		into[key] = data
	}
}

func readCases(t *testing.T, c *s3.Client, bucket string, objs map[string][]byte) {
	t.Helper()
	for key, want := range objs {
		out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObject %s: %v", key, err)
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("GetObject %s: %d bytes, %v", key, len(got), err)
		}
	}
}

// waitMigration waits for the key-migrate job's end.
func waitMigration(t *testing.T, n *testnode.Node) service.KeyJobStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var st service.KeyJobStatus
		if err := json.Unmarshal(e2eutil.Admin(t, n, http.MethodGet, "keyjobs/"+service.MigrateJob, nil), &st); err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the migration did not end: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// migratedNode is a node moved from a SoftHSM2 token to the KMIP server
// and restarted on the KMIP server only, with the objects it holds.
type migratedNode struct {
	e     *env
	tok   softhsmtest.Token
	hsm   server.KMSConfig // the token's
	objs  map[string][]byte
	dir   string
	audit string
	// oldSealed is root.key.sealed as the token sealed it.
	oldSealed []byte
}

// pkcs11ToKMIP serves a fresh data directory on a SoftHSM2 token, writes
// an object per SSE mode, migrates to the package's PyKMIP server, and
// restarts the node on the KMIP server alone.
func pkcs11ToKMIP(t *testing.T) migratedNode {
	t.Helper()
	t.Setenv(kms.RootKeyEnv, "")
	t.Setenv("STRONGROOM_PKCS11_PIN", "")
	ctx := context.Background()
	tok := softhsmtest.New(t, "to-kmip")
	dir := t.TempDir()
	hsm := server.KMSConfig{KMS: server.KMSPKCS11, PKCS11Module: tok.Module, PKCS11Token: tok.Label, PKCS11PINFile: tok.PINFile}
	n := testnode.Start(t, testnode.Options{DataDir: dir, TLS: true, KMS: hsm})
	if _, err := n.Keys.CreateKey(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	oldSealed, err := os.ReadFile(filepath.Join(dir, "root.key.sealed"))
	if err != nil {
		t.Fatal(err)
	}
	c := s3Client(n)
	const bucket = "migrated"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	objs := map[string][]byte{}
	putCases(t, c, bucket, "before/", objs)

	raw, _ := json.Marshal(kmsConfig())
	if st, body := e2eutil.AdminBody(t, n, http.MethodPost, "keys/migrate", nil, raw); st != http.StatusOK {
		t.Fatalf("key migrate: %d %s", st, body)
	}
	st := waitMigration(t, n)
	if code, body := e2eutil.AdminBody(t, n, http.MethodPost, "keys/migrate/finish", nil, hsmJSON(hsm)); code != http.StatusConflict {
		t.Fatalf("migrate --finish before the restart on the target: %d %s", code, body)
	}
	if st.LastError != "" || st.Done != st.Total || st.Total == 0 {
		t.Fatalf("migration: %+v", st)
	}
	// Written after the migration, before the switch: under the KMIP server.
	putCases(t, c, bucket, "during/", objs)
	readCases(t, c, bucket, objs)
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The token is no longer given: the KMIP server alone opens the node.
	t.Setenv("SOFTHSM2_CONF", "/nonexistent")
	audit := filepath.Join(t.TempDir(), "audit.log")
	e := newEnvWith(t, testnode.Options{DataDir: dir, AuditLog: audit})
	t.Setenv("SOFTHSM2_CONF", tok.Conf)
	readCases(t, e.c, bucket, objs)
	putCases(t, e.c, bucket, "after/", objs)
	readCases(t, e.c, bucket, objs)
	return migratedNode{e: e, tok: tok, hsm: hsm, objs: objs, dir: dir, audit: audit, oldSealed: oldSealed}
}

func hsmJSON(c server.KMSConfig) []byte {
	raw, _ := json.Marshal(c)
	return raw
}

// TestMigratePKCS11ToKMIP: a node serving on a SoftHSM2 token moves to a
// real PyKMIP server with `key migrate` (the admin API the CLI calls);
// restarted on the KMIP server alone, it reads through aws-sdk-go-v2 every
// object written before the migration and between it and the switch (SSE-S3
// and SSE-KMS, default and named key, with and without bucket keys), and
// writes new ones.
func TestMigratePKCS11ToKMIP(t *testing.T) {
	m := pkcs11ToKMIP(t)
	if n := len(m.objs); n != 3*len(migrateCases) {
		t.Fatalf("%d objects", n)
	}
}

// TestMigrateFinishDestroysOldKeys: `key migrate --finish` (POST
// keys/migrate/finish, the old provider in the body) is refused before the
// restart on the target (pkcs11ToKMIP checks it), then destroys every key
// the SoftHSM2 token held, the default and root sealing keys too, with an
// audit line each; every object still reads through the KMIP server, and
// the token opens nothing any more.
func TestMigrateFinishDestroysOldKeys(t *testing.T) {
	m := pkcs11ToKMIP(t)
	if code, body := e2eutil.AdminBody(t, m.e.node, http.MethodPost, "keys/migrate/finish", nil, []byte(`{"KMS":"kmip"}`)); code != http.StatusConflict {
		t.Fatalf("finish naming the provider the node runs on: %d %s", code, body)
	}
	code, body := e2eutil.AdminBody(t, m.e.node, http.MethodPost, "keys/migrate/finish", nil, hsmJSON(m.hsm))
	if code != http.StatusOK {
		t.Fatalf("migrate --finish: %d %s", code, body)
	}
	var out struct{ Destroyed []string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	want := []string{"photos", kms.DefaultKeyName, kms.RootKeyName}
	for _, id := range want {
		if !slices.Contains(out.Destroyed, id) {
			t.Errorf("destroyed %v, want %s among them", out.Destroyed, id)
		}
	}
	auditLog, err := os.ReadFile(m.audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range out.Destroyed {
		if !bytes.Contains(auditLog, []byte("pkcs11:"+id)) {
			t.Errorf("no audit line for destroying %s:\n%s", id, auditLog)
		}
	}
	readCases(t, m.e.c, "migrated", m.objs)
	p, err := pkcs11.Open(context.Background(), pkcs11.Config{Module: m.tok.Module, Token: m.tok.Label, PIN: m.tok.PIN})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Open made a fresh default key; nothing else is there.
	if keys, err := p.ListKeys(context.Background()); err != nil || len(keys) != 1 || keys[0].ID != kms.DefaultKeyName {
		t.Fatalf("keys left in the token: %v %v", keys, err)
	}
	// The root sealing key is gone: a backup's root.key.sealed does not open.
	if _, err := p.OpenRootKey(context.Background(), m.oldSealed); err == nil {
		t.Fatal("the token still opens the old sealed root key")
	}
}
