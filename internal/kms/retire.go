package kms

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// VersionRetirer is implemented by providers that can destroy the material
// of one version of a key (`strongroom key retire`) while the key and its
// other versions live on. Nothing wrapped under a retired version unwraps
// again: Decrypt answers ErrRetired. The newest version (the one that
// wraps new data keys) cannot be retired: rotate first. Retiring a version
// already retired does nothing. The caller checks that nothing stored
// still needs the version.
type VersionRetirer interface {
	RetireKeyVersion(ctx context.Context, keyID string, version uint32) error
}

var _ VersionRetirer = (*Keyring)(nil)

// ErrRetired is the error of unwrapping under a retired version: the
// KMS's invalid-state error, the same a client gets for a destroyed
// (crypto-shredded) key, never a 500.
var ErrRetired = errs.KMSInvalidState

func retiredVersion(id string, v uint32) error {
	return ErrRetired.WithMessage(fmt.Sprintf("Version %d of the KMS key %s was retired: data under it cannot be read.", v, quoteID(id)))
}

// CheckRetire validates a retire request against info: version exists,
// and is not the newest.
func CheckRetire(info KeyInfo, version uint32) error {
	switch {
	case info.ID == RootKeyName:
		return fmt.Errorf("%w: %s seals the root key", ErrReservedKey, RootKeyName)
	case version == 0 || int64(version) > int64(info.Versions):
		return ErrNotFound.WithMessage(fmt.Sprintf("Key %s has no version %d (it has %d).", quoteID(info.ID), version, info.Versions))
	case int64(version) == int64(info.Versions):
		return fmt.Errorf("kms: version %d is the newest of key %s and wraps new data keys: rotate the key (and rewrap) first", version, quoteID(info.ID))
	}
	return nil
}

func (k *cmk) retiredVersions() []uint32 {
	var out []uint32
	for i, v := range k.versions {
		if !v.retired.IsZero() {
			out = append(out, uint32(i+1))
		}
	}
	return out
}

// RetireKeyVersion implements VersionRetirer: the version becomes a
// tombstone in the keyring file (format version 2), its secret is gone
// from the file and zeroed in memory. As with DestroyKey, copies of the
// keyring file made before still hold the secret.
func (k *Keyring) RetireKeyVersion(ctx context.Context, keyID string, v uint32) error {
	var gone []byte
	_, err := k.update(ctx, func(st *state) (KeyInfo, error) {
		c, err := st.find(keyID)
		if err != nil {
			return KeyInfo{}, err
		}
		if err := CheckRetire(c.info(st.defaultID), v); err != nil {
			return KeyInfo{}, err
		}
		old := c.versions[v-1] // c and its versions slice are st's copies
		if !old.retired.IsZero() {
			return KeyInfo{}, nil
		}
		gone = old.secret
		c.versions[v-1] = version{created: old.created, retired: time.Now().UTC()}
		return KeyInfo{}, nil
	})
	if err != nil || gone == nil {
		return err
	}
	// The new state is current: once in-flight readers are done, nothing
	// reaches the old secret again.
	k.mu.Lock()
	clear(gone)
	k.mu.Unlock()
	k.disables.Add(1) // cached bucket keys under it are stale at once
	return nil
}
