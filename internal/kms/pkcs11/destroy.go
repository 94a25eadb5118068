//go:build cgo

package pkcs11

import (
	"context"
	"fmt"
	"maps"
	"slices"

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
	return p.destroyVersions(ctx, k)
}

func (p *Provider) destroyVersions(ctx context.Context, k *keyState) error {
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

// DestroyAllKeys destroys every strongroom key object in the token, the
// default key's and the root sealing key's too: the end of a key
// migration away from this token (`key migrate --finish`), once nothing
// needs them. destroyed names each key gone (the root sealing key as
// kms.RootKeyName), in order; on an error, those destroyed before it.
func (p *Provider) DestroyAllKeys(ctx context.Context) (destroyed []string, err error) {
	idx, err := p.keys(ctx, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		p.forgetHandles()
		p.disables.Add(1)
	}()
	for _, id := range slices.Sorted(maps.Keys(idx)) {
		if err := p.destroyVersions(ctx, idx[id]); err != nil {
			return destroyed, err
		}
		destroyed = append(destroyed, id)
	}
	var found bool
	err = p.call(ctx, func(c *p11.Ctx, s *session) error {
		h, err := p.handle(c, s, label(rootName, 1))
		if err != nil {
			return nil // none: the token never sealed a root key
		}
		found = true
		return c.DestroyObject(s.h, h)
	})
	if err != nil {
		return destroyed, fmt.Errorf("pkcs11: destroying the root sealing key: %w", err)
	}
	if found {
		destroyed = append(destroyed, kms.RootKeyName)
	}
	return destroyed, nil
}
