package kmip

import (
	"context"
	"fmt"
	"strconv"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

var _ kms.VersionRetirer = (*Provider)(nil)

// retiredSuffix ends the name of a retired version's tombstone
// ("NAME@vN@retired"): an object with no use but its name, so that
// versions stay contiguous from 1 for fetch's search and ListKeys.
const retiredSuffix = "@retired"

func (p *Provider) retiredName(name string, v int) string {
	return p.versionName(name, v) + retiredSuffix
}

// RetireKeyVersion implements kms.VersionRetirer: the version's key object
// is revoked and destroyed on the server (each version is its own managed
// object, "NAME@vN"); a tombstone named "NAME@vN@retired" takes its place,
// made first, so a failure half-way leaves the key well-formed.
// DescribeKey lists the retired versions, as the other providers do;
// retiring one again does nothing.
func (p *Provider) RetireKeyVersion(ctx context.Context, keyID string, version uint32) error {
	name, err := resolve(keyID)
	if err != nil {
		return err
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	st, err := p.fresh(ctx, name)
	if err != nil {
		return err
	}
	if err := kms.CheckRetire(st.info(name), version); err != nil {
		return err
	}
	defer p.forget(name)
	uids, err := p.c.locateName(ctx, p.versionName(name, int(version)))
	if err != nil || len(uids) == 0 {
		return err // none: retired before
	}
	tomb, err := p.c.locateName(ctx, p.retiredName(name, int(version)))
	if err != nil {
		return err
	}
	if len(tomb) == 0 {
		if _, err := p.c.create(ctx, p.retiredName(name, int(version)), p.group); err != nil {
			return fmt.Errorf("kmip: the tombstone of %s: %w", p.versionName(name, int(version)), err)
		}
	}
	for _, uid := range uids {
		p.c.revoke(ctx, uid) // fails on a key not Active: Destroy tells whether it mattered
		if err := p.c.destroy(ctx, uid); err != nil {
			return fmt.Errorf("kmip: retiring %s: %w", p.versionName(name, int(version)), err)
		}
	}
	p.disables.Add(1) // cached bucket keys under it are stale at once
	return nil
}

// isRetired tells whether version v of name (below the newest) was
// retired: its tombstone is on the server.
func (p *Provider) isRetired(ctx context.Context, name string, v int, st keyState) bool {
	if v >= st.versions {
		return false
	}
	tomb, err := p.c.locateName(ctx, p.retiredName(name, v))
	return err == nil && len(tomb) > 0
}

func retiredErr(name string, v uint32) error {
	return kms.ErrRetired.WithMessage("Version " + strconv.FormatUint(uint64(v), 10) + " of the KMS key " + strconv.Quote(name) + " was retired: data under it cannot be read.")
}

// withRetired adds to st the versions of name that were retired (their
// tombstones), and keeps them in the cache entry st came from.
func (p *Provider) withRetired(ctx context.Context, name string, st keyState) (keyState, error) {
	var out []uint32
	for v := 1; v < st.versions; v++ { // the newest cannot be retired
		tomb, err := p.c.locateName(ctx, p.retiredName(name, v))
		if err != nil {
			return st, err
		}
		if len(tomb) > 0 {
			out = append(out, uint32(v))
		}
	}
	st.retired, st.retiredKnown = out, true
	p.mu.Lock()
	if c, ok := p.cache[name]; ok && c.fetched.Equal(st.fetched) {
		p.cache[name] = st
	}
	p.mu.Unlock()
	return st, nil
}
