//go:build !cgo

package pkcs11

import (
	"context"

	"strongroom/internal/kms"
)

// Provider is not available without cgo: Open always fails. The embedded
// interfaces only give it the methods of the cgo build's Provider.
type Provider struct {
	kms.Provider
	kms.Encrypter
	kms.KeyAdmin
	kms.RootSealer
}

// Open fails with ErrNoCgo.
func Open(context.Context, Config) (*Provider, error) { return nil, ErrNoCgo }

// KeyStateSerial is 0.
func (*Provider) KeyStateSerial() uint64 { return 0 }

// Close does nothing.
func (*Provider) Close() error { return nil }
