package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyCommandsOnSharedStore: with --meta the key commands change the
// keyring in the shared store, which a running node sees without a
// restart; `serve` and the commands refuse a root key other than the
// deployment's, naming the problem.
func TestKeyCommandsOnSharedStore(t *testing.T) {
	t.Setenv(kms.RootKeyEnv, "")
	ctx := context.Background()
	url, err := pgtest.New(t).NewDB(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	n := testnode.Start(t, testnode.Options{Meta: url})
	root := filepath.Join(n.DataDir, "root.key")
	ops := t.TempDir() // an operator's directory, no node there
	shared := []string{"--meta", url, "--root-key-file", root, "--data", ops}

	mustCLI(t, append([]string{"key", "create", "from-cli"}, shared...)...)
	if info, err := n.Keys.DescribeKey(ctx, "from-cli"); err != nil || !info.Enabled {
		t.Fatalf("the running node does not see the key the command created: %+v %v", info, err)
	}
	out := mustCLI(t, "key", "list", "--meta", url, "--root-key-file", root, "--data", filepath.Join(ops, "none"))
	if !strings.Contains(out, "from-cli") || !strings.Contains(out, kms.DefaultKeyName) {
		t.Fatalf("key list: %s", out)
	}
	mustCLI(t, append([]string{"key", "disable", "from-cli"}, shared...)...)
	for deadline := time.Now().Add(kms.DefaultSharedRefresh + time.Second); ; time.Sleep(20 * time.Millisecond) {
		if info, err := n.Keys.DescribeKey(ctx, "from-cli"); err == nil && !info.Enabled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node still has the key enabled after the bound")
		}
	}
	// The node's own data directory: it holds the lock, so it is asked
	// (with the root credentials from the environment: a data directory
	// on a shared store has no meta.db to find them by).
	t.Setenv("STRONGROOM_ROOT_ACCESS_KEY", n.AccessKey)
	t.Setenv("STRONGROOM_ROOT_SECRET_KEY", n.SecretKey)
	mustCLI(t, "key", "create", "via-node", "--meta", url, "--data", n.DataDir)
	if _, err := n.Keys.DescribeKey(ctx, "via-node"); err != nil {
		t.Fatal(err)
	}

	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := kms.GenerateRootKeyFile(other); err != nil {
		t.Fatal(err)
	}
	const why = "this node's root key differs from the deployment's"
	if _, err := cli(t, "key", "create", "x", "--meta", url, "--root-key-file", other, "--data", ops); err == nil || !strings.Contains(err.Error(), why) {
		t.Fatalf("key create with another root key: %v", err)
	}
	// serve: a live context (the database is opened with it); a start
	// that wrongly succeeds serves until it expires.
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := serveUntil(sctx, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--meta", url}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), why) {
		t.Fatalf("serve with a new data directory (its own root key): %v", err)
	}
}
