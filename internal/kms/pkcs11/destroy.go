//go:build cgo

package pkcs11

import (
	"context"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

var _ kms.Destroyer = (*Provider)(nil)

// DestroyKey implements kms.Destroyer: every version object of the key is
// destroyed in the token (C_DestroyObject). The token's own backups, if it
// keeps any, are the HSM's business.
func (p *Provider) DestroyKey(ctx context.Context, name string) error {
	if _, err := p.keys(ctx, true); err != nil {
		return err
	}
	k, err := p.lookup(ctx, name)
	if err != nil {
		return err
	}
	if k.id == kms.DefaultKeyName {
		return fmt.Errorf("pkcs11: the default key %s cannot be destroyed", kms.DefaultKeyName)
	}
	defer func() {
		p.forgetHandles()
		p.disables.Add(1) // cached bucket keys under it are stale at once
	}()
	for v, h := range k.versions {
		err := p.call(ctx, func(c *p11.Ctx, s *session) error {
			return c.DestroyObject(s.h, h)
		})
		if err != nil {
			return fmt.Errorf("pkcs11: destroying %s: %w", label(k.id, v), err)
		}
	}
	return nil
}
