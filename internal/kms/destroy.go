package kms

import (
	"context"
	"fmt"
)

// Destroyer is implemented by providers that can destroy a key's material
// for good (crypto-shredding): every version of the key is gone from the
// provider, so nothing wrapped under it can be unwrapped again, and
// operations naming it fail with ErrNotFound. There is no undo. The builtin
// Keyring, PKCS#11 (C_DestroyObject) and KMIP (Revoke + Destroy) implement
// it; the reserved key that seals the root key is refused.
type Destroyer interface {
	DestroyKey(ctx context.Context, keyID string) error
}

var _ Destroyer = (*Keyring)(nil)

// DestroyKey implements Destroyer: the key's entry, every version secret,
// leaves the keyring, and the keyring file is rewritten without it. Copies
// of the keyring file made before (backups, snapshots of the data
// directory) still hold the secrets: whoever holds such a copy and the root
// key can still unwrap data under the key.
func (k *Keyring) DestroyKey(ctx context.Context, keyID string) error {
	var gone *cmk
	_, err := k.update(ctx, func(st *state) (KeyInfo, error) {
		c, err := st.find(keyID)
		if err != nil {
			return KeyInfo{}, err
		}
		if c.id == RootKeyName {
			return KeyInfo{}, fmt.Errorf("%w: %s seals the root key", ErrReservedKey, RootKeyName)
		}
		if c.id == st.defaultID {
			return KeyInfo{}, fmt.Errorf("kms: the default key %s cannot be destroyed", quoteID(c.id))
		}
		gone = c
		delete(st.keys, c.id)
		return KeyInfo{}, nil
	})
	if err != nil {
		return err
	}
	// The new state is current: no call reaches the old secrets again
	// once in-flight readers (holding mu.RLock) are done.
	k.mu.Lock()
	for _, v := range gone.versions {
		clear(v.secret)
	}
	k.mu.Unlock()
	k.disables.Add(1) // cached bucket keys under it are stale at once
	return nil
}
