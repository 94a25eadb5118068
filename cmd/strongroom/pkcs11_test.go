//go:build cgo

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsmtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestPKCS11Commands drives the key and user commands with --kms pkcs11:
// on a stopped node straight against the token, on a running one through
// its admin API (whose root credentials open only with the token), and
// serve refusing to start while the token is unreachable.
func TestPKCS11Commands(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY", "STRONGROOM_PKCS11_PIN"} {
		t.Setenv(k, "")
	}
	tok := softhsmtest.New(t, "cli-token")
	data := filepath.Join(t.TempDir(), "data")
	flags := []string{"--data", data, "--kms", "pkcs11", "--pkcs11-module", tok.Module, "--pkcs11-token", tok.Label, "--pkcs11-pin-file", tok.PINFile}
	with := func(args ...string) []string { return append(args, flags...) }

	// The commands never create a data directory: initialised as serve
	// --kms pkcs11 does.
	if _, err := cli(t, with("key", "list")...); !errors.Is(err, server.ErrNoDataDir) {
		t.Fatalf("key list without a data directory: %v, want ErrNoDataDir", err)
	}
	if err := testnode.Start(t, testnode.Options{DataDir: data, KMS: testKMS(tok)}).Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, with("key", "create", "photos")...)
	if !strings.Contains(out, "photos") {
		t.Fatalf("key create: %s", out)
	}
	mustCLI(t, with("key", "rotate", "photos")...)
	out = mustCLI(t, with("key", "list")...)
	if !strings.Contains(out, "photos") || !strings.Contains(out, "strongroom-default") {
		t.Fatalf("key list: %s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "photos ") && !strings.Contains(l, " 2 ") {
			t.Fatalf("photos should have 2 versions: %q", l)
		}
	}
	// The PIN from the environment works too; a wrong one is refused.
	noPIN := []string{"key", "list", "--data", data, "--kms", "pkcs11", "--pkcs11-module", tok.Module, "--pkcs11-token", tok.Label}
	t.Setenv("STRONGROOM_PKCS11_PIN", tok.PIN)
	mustCLI(t, noPIN...)
	t.Setenv("STRONGROOM_PKCS11_PIN", "wrong-pin")
	if _, err := cli(t, noPIN...); err == nil || strings.Contains(err.Error(), "wrong-pin") {
		t.Fatalf("wrong PIN: %v", err)
	}
	t.Setenv("STRONGROOM_PKCS11_PIN", "")

	// A running node holds the metadata: the commands go through it.
	n := testnode.Start(t, testnode.Options{DataDir: data, KMS: testKMS(tok)})
	mustCLI(t, with("key", "disable", "photos")...)
	if info, err := n.Keys.DescribeKey(context.Background(), "photos"); err != nil || info.Enabled {
		t.Fatalf("disable through the running node: %+v %v", info, err)
	}
	out = mustCLI(t, with("user", "create", "alice")...)
	if field(out, "access key") == "" {
		t.Fatalf("user create: %s", out)
	}
	if _, err := os.Stat(filepath.Join(data, "root.key")); err == nil {
		t.Fatal("a root.key in the clear was written")
	}
	out = mustCLI(t, with("user", "root-credentials")...)
	if field(out, "access key") != n.AccessKey {
		t.Fatalf("root-credentials: %s", out)
	}

	// Serve refuses to start without its token, and says why.
	other := softhsmtest.New(t, "other-token") // the node's token is not in this configuration
	_ = other
	n.Close(context.Background())
	_, err := cli(t, with("serve", "--addr", "127.0.0.1:0")...)
	if err == nil || !strings.Contains(err.Error(), "PKCS#11") || !strings.Contains(err.Error(), `no token labelled "cli-token"`) {
		t.Fatalf("serve without the token: %v", err)
	}
}

func testKMS(tok softhsmtest.Token) server.KMSConfig {
	return server.KMSConfig{KMS: server.KMSPKCS11, PKCS11Module: tok.Module, PKCS11Token: tok.Label, PKCS11PINFile: tok.PINFile}
}
