package kms

import "context"

// KeyAdmin is the key management a provider offers to `strongroom key`
// and the admin API: the builtin Keyring and the external providers
// (KMIP, PKCS#11) implement it.
type KeyAdmin interface {
	Provider
	CreateKey(ctx context.Context, name string) (KeyInfo, error)
	RotateKey(ctx context.Context, name string) (KeyInfo, error)
	DisableKey(ctx context.Context, name string) (KeyInfo, error)
	EnableKey(ctx context.Context, name string) (KeyInfo, error)
	ListKeys(ctx context.Context) ([]KeyInfo, error)
}

var _ KeyAdmin = (*Keyring)(nil)
