package kmip

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// RetireKeyVersion revokes and destroys one version's object on the
// server: data keys under it answer ErrRetired (here and on another node),
// the other versions still unwrap, the key still lists with its versions
// (a tombstone keeps them contiguous), rotate goes on from the newest, and
// the newest version is refused.
func TestRetireKeyVersion(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "aging")
	v1, err := p.GenerateDataKey(bg, "aging", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RotateKey(bg, "aging"); err != nil {
		t.Fatal(err)
	}
	v2, err := p.GenerateDataKey(bg, "aging", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RetireKeyVersion(bg, "aging", 2); err == nil {
		t.Fatal("retiring the newest version succeeded")
	}
	if err := p.RetireKeyVersion(bg, "aging", 1); err != nil {
		t.Fatal(err)
	}
	if err := p.RetireKeyVersion(bg, "aging", 1); err != nil {
		t.Fatalf("retiring it again: %v", err)
	}
	if uids, err := p.c.locateName(bg, p.versionName("aging", 1)); err != nil || len(uids) != 0 {
		t.Fatalf("version 1's object: %v %v", uids, err)
	}
	for _, q := range []*Provider{p, reopen(t, p)} {
		if _, err := q.Decrypt(bg, v1.Ciphertext, nil); !errors.Is(err, kms.ErrRetired) {
			t.Errorf("Decrypt under the retired version: %v, want ErrRetired", err)
		}
		if got, err := q.Decrypt(bg, v2.Ciphertext, nil); err != nil || !bytes.Equal(got, v2.Plaintext) {
			t.Errorf("Decrypt under version 2: %v", err)
		}
		// Listed as retired, as the builtin and PKCS#11 providers do.
		if info, err := q.DescribeKey(bg, "aging"); err != nil || info.Versions != 2 || !slices.Equal(info.Retired, []uint32{1}) {
			t.Errorf("DescribeKey: %+v %v", info, err)
		}
	}
	// ListKeys finds the key by its version 1: the tombstone's name.
	if keys, err := p.ListKeys(bg); err != nil || len(keys) != 2 { // the default key and aging
		t.Errorf("ListKeys: %+v %v", keys, err)
	}
	if info, err := p.RotateKey(bg, "aging"); err != nil || info.Versions != 3 {
		t.Errorf("RotateKey after the retire: %+v %v", info, err)
	}
	if err := p.DestroyKey(bg, "aging"); err != nil {
		t.Fatal(err)
	}
	if uids, err := p.c.locateName(bg, p.retiredName("aging", 1)); err != nil || len(uids) != 0 {
		t.Errorf("the tombstone outlives DestroyKey: %v %v", uids, err)
	}
}
