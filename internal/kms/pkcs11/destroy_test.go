//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// DestroyKey destroys every version object in the token: data keys
// wrapped under the key never unwrap again, the objects are gone from a
// fresh scan of the token, and the default key is refused.
func TestDestroyKey(t *testing.T) {
	p, tok := open(t, "")
	ctx := context.Background()
	if _, err := p.CreateKey(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	old, err := p.GenerateDataKey(ctx, "gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RotateKey(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := p.DestroyKey(ctx, "alias/gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Decrypt(ctx, old.Ciphertext, nil); !errors.Is(err, kms.ErrNotFound) {
		t.Errorf("Decrypt after destroy: %v, want ErrNotFound", err)
	}
	if _, err := p.GenerateDataKey(ctx, "gone", nil); !errors.Is(err, kms.ErrNotFound) {
		t.Errorf("GenerateDataKey after destroy: %v, want ErrNotFound", err)
	}
	// A second process on the token finds no object labelled for it.
	q, err := Open(ctx, Config{Module: tok.Module, Token: tok.Label, PIN: tok.PIN, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	err = q.call(ctx, func(c *p11.Ctx, s *session) error {
		for _, l := range []string{label("gone", 1), label("gone", 2)} {
			objs, err := find(c, s, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, l)})
			if err != nil {
				return err
			}
			if len(objs) != 0 {
				t.Errorf("%s still in the token", l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.DestroyKey(ctx, kms.DefaultKeyName); err == nil {
		t.Error("destroying the default key succeeded")
	}
	if err := p.DestroyKey(ctx, "gone"); !errors.Is(err, kms.ErrNotFound) {
		t.Errorf("destroying it again: %v, want ErrNotFound", err)
	}
}
