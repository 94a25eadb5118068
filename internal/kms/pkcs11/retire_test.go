//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// RetireKeyVersion destroys one version's object in the token: data keys
// wrapped under it answer ErrRetired (here and in a second process), the
// other versions still unwrap and wrap, the key reports the version
// retired, and the newest version is refused.
func TestRetireKeyVersion(t *testing.T) {
	p, tok := open(t, "")
	ctx := context.Background()
	if _, err := p.CreateKey(ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	v1, err := p.GenerateDataKey(ctx, "aging", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RotateKey(ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	v2, err := p.GenerateDataKey(ctx, "aging", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RetireKeyVersion(ctx, "aging", 2); err == nil {
		t.Fatal("retiring the newest version succeeded")
	}
	if err := p.RetireKeyVersion(ctx, "aging", 1); err != nil {
		t.Fatal(err)
	}
	if err := p.RetireKeyVersion(ctx, "aging", 1); err != nil {
		t.Fatalf("retiring it again: %v", err)
	}
	q, err := Open(ctx, Config{Module: tok.Module, Token: tok.Label, PIN: tok.PIN, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, pp := range []*Provider{p, q} {
		if _, err := pp.Decrypt(ctx, v1.Ciphertext, nil); !errors.Is(err, kms.ErrRetired) {
			t.Errorf("Decrypt under the retired version: %v, want ErrRetired", err)
		}
		if got, err := pp.Decrypt(ctx, v2.Ciphertext, nil); err != nil || !bytes.Equal(got, v2.Plaintext) {
			t.Errorf("Decrypt under version 2: %v", err)
		}
		info, err := pp.DescribeKey(ctx, "aging")
		if err != nil || info.Versions != 2 || !slices.Equal(info.Retired, []uint32{1}) {
			t.Errorf("DescribeKey: %+v %v", info, err)
		}
		if _, err := pp.GenerateDataKey(ctx, "aging", nil); err != nil {
			t.Errorf("GenerateDataKey after the retire: %v", err)
		}
	}
	err = q.call(ctx, func(c *p11.Ctx, s *session) error {
		objs, err := find(c, s, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, label("aging", 1))})
		if err == nil && len(objs) != 0 {
			t.Error("version 1's object is still in the token")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A rotate after a retire makes version 3, not a second version 2.
	if info, err := p.RotateKey(ctx, "aging"); err != nil || info.Versions != 3 {
		t.Errorf("RotateKey after the retire: %+v %v", info, err)
	}
}
