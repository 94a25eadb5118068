package kms

import (
	"context"
	"errors"
	"fmt"
)

// RootKeyName is the CMK an external provider (KMIP, PKCS#11) seals the
// root key under when it holds the root key: created on first use, it
// wraps nothing else.
const RootKeyName = "strongroom-root"

// ErrReservedKey refuses key management of RootKeyName: disabling or
// destroying it would leave the deployment unable to open its root key at
// the next start.
var ErrReservedKey = errors.New("kms: reserved key")

// rootKeyContext binds a sealed root key to its purpose: it cannot be
// presented as a data key, nor a data key as it.
var rootKeyContext = map[string]string{"strongroom:purpose": "root key"}

// IsRootKeyContext reports whether encCtx is the context SealRootKeyUnderCMK
// binds: a provider wraps under RootKeyName only with it, so no client
// can have data keys (or bucket keys) made under the root sealing key.
func IsRootKeyContext(encCtx map[string]string) bool {
	return len(encCtx) == len(rootKeyContext) && encCtx["strongroom:purpose"] == rootKeyContext["strongroom:purpose"]
}

// RootSealer is the one seam through which an external key provider
// (KMIP, PKCS#11) holds the root key (which seals the keyring, user
// secrets and remote credentials): the data directory keeps only
// SealRootKey's output, which OpenRootKey turns back into the key while
// the provider is reachable. A copy of the data directory alone then
// opens nothing. Providers whose CMKs are ordinary named keys implement
// it with SealRootKeyUnderCMK and OpenRootKeyUnderCMK.
type RootSealer interface {
	SealRootKey(ctx context.Context, rootKey []byte) ([]byte, error)
	OpenRootKey(ctx context.Context, sealed []byte) ([]byte, error)
}

// SealRootKeyUnderCMK wraps root under the CMK RootKeyName in p,
// creating that key if it does not exist.
func SealRootKeyUnderCMK(ctx context.Context, p KeyAdmin, root []byte) ([]byte, error) {
	e, ok := p.(Encrypter)
	if !ok {
		return nil, fmt.Errorf("kms: provider %T cannot seal the root key", p)
	}
	if _, err := p.DescribeKey(ctx, RootKeyName); errors.Is(err, ErrNotFound) {
		if _, err := p.CreateKey(ctx, RootKeyName); err != nil && !errors.Is(err, ErrKeyExists) {
			return nil, fmt.Errorf("kms: creating the root sealing key: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	sealed, _, err := e.Encrypt(ctx, RootKeyName, root, rootKeyContext)
	return sealed, err
}

// OpenRootKeyUnderCMK unwraps a root key SealRootKeyUnderCMK sealed.
func OpenRootKeyUnderCMK(ctx context.Context, p Provider, sealed []byte) ([]byte, error) {
	root, err := p.Decrypt(ctx, sealed, rootKeyContext)
	if err != nil {
		return nil, err
	}
	if len(root) != RootKeySize {
		clear(root)
		return nil, fmt.Errorf("kms: sealed root key: %w", ErrDecrypt)
	}
	return root, nil
}
