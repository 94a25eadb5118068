package server

import (
	"context"
	"fmt"
	"path/filepath"

	"strongroom/internal/kms"
)

// KeyOp runs one key-management operation on a keyring: create, rotate,
// disable or enable.
func KeyOp(ctx context.Context, k *kms.Keyring, op, name string) (kms.KeyInfo, error) {
	switch op {
	case "create":
		return k.CreateKey(ctx, name)
	case "rotate":
		return k.RotateKey(ctx, name)
	case "disable":
		return k.DisableKey(ctx, name)
	case "enable":
		return k.EnableKey(ctx, name)
	}
	return kms.KeyInfo{}, fmt.Errorf("unknown key operation %q", op)
}

// OpenKeyringOffline opens the keyring of a stopped node's data directory.
func OpenKeyringOffline(dataDir, rootKeyFile string) (*kms.Keyring, error) {
	root, err := LoadRootKey(dataDir, rootKeyFile, nil)
	if err != nil {
		return nil, err
	}
	return kms.OpenKeyring(filepath.Join(dataDir, keyringFile), root)
}
