package kms

import "context"

// KeyAdmin is the key management a provider offers the operator
// (strongroom key create|rotate|disable|enable|list) and the admin API:
// the builtin Keyring and the external providers (KMIP, PKCS#11)
// implement it. Names are given in any form ParseKeyID accepts.
type KeyAdmin interface {
	Provider
	CreateKey(ctx context.Context, name string) (KeyInfo, error)
	RotateKey(ctx context.Context, name string) (KeyInfo, error)
	DisableKey(ctx context.Context, name string) (KeyInfo, error)
	EnableKey(ctx context.Context, name string) (KeyInfo, error)
	ListKeys(ctx context.Context) ([]KeyInfo, error)
}

var _ KeyAdmin = (*Keyring)(nil)

// IsKeyringCiphertext reports whether ct was made by the builtin Keyring
// (a node that switched providers still decrypts those with its keyring).
func IsKeyringCiphertext(ct []byte) bool {
	return len(ct) >= len(wrapMagic) && string(ct[:len(wrapMagic)]) == wrapMagic
}
