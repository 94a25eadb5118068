package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// openKeyring opens the node's builtin keyring. With a metadata store
// the nodes of a deployment share (meta.SharedBlobs: PostgreSQL), the root
// key is first checked against the deployment's (kms.CheckRootKey), and
// the keyring is the store's: the data directory's keyring file, if any,
// goes into it on the first start (kms.OpenSharedKeyring). Else it is the
// file in the data directory, as always.
func openKeyring(ctx context.Context, dataDir string, m meta.Store, rootKey []byte, log *slog.Logger) (*kms.Keyring, error) {
	path := filepath.Join(dataDir, keyringFile)
	blobs, ok := m.(meta.SharedBlobs)
	if !ok {
		if err := refuseImportedKeyring(path); err != nil {
			return nil, err
		}
		return kms.OpenKeyring(path, rootKey)
	}
	if err := kms.CheckRootKey(ctx, blobs, rootKey); err != nil {
		if errors.Is(err, kms.ErrRootKeyMismatch) {
			return nil, fmt.Errorf("%w: the metadata store was set up with another root key; give every node the deployment's root key (%s or --root-key-file; a new data directory generates a root.key of its own)", err, kms.RootKeyEnv)
		}
		return nil, fmt.Errorf("checking the root key: %w", err)
	}
	k, err := kms.OpenSharedKeyring(ctx, blobs, rootKey, kms.SharedOptions{LockPath: path + ".lock", ImportPath: path})
	if err != nil {
		return nil, err
	}
	if from := k.ImportedFrom(); from != "" && log != nil {
		log.Info("the keys of the data directory's keyring are in the shared metadata store; the file is renamed", "file", from+kms.ImportedSuffix)
	}
	return k, nil
}

// refuseImportedKeyring refuses to create a new keyring file where the
// old one went into a shared store: the data directory belongs to a
// deployment on that store (start it with --meta), and a fresh keyring
// would hold none of the keys its objects are under.
func refuseImportedKeyring(path string) error {
	if _, err := os.Stat(path + kms.ImportedSuffix); err != nil {
		return nil
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("the keyring of this data directory was moved into a shared metadata store (%s): start with that store's --meta", path+kms.ImportedSuffix)
}

// OpenSharedKeysOffline opens, for the key commands given --meta, the key
// management of a deployment whose metadata store metaURL is shared: the
// external provider when one is configured, else the builtin keyring kept
// in the store (the root key from STRONGROOM_ROOT_KEY, rootKeyFile or
// DATA/root.key, checked against the deployment's). It also returns the
// store, for the checks key operations make. While a node runs on dataDir
// the keyring fails with kms.ErrLocked: ask that node. close releases all.
func OpenSharedKeysOffline(ctx context.Context, kc KMSConfig, dataDir, rootKeyFile, metaURL string) (kms.KeyAdmin, meta.Store, func() error, error) {
	// No data directory for the store: a key command is no node (it
	// writes no blobs and gets no node id).
	m, err := openMeta(ctx, Config{MetaConfig: MetaConfig{Meta: metaURL}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening metadata: %w", err)
	}
	if _, ok := m.(meta.SharedBlobs); !ok {
		m.Close()
		return nil, nil, nil, fmt.Errorf("the metadata store %s is not shared by nodes", redactURL(metaURL))
	}
	ext, closeExt, err := openKMS(ctx, kc, nil)
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	if ext != nil {
		return ext, m, func() error { return errors.Join(closeExt(), m.Close()) }, nil
	}
	root, err := sharedRootKey(dataDir, rootKeyFile)
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	defer clear(root)
	if _, err := os.Stat(dataDir); err != nil {
		// No data directory here (an operator's machine): nothing to
		// import, and a lock of the command's own.
		if dataDir, err = os.MkdirTemp("", "strongroom-key-"); err != nil {
			m.Close()
			return nil, nil, nil, err
		}
		defer os.RemoveAll(dataDir) // the lock file goes; its flock holds on the open file
	}
	k, err := openKeyring(ctx, dataDir, m, root, nil)
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	return k, m, func() error { return errors.Join(k.Close(), m.Close()) }, nil
}

// sharedRootKey is the root key a key command on a shared store uses:
// given, or the data directory's root.key; never a new one.
func sharedRootKey(dataDir, file string) ([]byte, error) {
	env := os.Getenv(kms.RootKeyEnv)
	if env == "" && file == "" {
		file = filepath.Join(dataDir, rootKeyFile)
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("no root key: give the deployment's (%s or --root-key-file), or --data of a node", kms.RootKeyEnv)
		}
	}
	return kms.LoadRootKey(env, file)
}
