//go:build cgo

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsmtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyMigrateToPKCS11: `key migrate --to pkcs11:...` on a node running
// on the builtin keyring creates its keys in the token, sends new data
// keys there, and rewraps every stored object key and bucket key under
// the token's keys while objects stay readable; afterwards no object
// depends on the keyring, and the node restarted on the token (the root
// key sealed into it) reads every object, the one written during the
// migration too.
func TestKeyMigrateToPKCS11(t *testing.T) {
	t.Setenv("STRONGROOM_PKCS11_PIN", "")
	node, data, objs := keyJobNode(t, 40)
	tok := softhsmtest.New(t, "migrate-token")
	target := "pkcs11:module=" + tok.Module + ",token=" + tok.Label + ",pin-file=" + tok.PINFile

	stop := readDuring(t, node, objs)
	out := mustCLI(t, "key", "migrate", "--to", target, "--rate", "200", "--interval", "20ms", "--data", data)
	// A write during (here: after) the migration gets a token key.
	data2 := []byte("written on the token")
	if _, err := node.Service.PutObject(context.Background(), service.Principal{Root: true}, service.PutObjectInput{Bucket: "bkt", Key: "late",
		SSE: &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "photos", BucketKey: true}, Body: service.Body{Reader: bytes.NewReader(data2), Size: int64(len(data2))}}); err != nil {
		t.Fatal(err)
	}
	stop()
	objs["late"] = data2 // after stop: the reader ranges over objs
	st := lastStatus(t, out)
	if st.Running || st.Total != 40 || st.Counts["rewrapped"] != 40 || st.LastError != "" {
		t.Fatalf("migration: %+v\n%s", st, out)
	}
	usage := mustCLI(t, "key", "list", "--usage", "--data", data)
	if strings.Contains(usage, "builtin") || !strings.Contains(usage, "pkcs11") {
		t.Fatalf("usage after the migration:\n%s", usage)
	}
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "key", "rewrap", "photos", "--data", data); err == nil || !strings.Contains(err.Error(), "migration") {
		t.Fatalf("a rewrap before the restart on the new provider: %v", err)
	}
	if _, err := cli(t, "key", "migrate", "--to", "pkcs11:module=/nonexistent.so,token=x", "--data", data); err == nil {
		t.Fatal("a migration to a module that does not exist started")
	}

	// Switch: the root key leaves the data directory and is sealed by the
	// token on the first start with --kms pkcs11.
	if err := node.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(data, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == kms.RootKeySize {
		raw = []byte(base64.StdEncoding.EncodeToString(raw))
	}
	if err := os.Remove(filepath.Join(data, "root.key")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(kms.RootKeyEnv, string(raw))
	cfg := server.KMSConfig{KMS: server.KMSPKCS11, PKCS11Module: tok.Module, PKCS11Token: tok.Label, PKCS11PINFile: tok.PINFile}
	node = testnode.Start(t, testnode.Options{DataDir: data, KMS: cfg})
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatalf("after the switch to the token: %v", err)
	}
	if usage := mustCLI(t, "key", "list", "--usage", "--data", data, "--kms", "pkcs11", "--pkcs11-module", tok.Module,
		"--pkcs11-token", tok.Label, "--pkcs11-pin-file", tok.PINFile); strings.Contains(usage, "builtin") {
		t.Fatalf("usage after the switch:\n%s", usage)
	}
}

// TestKeyMigrateResumesAfterRestart: a node stopped in the middle of a
// migration opens the target again when it starts and finishes the job;
// every object reads throughout.
func TestKeyMigrateResumesAfterRestart(t *testing.T) {
	t.Setenv("STRONGROOM_PKCS11_PIN", "")
	node, data, objs := keyJobNode(t, 60)
	tok := softhsmtest.New(t, "resume-token")
	target := "pkcs11:module=" + tok.Module + ",token=" + tok.Label + ",pin-file=" + tok.PINFile
	mustCLI(t, "key", "migrate", "--to", target, "--rate", "100", "--no-wait", "--data", data)
	var st service.KeyJobStatus
	for st.Done < 10 {
		st = lastStatus(t, mustCLI(t, "key", "migrate", "--status", "--data", data))
	}
	if st.Done >= 60 {
		t.Fatalf("not stopped mid-way: %+v", st)
	}
	if err := node.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	node = testnode.Start(t, testnode.Options{DataDir: data})
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatalf("reading after the restart, mid-migration: %v", err)
	}
	for range 600 {
		if _, err := os.Stat(filepath.Join(data, server.AddrFile)); err == nil {
			if st = lastStatus(t, mustCLI(t, "key", "migrate", "--status", "--data", data)); !st.Running {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Running || st.Done != 60 || st.Counts["rewrapped"] != 60 || st.LastError != "" {
		t.Fatalf("after the restart: %+v", st)
	}
	if usage := mustCLI(t, "key", "list", "--usage", "--data", data); strings.Contains(usage, "builtin") {
		t.Fatalf("usage:\n%s", usage)
	}
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatal(err)
	}
}
