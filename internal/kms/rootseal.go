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

// rootKeyContext binds a sealed root key to its purpose: it cannot be
// presented as a data key, nor a data key as it.
var rootKeyContext = map[string]string{"strongroom:purpose": "root key"}

// IsRootKeyContext reports whether encCtx is the context SealRootKey
// binds: a provider wraps under RootKeyName only with it, so no client
// can have data keys (or bucket keys) made under the root sealing key.
func IsRootKeyContext(encCtx map[string]string) bool {
	return len(encCtx) == len(rootKeyContext) && encCtx["strongroom:purpose"] == rootKeyContext["strongroom:purpose"]
}

// RootKeySealer is the seam through which an external key provider holds
// the root key: the data directory keeps only SealRootKey's output, so a
// copy of it opens nothing without the provider. Any provider that is a
// KeyAdmin and an Encrypter is one.
type RootKeySealer interface {
	KeyAdmin
	Encrypter
}

// SealRootKey wraps root under RootKeyName in p, creating that key if it
// does not exist.
func SealRootKey(ctx context.Context, p KeyAdmin, root []byte) ([]byte, error) {
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

// OpenRootKey unwraps a root key SealRootKey sealed.
func OpenRootKey(ctx context.Context, p Provider, sealed []byte) ([]byte, error) {
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
