package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/kms"
)

// sealedRootKeyNextFile holds the root key sealed by a key migration's
// target while the node still runs on its old external provider
// (root.key.sealed). The first start on the target opens it and renames
// it over root.key.sealed: the switch commits there, and until then the
// old sealed root key is untouched, so a start on the old provider still
// works.
const sealedRootKeyNextFile = "root.key.sealed.next"

// rootResealer returns what seals the node's root key under a migration
// target into root.key.sealed.next (written whole, then renamed into
// place). Only a node on an external provider needs it: from the builtin
// keyring the operator gives the root key once to the target (README).
func rootResealer(dataDir string, root []byte) func(context.Context, kms.RootSealer) error {
	key := bytes.Clone(root)
	return func(ctx context.Context, t kms.RootSealer) error {
		sealed, err := t.SealRootKey(ctx, key)
		if err != nil {
			return fmt.Errorf("migrate: sealing the root key under the target: %w", err)
		}
		if err := durable.WriteFile(filepath.Join(dataDir, sealedRootKeyNextFile), sealed, 0o600); err != nil {
			return fmt.Errorf("migrate: writing the root key sealed by the target: %w", err)
		}
		return nil
	}
}

// commitNextSealedRoot opens root.key.sealed.next with p, if there is one
// and p is the provider that sealed it (a node started on its migration's
// target), and commits the switch: the file replaces root.key.sealed.
// ok is false when there is none or p cannot open it (the node still
// runs on the old provider).
func commitNextSealedRoot(ctx context.Context, dataDir string, p kms.RootSealer, log *slog.Logger) (key []byte, ok bool, err error) {
	next := filepath.Join(dataDir, sealedRootKeyNextFile)
	sealed, err := os.ReadFile(next)
	if err != nil {
		return nil, false, nil
	}
	key, err = p.OpenRootKey(ctx, sealed)
	if err != nil {
		return nil, false, nil
	}
	if err := os.Rename(next, filepath.Join(dataDir, sealedRootKeyFile)); err != nil {
		clear(key)
		return nil, false, fmt.Errorf("committing the root key sealed by the new key provider: %w", err)
	}
	if err := durable.SyncDir(dataDir); err != nil {
		clear(key)
		return nil, false, err
	}
	if log != nil {
		log.Info("key migration: the root key sealed by the new key provider replaces the old provider's", "file", sealedRootKeyFile)
	}
	return key, true, nil
}
