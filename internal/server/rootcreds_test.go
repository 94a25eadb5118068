package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/iam"
)

func openNode(t *testing.T, dir string, rootKey []byte) *Node {
	t.Helper()
	n, err := Open(context.Background(), Config{DataDir: dir, RootKey: rootKey, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// secretOnDisk reports the files under dir holding secret (as is).
func secretOnDisk(t *testing.T, dir, secret string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestRootSecretSealed: the first start generates the root credentials
// (RootCreated, the one time the secret may be shown) and keeps the secret
// sealed: no file in the data directory holds it. Later starts read the
// same credentials (RootCreated false); LoadRootCredentials opens them with
// the root key only.
func TestRootSecretSealed(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	n := openNode(t, dir, key)
	root, created := n.Root, n.RootCreated
	if !created || len(root.SecretKey) != 40 {
		t.Fatalf("first start: created %v, secret of %d characters", created, len(root.SecretKey))
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files := secretOnDisk(t, dir, root.SecretKey); len(files) > 0 {
		t.Fatalf("the root secret is on disk in clear: %v", files)
	}
	n = openNode(t, dir, key)
	if n.Root != root || n.RootCreated {
		t.Fatalf("second start: %+v created %v, want the same credentials, not created", n.Root, n.RootCreated)
	}
	// Readable beside the running node (it only reads), with the root key.
	if c, err := LoadRootCredentials(dir, key); err != nil || c != root {
		t.Fatalf("LoadRootCredentials = %+v, %v", c, err)
	}
	n.Close(context.Background())
	other := make([]byte, 32)
	rand.Read(other)
	if _, err := LoadRootCredentials(dir, other); !errors.Is(err, iam.ErrRootSecret) {
		t.Fatalf("with another root key: %v, want iam.ErrRootSecret", err)
	}
}

// TestRootSecretMigrated: a root-credentials.json from before sealing
// (secret in clear) is read, and rewritten sealed at the next start.
func TestRootSecretMigrated(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	legacy := iam.Credentials{User: "root", AccessKey: "LEGACYACCESSKEY00001", SecretKey: "legacy/secret+key/0123456789abcdefghijkl"}
	b, _ := json.MarshalIndent(legacy, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, rootFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadRootCredentials(dir, key); err != nil || c != legacy {
		t.Fatalf("reading the legacy file: %+v, %v", c, err)
	}
	n := openNode(t, dir, key)
	if n.Root != legacy || n.RootCreated {
		t.Fatalf("start on a legacy file: %+v created %v", n.Root, n.RootCreated)
	}
	if files := secretOnDisk(t, dir, legacy.SecretKey); len(files) > 0 {
		t.Fatalf("the root secret is still in clear after the start: %v", files)
	}
	n.Close(context.Background())
	if c, err := LoadRootCredentials(dir, key); err != nil || c != legacy {
		t.Fatalf("after sealing: %+v, %v", c, err)
	}
}

// TestRootCredentialsNeverReplaced: a damaged file stops the start; it is
// never silently replaced by new credentials.
func TestRootCredentialsNeverReplaced(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	path := filepath.Join(dir, rootFile)
	os.WriteFile(path, []byte("{}"), 0o600)
	if _, err := Open(context.Background(), Config{DataDir: dir, RootKey: key, Logger: slog.New(slog.DiscardHandler)}); err == nil {
		t.Fatal("a node started over a damaged root credentials file")
	}
	if b, _ := os.ReadFile(path); string(b) != "{}" {
		t.Fatalf("the file was replaced: %s", b)
	}
}
