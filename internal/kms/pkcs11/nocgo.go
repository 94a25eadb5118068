//go:build !cgo

package pkcs11

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// Provider is not available without cgo: Open always fails, and the
// methods (there so that callers build) fail with ErrNoCgo.
type Provider struct{}

// Open fails with ErrNoCgo.
func Open(context.Context, Config) (*Provider, error) { return nil, ErrNoCgo }

func (*Provider) GenerateDataKey(context.Context, string, map[string]string) (kms.DataKey, error) {
	return kms.DataKey{}, ErrNoCgo
}
func (*Provider) Decrypt(context.Context, []byte, map[string]string) ([]byte, error) {
	return nil, ErrNoCgo
}
func (*Provider) Encrypt(context.Context, string, []byte, map[string]string) ([]byte, string, error) {
	return nil, "", ErrNoCgo
}
func (*Provider) DescribeKey(context.Context, string) (kms.KeyInfo, error) {
	return kms.KeyInfo{}, ErrNoCgo
}
func (*Provider) CreateKey(context.Context, string) (kms.KeyInfo, error) {
	return kms.KeyInfo{}, ErrNoCgo
}
func (*Provider) RotateKey(context.Context, string) (kms.KeyInfo, error) {
	return kms.KeyInfo{}, ErrNoCgo
}
func (*Provider) DisableKey(context.Context, string) (kms.KeyInfo, error) {
	return kms.KeyInfo{}, ErrNoCgo
}
func (*Provider) EnableKey(context.Context, string) (kms.KeyInfo, error) {
	return kms.KeyInfo{}, ErrNoCgo
}
func (*Provider) ListKeys(context.Context) ([]kms.KeyInfo, error)     { return nil, ErrNoCgo }
func (*Provider) SealRootKey(context.Context, []byte) ([]byte, error) { return nil, ErrNoCgo }
func (*Provider) OpenRootKey(context.Context, []byte) ([]byte, error) { return nil, ErrNoCgo }
func (*Provider) KeyStateSerial() uint64                              { return 0 }
func (*Provider) Close() error                                        { return nil }

// DestroyKey fails with ErrNoCgo.
func (*Provider) DestroyKey(context.Context, string) error { return ErrNoCgo }

// DestroyAllKeys fails with ErrNoCgo.
func (*Provider) DestroyAllKeys(context.Context) ([]string, error) { return nil, ErrNoCgo }
