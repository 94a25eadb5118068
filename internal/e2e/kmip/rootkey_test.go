package e2ekmip

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// With --kms kmip and no root key given, the KMIP server holds the root
// key: the data directory keeps it only sealed, a copy of the directory
// opens nothing without the KMIP server, and serve refuses to start while
// the server is unreachable.
func TestRootKeyHeldByKMIP(t *testing.T) {
	t.Setenv(kms.RootKeyEnv, "")
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	b := e.bucket(t, "rootkey")
	data := body(4 << 10)
	if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("o"), Body: bytes.NewReader(data),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatal(err)
	}
	ak, sk := e.node.AccessKey, e.node.SecretKey
	if err := e.node.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key")); err == nil {
		t.Fatal("root.key was written to the data directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key.sealed")); err != nil {
		t.Fatalf("no sealed root key: %v", err)
	}

	// A copy of the data directory, without the KMIP server's help.
	copyDir := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, copyDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	_, err := server.Open(context.Background(), server.Config{DataDir: copyDir, Addr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "sealed by an external key provider") {
		t.Fatalf("opening the copy without --kms kmip: %v", err)
	}
	// The KMIP server unreachable: serve refuses, and says why.
	kmipSrv.Stop()
	_, err = server.Open(context.Background(), server.Config{DataDir: copyDir, Addr: "127.0.0.1:0", KMSConfig: kmsConfig()})
	if startErr := kmipSrv.Start(); startErr != nil {
		t.Fatal(startErr)
	}
	if !errors.Is(err, kms.ErrUnavailable) || !strings.Contains(err.Error(), "key provider kmip") {
		t.Fatalf("opening with the KMIP server down: %v", err)
	}

	// With the KMIP server, the copy opens and serves the object.
	e2 := newEnvIn(t, copyDir)
	if e2.node.AccessKey != ak || e2.node.SecretKey != sk {
		t.Error("the root credentials changed")
	}
	if got, _ := e2.get(t, b, "o"); !bytes.Equal(got, data) {
		t.Fatal("GET after reopening returned other bytes")
	}
}

func newEnvIn(t *testing.T, dir string) *env {
	return newEnvWith(t, testnode.Options{DataDir: dir})
}

// A builtin data directory moves its root key into the KMIP server as into
// a PKCS#11 token (one path, rootKeyFrom): root.key left in the directory
// is refused, the key given once is sealed, and objects the keyring wrapped
// before still read while new ones are wrapped by the KMIP server.
func TestMoveToKMIP(t *testing.T) {
	t.Setenv(kms.RootKeyEnv, "")
	ctx := context.Background()
	dir := t.TempDir()
	old := body(8 << 10)
	builtin := testnode.Start(t, testnode.Options{DataDir: dir, TLS: true})
	c := s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(builtin.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(builtin.AccessKey, builtin.SecretKey, ""),
		HTTPClient:  builtin.Client, Retryer: aws.NopRetryer{},
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("moved")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("moved"), Key: aws.String("old"), Body: bytes.NewReader(old),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatal(err)
	}
	if err := builtin.Close(ctx); err != nil {
		t.Fatal(err)
	}

	cfg := server.Config{DataDir: dir, Addr: "127.0.0.1:0", KMSConfig: kmsConfig()}
	if _, err := server.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Fatalf("opening with root.key in the data directory: %v", err)
	}
	aside := filepath.Join(t.TempDir(), "root.key")
	if err := os.Rename(filepath.Join(dir, "root.key"), aside); err != nil {
		t.Fatal(err)
	}
	cfg.RootKeyFile = aside
	n, err := server.Open(ctx, cfg) // seals the given root key
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key.sealed")); err != nil {
		t.Fatalf("no sealed root key: %v", err)
	}

	e := newEnvIn(t, dir) // opens the root key through the KMIP server
	if got, _ := e.get(t, "moved", "old"); !bytes.Equal(got, old) {
		t.Fatal("an object the keyring wrapped reads back other bytes")
	}
	e.node.Keyring.ResetCalls()
	if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("moved"), Key: aws.String("new"), Body: bytes.NewReader(old),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatal(err)
	}
	if calls := e.node.Keyring.Calls(); calls[kms.OpGenerateDataKey] != 0 {
		t.Fatalf("the keyring wrapped a new object: %v", calls)
	}
}
