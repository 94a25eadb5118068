package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"strongroom/internal/durable"
	"strongroom/internal/kms"
	"strongroom/internal/kms/kmip"
)

// KMSConfig selects where the customer master keys live. The builtin
// keyring (a file in the data directory, sealed under the root key) is the
// default; "kmip" keeps them in a KMIP key manager.
type KMSConfig struct {
	KMS string `yaml:"kms"` // "builtin" (default) or "kmip"
	// KMIP server and the mutual TLS that reaches it (--kms kmip).
	KMIPAddr string `yaml:"kmip-addr"`
	KMIPCert string `yaml:"kmip-cert"`
	KMIPKey  string `yaml:"kmip-key"`
	KMIPCA   string `yaml:"kmip-ca"`
	// KMIPStateTTL is how long an external provider's key state (enabled,
	// newest version) is trusted without asking it (default 30s).
	KMIPStateTTL time.Duration `yaml:"kmip-state-ttl"`
}

// sealedRootKeyFile holds the root key sealed by an external provider
// (kms.SealRootKey): useless without that provider.
const sealedRootKeyFile = "root.key.sealed"

// openKMS opens an external key provider: nil (and a no-op close) for the
// builtin keyring, which Open opens itself. A provider that cannot be
// reached fails here, so a node whose keys live elsewhere does not start
// without them.
func openKMS(ctx context.Context, c KMSConfig) (kms.KeyAdmin, func() error, error) {
	noop := func() error { return nil }
	switch c.KMS {
	case "", "builtin":
		return nil, noop, nil
	case "kmip":
		k, err := kmip.Open(ctx, kmip.Config{Addr: c.KMIPAddr, CertFile: c.KMIPCert, KeyFile: c.KMIPKey, CAFile: c.KMIPCA, CacheTTL: c.KMIPStateTTL})
		if errors.Is(err, kms.ErrUnavailable) {
			return nil, nil, fmt.Errorf("key provider kmip: the KMIP server at %s (--kmip-addr) cannot be used, and the keys are there: %w", c.KMIPAddr, err)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("key provider kmip: %w", err)
		}
		return k, k.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown key provider %q (--kms builtin or kmip)", c.KMS)
}

// OpenKMSOffline opens the key provider for `strongroom key` on a stopped
// node: the keyring of its data directory for builtin, else the external
// provider (the data directory is not needed for it).
func OpenKMSOffline(ctx context.Context, c KMSConfig, dataDir, rootKeyFile string) (kms.KeyAdmin, func() error, error) {
	ext, closeExt, err := openKMS(ctx, c)
	if err != nil || ext != nil {
		return ext, closeExt, err
	}
	k, err := OpenKeyringOffline(dataDir, rootKeyFile)
	if err != nil {
		return nil, nil, err
	}
	return k, k.Close, nil
}

// loadRootKey finds the root key. With an external provider and no root
// key given (STRONGROOM_ROOT_KEY, --root-key-file), the provider holds it:
// a new data directory gets a random root key that is kept only sealed by
// the provider (root.key.sealed), and a data directory that has one opens
// only while the provider answers. A data directory made with a root.key
// file keeps using it.
func loadRootKey(ctx context.Context, cfg Config, ext kms.KeyAdmin, log *slog.Logger) ([]byte, error) {
	if ext == nil || cfg.RootKeyFile != "" || os.Getenv(kms.RootKeyEnv) != "" {
		return LoadRootKey(cfg.DataDir, cfg.RootKeyFile, log)
	}
	sealedPath := filepath.Join(cfg.DataDir, sealedRootKeyFile)
	sealed, err := os.ReadFile(sealedPath)
	switch {
	case err == nil:
		root, err := kms.OpenRootKey(ctx, ext, sealed)
		if err != nil {
			return nil, fmt.Errorf("the root key of %s is sealed by the %s key provider, which cannot unseal it: %w", cfg.DataDir, cfg.KMS, err)
		}
		return root, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	for _, f := range []string{rootKeyFile, keyringFile} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); err == nil {
			// Set up before (root key on disk or given by hand): as it was.
			return LoadRootKey(cfg.DataDir, cfg.RootKeyFile, log)
		}
	}
	root := make([]byte, kms.RootKeySize)
	if _, err := rand.Read(root); err != nil {
		return nil, err
	}
	if sealed, err = kms.SealRootKey(ctx, ext, root); err != nil {
		clear(root)
		return nil, fmt.Errorf("sealing a new root key with the %s key provider: %w", cfg.KMS, err)
	}
	if err := durable.CreateFile(sealedPath, sealed, 0o600); err != nil {
		clear(root)
		return nil, fmt.Errorf("writing the sealed root key: %w", err)
	}
	log.Info("generated a new root key, held by the key provider: the data directory keeps it only sealed", "provider", cfg.KMS, "file", sealedPath, "key", kms.RootKeyName)
	return root, nil
}
