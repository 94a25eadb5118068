package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestRemoteCommands registers, lists and removes remotes on a stopped
// node's data directory and then through a running node; the secret is
// never printed and never on disk in plaintext.
func TestRemoteCommands(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)
	const secret1, secret2 = "remote-one-secret-canary-71c2e9", "remote-two-secret-canary-0b44d8"

	// Offline.
	mustCLI(t, "remote", "add", "eu-west", "https://127.0.0.1:9443", "--access-key", "AKEU", "--secret-key", secret1, "--insecure", "--data", data)
	out := mustCLI(t, "remote", "list", "--data", data)
	if !strings.Contains(out, "eu-west") || !strings.Contains(out, "https://127.0.0.1:9443") || !strings.Contains(out, "AKEU") || strings.Contains(out, secret1) {
		t.Fatalf("remote list (must show eu-west, never its secret):\n%s", out)
	}
	for _, bad := range [][]string{
		{"remote", "add", "x", "http://127.0.0.1:1", "--access-key", "a"}, // no secret
		{"remote", "add", "x", "--access-key", "a", "--secret-key", "s"},  // no URL
		{"remote", "add", "Bad:Name", "http://127.0.0.1:1", "--access-key", "a", "--secret-key", "s"},
		{"remote", "remove"},
		{"remote", "frobnicate"},
	} {
		if _, err := cli(t, append(bad, "--data", data)...); err == nil {
			t.Errorf("strongroom %s: accepted", strings.Join(bad, " "))
		}
	}

	// A running node holds the data directory: through its admin API.
	n := testnode.Start(t, testnode.Options{DataDir: data})
	ctx := context.Background()
	root := service.Principal{Root: true}
	r, err := n.Service.Remotes().Get(ctx, "eu-west")
	if err != nil || r.SecretKey != secret1 || !r.Insecure || r.URL != "https://127.0.0.1:9443" {
		t.Fatalf("offline-added remote on the node: %+v, %v", r, err)
	}
	mustCLI(t, "remote", "add", "ap-east", "http://127.0.0.1:9000", "--access-key", "AKAP", "--secret-key", secret2, "--data", data)
	if r, err := n.Service.Remotes().Get(ctx, "ap-east"); err != nil || r.SecretKey != secret2 || r.Insecure {
		t.Fatalf("online-added remote: %+v, %v", r, err)
	}
	out = mustCLI(t, "remote", "list", "--data", data)
	if !strings.Contains(out, "ap-east") || !strings.Contains(out, "eu-west") || strings.Contains(out, secret1) || strings.Contains(out, secret2) {
		t.Fatalf("online remote list:\n%s", out)
	}
	// A remote a replication rule names stays until the rule goes.
	src, dst := "remote-cli-src", "remote-cli-dst"
	for _, b := range []string{src, dst} {
		if _, err := n.Service.CreateBucket(ctx, root, b, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := n.Service.PutBucketVersioning(ctx, root, b, "Enabled"); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := replication.Parse([]byte(`<ReplicationConfiguration><Rule><ID>to-eu</ID><Status>Enabled</Status><Prefix/>`+
		`<Destination><Bucket>arn:aws:s3:eu-west::far</Bucket></Destination></Rule></ReplicationConfiguration>`), replication.S3)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Service.PutBucketReplication(ctx, root, src, cfg, replication.S3); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "remote", "remove", "eu-west", "--data", data); err == nil || !strings.Contains(err.Error(), "to-eu") {
		t.Fatalf("removing a remote a rule names: %v", err)
	}
	if err := n.Service.DeleteBucketReplication(ctx, root, src); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "remote", "remove", "eu-west", "--data", data)
	if _, err := n.Service.Remotes().Get(ctx, "eu-west"); err == nil {
		t.Fatal("a removed remote is still registered")
	}
	if _, err := cli(t, "remote", "remove", "eu-west", "--data", data); err == nil {
		t.Fatal("removing a missing remote succeeded")
	}

	// Neither secret is anywhere in the data directory in plaintext.
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range []string{secret1, secret2} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a remote's secret in plaintext", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
