package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/kmip"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11"
)

// Key providers (KMSConfig.KMS).
const (
	KMSBuiltin = "builtin"
	KMSPKCS11  = "pkcs11"
	KMSKMIP    = "kmip"
)

// KMSConfig selects where the customer master keys live. The builtin
// keyring (a file in the data directory, sealed under the root key) is the
// default; "pkcs11" keeps them in an HSM token, "kmip" in a KMIP key
// manager. The same keys are flags of serve and of the key and user
// commands, and keys of the config file.
type KMSConfig struct {
	KMS string `yaml:"kms"` // builtin (default), pkcs11 or kmip
	// PKCS#11 module, token and PIN (--kms pkcs11).
	PKCS11Module  string `yaml:"pkcs11-module"`
	PKCS11Token   string `yaml:"pkcs11-token"`
	PKCS11PINFile string `yaml:"pkcs11-pin-file"` // else $STRONGROOM_PKCS11_PIN
	// PKCS11Sessions sizes the session pool (0: the provider's default).
	PKCS11Sessions int `yaml:"pkcs11-sessions"`
	// PKCS11Mechanism forces "gcm" or "kwp" (tests); default: the token's best.
	PKCS11Mechanism string `yaml:"-"`
	// KMIP server and the mutual TLS that reaches it (--kms kmip).
	KMIPAddr string `yaml:"kmip-addr"`
	KMIPCert string `yaml:"kmip-cert"`
	KMIPKey  string `yaml:"kmip-key"`
	KMIPCA   string `yaml:"kmip-ca"`
	// KMIPStateTTL is how long the KMIP server's key state (enabled,
	// newest version) is trusted without asking it (default 30s).
	KMIPStateTTL time.Duration `yaml:"kmip-state-ttl"`
}

// sealedRootKeyFile holds the root key sealed by an external provider
// (kms.RootSealer) instead of root.key in clear: useless without that
// provider.
const sealedRootKeyFile = "root.key.sealed"

// external is an open provider other than the builtin keyring.
type external interface {
	kms.KeyAdmin
	kms.RootSealer
	Close() error
}

// openKMS opens the configured external provider and its close: nil (and
// a no-op close) for the builtin keyring, which Open opens itself. A
// provider that cannot be reached fails here, so a node whose keys live
// elsewhere does not start without them.
func openKMS(ctx context.Context, c KMSConfig, log *slog.Logger) (external, func() error, error) {
	ext, err := openExternal(ctx, c, log)
	if err != nil || ext == nil {
		return nil, func() error { return nil }, err
	}
	return ext, ext.Close, nil
}

// openExternal is the one switch over the key providers: nil for the
// builtin keyring.
func openExternal(ctx context.Context, c KMSConfig, log *slog.Logger) (external, error) {
	switch c.KMS {
	case "", KMSBuiltin:
		return nil, nil
	case KMSPKCS11:
		pin, err := pkcs11.ReadPIN(c.PKCS11PINFile)
		if err != nil {
			return nil, err
		}
		p, err := pkcs11.Open(ctx, pkcs11.Config{Module: c.PKCS11Module, Token: c.PKCS11Token, PIN: pin,
			Sessions: c.PKCS11Sessions, Mechanism: c.PKCS11Mechanism, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("key provider pkcs11: opening the PKCS#11 token %q: %w", c.PKCS11Token, err)
		}
		return p, nil
	case KMSKMIP:
		k, err := kmip.Open(ctx, kmip.Config{Addr: c.KMIPAddr, CertFile: c.KMIPCert, KeyFile: c.KMIPKey, CAFile: c.KMIPCA, CacheTTL: c.KMIPStateTTL})
		if errors.Is(err, kms.ErrUnavailable) {
			return nil, fmt.Errorf("key provider kmip: the KMIP server at %s (--kmip-addr) cannot be used, and the keys are there: %w", c.KMIPAddr, err)
		}
		if err != nil {
			return nil, fmt.Errorf("key provider kmip: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("unknown key provider %q (--kms %s, %s or %s)", c.KMS, KMSBuiltin, KMSPKCS11, KMSKMIP)
}

// loadRootKey finds the root key: with an external provider it holds it
// (rootKeyFrom), else as LoadRootKey.
func loadRootKey(ctx context.Context, cfg Config, ext external, log *slog.Logger) ([]byte, error) {
	if ext == nil {
		return LoadRootKey(cfg.DataDir, cfg.RootKeyFile, log)
	}
	return rootKeyFrom(ctx, cfg.DataDir, cfg.RootKeyFile, ext, true, log)
}

// nodeKeys returns the node's key management and its provider: the
// keyring alone, or the external provider, which a composite puts in
// front of the keyring for ciphertexts the keyring made before a switch.
func nodeKeys(keyring *kms.Keyring, ext external) (kms.KeyAdmin, kms.Provider) {
	if ext == nil {
		return keyring, keyring
	}
	return ext, composite{external: ext, keyring: keyring}
}

// rootKeyFrom returns the root key of a data directory whose root key an
// external provider seals: it opens root.key.sealed. On a new data
// directory (create) it makes a random root key and seals it; a root key
// given by the operator (STRONGROOM_ROOT_KEY or file) is sealed on the first
// start, and checked against the sealed one afterwards. A root.key in clear
// is refused: the point is that the data directory alone opens nothing.
func rootKeyFrom(ctx context.Context, dataDir, file string, p kms.RootSealer, create bool, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(dataDir, sealedRootKeyFile)
	var given []byte
	if os.Getenv(kms.RootKeyEnv) != "" || file != "" {
		var err error
		if given, err = kms.LoadRootKey(os.Getenv(kms.RootKeyEnv), file); err != nil {
			return nil, err
		}
		defer clear(given)
	}
	key, next, err := commitNextSealedRoot(ctx, dataDir, p, log) // migrateroot.go
	if err != nil {
		return nil, err
	}
	if next && given != nil && subtle.ConstantTimeCompare(key, given) != 1 {
		clear(key)
		return nil, fmt.Errorf("the root key given (%s or --root-key-file) is not the one sealed in %s", kms.RootKeyEnv, path)
	}
	if next {
		return key, nil
	}
	sealed, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := p.OpenRootKey(ctx, sealed)
		if err != nil {
			return nil, fmt.Errorf("the root key of %s is sealed by the key provider and does not open: %w", dataDir, err)
		}
		if given != nil && subtle.ConstantTimeCompare(key, given) != 1 {
			clear(key)
			return nil, fmt.Errorf("the root key given (%s or --root-key-file) is not the one sealed in %s", kms.RootKeyEnv, path)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading the sealed root key: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, rootKeyFile)); err == nil {
		return nil, fmt.Errorf("%s holds the root key in clear, but with an external key provider the provider seals it: move the file out of the data directory and start once with --root-key-file pointing at it (it is then sealed into %s), then keep it offline or destroy it", filepath.Join(dataDir, rootKeyFile), sealedRootKeyFile)
	}
	if !create {
		return nil, fmt.Errorf("the data directory %s has no sealed root key (%s)", dataDir, sealedRootKeyFile)
	}
	if given != nil {
		// Seal only the key that opens this directory's keyring: a sealed
		// wrong key could not be replaced by the right one later.
		if _, err := os.Stat(filepath.Join(dataDir, keyringFile)); err == nil {
			k, err := kms.OpenKeyring(filepath.Join(dataDir, keyringFile), given)
			if err != nil {
				return nil, fmt.Errorf("the root key given does not open the keyring of %s, not sealing it: %w", dataDir, err)
			}
			k.Close()
		}
	}
	key = bytes.Clone(given)
	if key == nil {
		if _, err := os.Stat(filepath.Join(dataDir, keyringFile)); err == nil {
			return nil, fmt.Errorf("the data directory %s has a keyring but no %s: give its root key once (%s or --root-key-file) to seal it", dataDir, sealedRootKeyFile, kms.RootKeyEnv)
		}
		key = make([]byte, kms.RootKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generating root key: %w", err)
		}
	}
	if sealed, err = p.SealRootKey(ctx, key); err != nil {
		clear(key)
		return nil, fmt.Errorf("sealing the root key: %w", err)
	}
	if err := durable.CreateFile(path, sealed, 0o600); err != nil {
		clear(key)
		return nil, fmt.Errorf("writing the sealed root key: %w", err)
	}
	if log != nil {
		log.Info("the root key is sealed by the key provider; the data directory holds it only sealed", "file", path)
	}
	return key, nil
}

// composite is the node's provider when an external one is configured:
// new keys and key state come from it; ciphertexts the builtin keyring
// made before the switch still decrypt with the keyring.
type composite struct {
	external
	keyring *kms.Keyring
}

var (
	_ kms.Encrypter   = composite{}
	_ kms.StateSerial = composite{}
)

func (c composite) Decrypt(ctx context.Context, ct []byte, encCtx map[string]string) ([]byte, error) {
	if kms.IsKeyringCiphertext(ct) {
		return c.keyring.Decrypt(ctx, ct, encCtx)
	}
	return c.external.Decrypt(ctx, ct, encCtx)
}

func (c composite) Encrypt(ctx context.Context, keyID string, pt []byte, encCtx map[string]string) ([]byte, string, error) {
	e, ok := c.external.(kms.Encrypter)
	if !ok {
		return nil, "", errors.New("kms: the key provider cannot encrypt")
	}
	return e.Encrypt(ctx, keyID, pt, encCtx)
}

func (c composite) KeyStateSerial() uint64 {
	n := c.keyring.KeyStateSerial()
	if s, ok := c.external.(kms.StateSerial); ok {
		n += s.KeyStateSerial()
	}
	return n
}

// OpenKMSOffline opens the key management of a stopped node: the
// external provider when one is configured (the data directory is not
// needed for it), else the data directory's keyring. close releases it.
func OpenKMSOffline(ctx context.Context, c KMSConfig, dataDir, rootKeyFile string) (kms.KeyAdmin, func() error, error) {
	ext, closeExt, err := openKMS(ctx, c, nil)
	if err != nil || ext != nil {
		return ext, closeExt, err
	}
	k, err := OpenKeyringOffline(dataDir, rootKeyFile)
	if err != nil {
		return nil, nil, err
	}
	return k, k.Close, nil
}

// RootKeyOffline returns the root key of a data directory for the CLI:
// from the external provider that seals it, else as LoadRootKey (which
// may create one for a new data directory).
func RootKeyOffline(ctx context.Context, dataDir, rootKeyFile string, c KMSConfig) ([]byte, error) {
	if err := CheckDataDir(dataDir); err != nil {
		return nil, err
	}
	ext, closeExt, err := openKMS(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	defer closeExt()
	if ext == nil {
		return LoadRootKey(dataDir, rootKeyFile, nil)
	}
	return rootKeyFrom(ctx, dataDir, rootKeyFile, ext, false, nil)
}
