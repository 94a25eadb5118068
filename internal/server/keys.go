package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// KeyOp runs one key-management operation on a key provider: create, rotate,
// disable or enable.
//
// Disabling a key that protects a version object lock holds is refused:
// the lock promises the version stays readable, and a disabled key would
// make it unreadable (no command destroys a key at all). m is the
// metadata store to search for such versions.
func KeyOp(ctx context.Context, k kms.KeyAdmin, m meta.Store, op, name string) (kms.KeyInfo, error) {
	if id, err := kms.ParseKeyID(name); err == nil && id == kms.RootKeyName {
		// The key that seals the root key (external providers) is
		// managed by nothing but the sealing itself.
		return kms.KeyInfo{}, fmt.Errorf("%w: %s seals the root key", kms.ErrReservedKey, kms.RootKeyName)
	}
	switch op {
	case "create":
		if err := refuseDestroyedName(ctx, m, name); err != nil {
			return kms.KeyInfo{}, err
		}
		return k.CreateKey(ctx, name)
	case "rotate":
		return k.RotateKey(ctx, name)
	case "disable":
		if err := refuseLockedKey(ctx, k, m, name); err != nil {
			return kms.KeyInfo{}, err
		}
		info, err := k.DisableKey(ctx, name)
		if err == nil {
			announceKeyChange(ctx, m, name, nil) // invalidate.go
		}
		return info, err
	case "enable":
		if err := refusePendingKey(ctx, m, name); err != nil {
			return kms.KeyInfo{}, err
		}
		return k.EnableKey(ctx, name)
	}
	return kms.KeyInfo{}, fmt.Errorf("unknown key operation %q", op)
}

// OpenKeyringOffline opens the keyring of a stopped node's data directory.
func OpenKeyringOffline(dataDir, rootKeyFile string) (*kms.Keyring, error) {
	if err := CheckDataDir(dataDir); err != nil {
		return nil, err
	}
	root, err := LoadRootKey(dataDir, rootKeyFile, nil)
	if err != nil {
		return nil, err
	}
	return kms.OpenKeyring(filepath.Join(dataDir, keyringFile), root)
}

// OpenMetaOffline opens the metadata of a stopped node's data directory.
// The caller closes it.
func OpenMetaOffline(dataDir string) (*bolt.Store, error) {
	if err := CheckDataDir(dataDir); err != nil {
		return nil, err
	}
	return bolt.Open(filepath.Join(dataDir, metaFile))
}

// ErrKeyProtectsLocked refuses to disable a key that protects a version
// under object lock.
var ErrKeyProtectsLocked = errors.New("key protects a version under object lock")

// refuseLockedKey fails when key name seals a version object lock holds.
func refuseLockedKey(ctx context.Context, k kms.KeyAdmin, m meta.Store, name string) error {
	return refuseLockedKeyOp(ctx, k, m, name, "disable", time.Now())
}

// refuseLockedKeyOp is refuseLockedKey for operation op at time now.
func refuseLockedKeyOp(ctx context.Context, k kms.KeyAdmin, m meta.Store, name, op string, now time.Time) error {
	if m == nil {
		return errors.New("this key operation needs the metadata, to check for versions under object lock")
	}
	info, err := k.DescribeKey(ctx, name)
	if err != nil {
		return err
	}
	o, err := service.FindLockedVersion(ctx, m, now, func(enc *meta.Encryption) bool {
		return keyProtects(enc, info)
	})
	if err != nil || o == nil {
		return err
	}
	why := "bucket retention policy (WORM)"
	switch {
	case o.LegalHold:
		why = "legal hold"
	case o.LockUntil != nil && o.LockUntil.After(now):
		why = o.LockMode + " retention until " + o.LockUntil.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("refusing to %s %s: %w (bucket %s, key %q, version %s: %s)", op, info.ID, ErrKeyProtectsLocked, o.Bucket, o.Key, o.VersionID, why)
}

// keyProtects reports whether the key described by info wraps the object
// key of enc. The stored ciphertext (the bucket key's when there is one)
// names the key that wraps it, whatever the client named: after `key
// rewrap --to`, an SSE-S3 object (KeyID "") depends on the target key, not
// the default. Only material without a readable ciphertext header falls
// back to the name the client gave (any spelling), or the default key for
// managed encryption and SSE-KMS without a key. SSE-C uses no KMS key.
func keyProtects(enc *meta.Encryption, info kms.KeyInfo) bool {
	if sse.Mode(enc.Mode) == sse.Customer {
		return false
	}
	if refs := sse.Refs(enc); len(refs) > 0 {
		for _, r := range refs {
			if r.Key == info.ID {
				return true
			}
		}
		return false
	}
	if enc.KeyID == "" {
		return info.Default
	}
	id, err := kms.ParseKeyID(enc.KeyID)
	return err == nil && id == info.ID
}
