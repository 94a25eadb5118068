package kms

import "context"

// KeyAdmin is the key management a provider offers the operator
// (strongroom key create|rotate|disable|enable|list): the builtin Keyring and
// the PKCS#11 provider implement it. Names are given in any form ParseKeyID
// accepts.
type KeyAdmin interface {
	CreateKey(ctx context.Context, name string) (KeyInfo, error)
	RotateKey(ctx context.Context, name string) (KeyInfo, error)
	DisableKey(ctx context.Context, name string) (KeyInfo, error)
	EnableKey(ctx context.Context, name string) (KeyInfo, error)
	ListKeys(ctx context.Context) ([]KeyInfo, error)
	DescribeKey(ctx context.Context, keyID string) (KeyInfo, error)
}

// RootSealer is implemented by providers that can hold the root key (which
// seals the keyring, user secrets and remote credentials) for the data
// directory: the data directory keeps only SealRootKey's output, which
// OpenRootKey turns back into the key while the provider is reachable. A
// copy of the data directory alone then opens nothing.
type RootSealer interface {
	SealRootKey(ctx context.Context, rootKey []byte) ([]byte, error)
	OpenRootKey(ctx context.Context, sealed []byte) ([]byte, error)
}

var _ KeyAdmin = (*Keyring)(nil)

// IsKeyringCiphertext reports whether ct was made by the builtin Keyring
// (a node that switched providers still decrypts those with its keyring).
func IsKeyringCiphertext(ct []byte) bool {
	return len(ct) >= len(wrapMagic) && string(ct[:len(wrapMagic)]) == wrapMagic
}
