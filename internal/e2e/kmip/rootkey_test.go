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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"strongroom/internal/kms"
	"strongroom/internal/server"
	"strongroom/internal/testnode"
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
