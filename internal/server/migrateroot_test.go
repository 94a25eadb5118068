package server

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// tagSealer seals a root key as its tag followed by the key: enough to
// tell which provider sealed what (the real providers are tested in
// e2e/kmip and kms/pkcs11).
type tagSealer string

func (s tagSealer) SealRootKey(_ context.Context, root []byte) ([]byte, error) {
	return append([]byte(s), root...), nil
}

func (s tagSealer) OpenRootKey(_ context.Context, sealed []byte) ([]byte, error) {
	if !bytes.HasPrefix(sealed, []byte(s)) {
		return nil, errors.New("not sealed by this provider")
	}
	return bytes.Clone(sealed[len(s):]), nil
}

// TestMigrationResealsRootKey: a key migration between two external
// providers seals the root key under the target beside the old provider's
// (root.key.sealed stays, so a start on the old provider still works), and
// the first start on the target opens it and commits the switch: from then
// on only the target opens the data directory.
func TestMigrationResealsRootKey(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	ctx := context.Background()
	dir := t.TempDir()
	oldP, newP := tagSealer("old-hsm:"), tagSealer("new-kmip:")
	key, err := rootKeyFrom(ctx, dir, "", oldP, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rootResealer(dir, key)(ctx, newP); err != nil {
		t.Fatal(err)
	}
	// A restart mid-migration, still on the old provider.
	got, err := rootKeyFrom(ctx, dir, "", oldP, false, nil)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("start on the old provider during the migration: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, sealedRootKeyNextFile)); err != nil {
		t.Fatalf("the target's sealed root key is gone before the switch: %v", err)
	}
	// The switch: a start on the target.
	got, err = rootKeyFrom(ctx, dir, "", newP, false, nil)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("start on the target: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, sealedRootKeyNextFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("root.key.sealed.next after the switch: %v", err)
	}
	if got, err = rootKeyFrom(ctx, dir, "", newP, false, nil); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("second start on the target: %v", err)
	}
	if _, err := rootKeyFrom(ctx, dir, "", oldP, false, nil); err == nil {
		t.Fatal("the old provider still opens the data directory after the switch")
	}
}
