package server

import (
	"context"
	"fmt"
	"time"

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
	// KMSCacheTTL is how long an external provider's key state (enabled,
	// newest version) is trusted without asking it (default 30s).
	KMSCacheTTL time.Duration `yaml:"kms-cache-ttl"`
}

// openKMS opens the configured key provider. The builtin keyring is
// already open (it holds the data directory's lock either way); an
// external provider that cannot be reached fails here, so a node whose
// keys live elsewhere does not start without them. closeFn releases what
// openKMS opened (not the keyring).
func openKMS(ctx context.Context, c KMSConfig, keyring *kms.Keyring) (p kms.KeyAdmin, closeFn func() error, err error) {
	switch c.KMS {
	case "", "builtin":
		return keyring, func() error { return nil }, nil
	case "kmip":
		k, err := kmip.Open(ctx, kmip.Config{Addr: c.KMIPAddr, CertFile: c.KMIPCert, KeyFile: c.KMIPKey, CAFile: c.KMIPCA, CacheTTL: c.KMSCacheTTL})
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
	if c.KMS == "" || c.KMS == "builtin" {
		k, err := OpenKeyringOffline(dataDir, rootKeyFile)
		if err != nil {
			return nil, nil, err
		}
		return k, k.Close, nil
	}
	return openKMS(ctx, c, nil)
}
