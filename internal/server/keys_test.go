package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"path/filepath"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
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

// TestKeyProtectsFollowsTheWrappingKey: the lock and shred checks go by
// the key that wraps an object's key (or its bucket key), as the stored
// ciphertext names it: an SSE-S3 object rewrapped --to another key is
// protected by that key, no longer by the default one.
func TestKeyProtectsFollowsTheWrappingKey(t *testing.T) {
	root := make([]byte, 32)
	rand.Read(root)
	k, err := kms.OpenKeyring(filepath.Join(t.TempDir(), "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	other, err := k.CreateKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	def, err := k.DescribeKey(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	dk, err := k.GenerateDataKey(ctx, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	bk := base64.StdEncoding.EncodeToString(dk.Ciphertext)
	for _, c := range []struct {
		name string
		enc  *meta.Encryption
	}{
		{"SSE-S3 object key", &meta.Encryption{Mode: "managed", WrappedKey: dk.Ciphertext}},
		{"SSE-KMS named default", &meta.Encryption{Mode: "kms", KeyID: "alias/" + kms.DefaultKeyName, WrappedKey: dk.Ciphertext}},
		{"bucket key", &meta.Encryption{Mode: "kms", KeyID: "", WrappedKey: []byte("local"), WrappedBucketKey: bk}},
	} {
		if !keyProtects(c.enc, other) {
			t.Errorf("%s wrapped under %q: not protected by it", c.name, other.ID)
		}
		if keyProtects(c.enc, def) {
			t.Errorf("%s wrapped under %q: said to be protected by the default key", c.name, other.ID)
		}
	}
	// Material without a ciphertext header: the client's name decides.
	if !keyProtects(&meta.Encryption{Mode: "kms", KeyID: "alias/other"}, other) || !keyProtects(&meta.Encryption{Mode: "managed"}, def) {
		t.Error("the fallback by name is lost")
	}
}
