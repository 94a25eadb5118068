//go:build cgo

package pkcs11

import (
	"context"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

var _ kms.VersionRetirer = (*Provider)(nil)

// RetireKeyVersion implements kms.VersionRetirer: the version's key object
// is destroyed in the token (C_DestroyObject). Each version is its own
// object ("NAME#N"), so the key and its other versions live on; a version
// below the newest with no object is a retired one (scan, retiredIn).
func (p *Provider) RetireKeyVersion(ctx context.Context, keyID string, version uint32) error {
	if _, err := p.keys(ctx, true); err != nil {
		return err
	}
	k, err := p.lookup(ctx, keyID)
	if err != nil {
		return err
	}
	if err := kms.CheckRetire(k.info(), version); err != nil {
		return err
	}
	h, ok := k.versions[version]
	if !ok {
		return nil // retired before
	}
	defer func() {
		p.forgetHandles()
		p.disables.Add(1) // cached bucket keys under it are stale at once
	}()
	err = p.call(ctx, func(c *p11.Ctx, s *session) error {
		return c.DestroyObject(s.h, h)
	})
	if err != nil {
		return fmt.Errorf("pkcs11: retiring %s: %w", label(k.id, version), err)
	}
	return nil
}

// retired lists the versions below the newest that have no object.
func (k *keyState) retired() []uint32 {
	var out []uint32
	for v := uint32(1); v < k.newest; v++ {
		if _, ok := k.versions[v]; !ok {
			out = append(out, v)
		}
	}
	return out
}

// retiredErr is the error of unwrapping under a retired version.
func retiredErr(id string, v uint32) error {
	return kms.ErrRetired.WithMessage(fmt.Sprintf("Version %d of the KMS key %s was retired: data under it cannot be read.", v, id))
}
