package server

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// TestKeyOpRefusesTheRootSealingKey: no key operation (under any of the
// names that reach it) touches the key an external provider seals the root
// key under; disabling it would make the next start fail.
func TestKeyOpRefusesTheRootSealingKey(t *testing.T) {
	root := make([]byte, 32)
	rand.Read(root)
	k, err := kms.OpenKeyring(filepath.Join(t.TempDir(), "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	for _, op := range []string{"create", "rotate", "disable", "enable"} {
		for _, name := range []string{kms.RootKeyName, "alias/" + kms.RootKeyName, "arn:aws:kms:us-east-1:1:key/" + kms.RootKeyName} {
			if _, err := KeyOp(ctx, k, nil, op, name); !errors.Is(err, kms.ErrReservedKey) {
				t.Errorf("%s %s: %v, want ErrReservedKey", op, name, err)
			}
		}
	}
	if _, err := KeyOp(ctx, k, nil, "create", "ordinary"); err != nil {
		t.Fatalf("an ordinary key: %v", err)
	}
}
