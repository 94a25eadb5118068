package kmip

import (
	"errors"
	"slices"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// TestDestroyAllKeys: the end of a migration away from the KMIP server
// (`key migrate --finish`) revokes and destroys every key of the
// deployment, every version, the root sealing key too: nothing wrapped
// or sealed under them opens again.
func TestDestroyAllKeys(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "photos")
	if _, err := p.RotateKey(bg, "photos"); err != nil {
		t.Fatal(err)
	}
	dk, err := p.GenerateDataKey(bg, "photos", nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := p.SealRootKey(bg, make([]byte, kms.RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := p.DestroyAllKeys(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"photos", kms.DefaultKeyName, kms.RootKeyName} {
		if !slices.Contains(gone, id) {
			t.Errorf("destroyed %v, want %s among them", gone, id)
		}
	}
	q := reopen(t, p) // makes a fresh default key
	if keys, err := q.ListKeys(bg); err != nil || len(keys) != 1 || keys[0].ID != kms.DefaultKeyName {
		t.Errorf("keys left: %v %v", keys, err)
	}
	if _, err := q.Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, kms.ErrNotFound) {
		t.Errorf("Decrypt after DestroyAllKeys: %v", err)
	}
	if _, err := q.OpenRootKey(bg, sealed); err == nil {
		t.Error("the root key still opens")
	}
}
