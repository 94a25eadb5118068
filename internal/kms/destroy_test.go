package kms

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// DestroyKey removes the key from the keyring and from its file: a reopened
// keyring does not know it, ciphertexts under it fail with ErrNotFound, its
// secrets are zeroed in memory, and the default and root keys are refused.
func TestKeyringDestroyKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyring")
	root := bytes.Repeat([]byte{3}, RootKeySize)
	k, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateKey(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	dk, err := k.GenerateDataKey(ctx, "gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := k.st.keys["gone"].versions[0].secret
	serial := k.KeyStateSerial()
	if err := k.DestroyKey(ctx, "alias/gone"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, make([]byte, len(secret))) {
		t.Error("the destroyed key's secret is still in memory")
	}
	if k.KeyStateSerial() == serial {
		t.Error("the key state serial did not change: cached bucket keys would outlive the key")
	}
	if _, err := k.Decrypt(ctx, dk.Ciphertext, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Decrypt after destroy: %v", err)
	}
	for _, id := range []string{DefaultKeyName, RootKeyName} {
		if id == RootKeyName {
			if _, err := k.CreateKey(ctx, RootKeyName); err != nil {
				t.Fatal(err)
			}
		}
		if err := k.DestroyKey(ctx, id); err == nil {
			t.Errorf("destroying %s succeeded", id)
		}
	}
	k.Close()
	k, err = OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.Decrypt(ctx, dk.Ciphertext, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Decrypt after reopening: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
