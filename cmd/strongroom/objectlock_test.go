package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyDisableRefusedWhileLocked: `key disable` refuses a key that seals
// a version under object lock (a retention, or a legal hold on the default
// key's managed encryption), and goes through once nothing it protects is
// locked.
func TestKeyDisableRefusedWhileLocked(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)
	mustCLI(t, "key", "create", "vault", "--data", data)
	mustCLI(t, "key", "create", "spare", "--data", data)
	n := testnode.Start(t, testnode.Options{DataDir: data})
	ctx := context.Background()
	root := service.Principal{Root: true}
	if _, err := n.Service.CreateBucket(ctx, root, "worm", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := n.Service.EnableObjectLock(ctx, root, "worm"); err != nil {
		t.Fatal(err)
	}
	put := func(key string, spec *sse.Spec, lock *service.LockRequest) string {
		o, err := n.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: "worm", Key: key, SSE: spec, Lock: lock,
			Body: service.Body{Reader: bytes.NewReader([]byte("x")), Size: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return o.VersionID
	}
	until := time.Now().Add(time.Hour)
	put("sealed", &sse.Spec{Mode: sse.KMS, KeyID: "vault"}, &service.LockRequest{Mode: service.LockGovernance, Until: &until})
	held := put("held", &sse.Spec{Mode: sse.Managed}, &service.LockRequest{LegalHold: true})

	for _, key := range []string{"vault", "strongroom-default"} {
		_, err := cli(t, "key", "disable", key, "--data", data)
		if err == nil || !strings.Contains(err.Error(), "object lock") {
			t.Fatalf("disabling %s, which seals a locked version: %v", key, err)
		}
		if info, err := n.Keyring.DescribeKey(ctx, key); err != nil || !info.Enabled {
			t.Fatalf("%s after the refused disable: %+v, %v", key, info, err)
		}
	}
	mustCLI(t, "key", "disable", "spare", "--data", data)
	if err := n.Service.PutObjectLegalHold(ctx, root, "worm", "held", held, false); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "key", "disable", "strongroom-default", "--data", data)
	mustCLI(t, "key", "enable", "strongroom-default", "--data", data)
}

// TestKeyDisableOfflineRefusedWhileLocked: the same refusal on a stopped
// node's data directory (the command opens its metadata).
func TestKeyDisableOfflineRefusedWhileLocked(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)
	mustCLI(t, "key", "create", "vault", "--data", data)
	ctx := context.Background()
	n, err := server.Open(ctx, server.Config{DataDir: data, Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), NoBackgroundJobs: true})
	if err != nil {
		t.Fatal(err)
	}
	root := service.Principal{Root: true}
	if _, err := n.Service.CreateBucket(ctx, root, "worm", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := n.Service.EnableObjectLock(ctx, root, "worm"); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	if _, err := n.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: "worm", Key: "k", SSE: &sse.Spec{Mode: sse.KMS, KeyID: "vault"},
		Lock: &service.LockRequest{Mode: service.LockCompliance, Until: &until}, Body: service.Body{Reader: bytes.NewReader([]byte("x")), Size: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "key", "disable", "vault", "--data", data); !errors.Is(err, server.ErrKeyProtectsLocked) {
		t.Fatalf("offline disable of a key sealing a locked version: %v", err)
	}
	out := mustCLI(t, "key", "list", "--data", data)
	enabled := false
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "vault" {
			enabled = f[1] == "true"
		}
	}
	if !enabled {
		t.Fatalf("vault after the refused disable:\n%s", out)
	}
}
