package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"strongroom/internal/kms"
	"strongroom/internal/meta"
	"strongroom/internal/meta/bolt"
	"strongroom/internal/server"
)

func keyCmd(args []string, stdout, stderr io.Writer) error {
	const usage = "usage: strongroom key create|rotate|disable|enable NAME [--data DIR] [--kms pkcs11 --pkcs11-module PATH --pkcs11-token LABEL --pkcs11-pin-file FILE] | strongroom key list [same flags]"
	if len(args) < 1 {
		return errors.New(usage)
	}
	op := args[0]
	fs := flag.NewFlagSet("key "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the server")
	rootKeyFile := fs.String("root-key-file", "", "root key file (default: $STRONGROOM_ROOT_KEY, else DATA/root.key)")
	var kc server.KMSConfig
	bindKMSFlags(fs, &kc)
	name, _, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	switch op {
	case "list":
	case "create", "rotate", "disable", "enable":
		if name == "" {
			return errors.New(usage)
		}
	default:
		return errors.New(usage)
	}
	ctx := context.Background()
	var keys []kms.KeyInfo
	var k *kms.Keyring
	if kc.Provider != server.KMSBuiltin {
		keys, err = keyExternal(ctx, *data, *rootKeyFile, kc, op, name)
	} else {
		k, err = server.OpenKeyringOffline(*data, *rootKeyFile)
	}
	switch {
	case kc.Provider != server.KMSBuiltin:
	case err == nil:
		// No server holds the keyring (offline): change the file directly.
		defer k.Close()
		if op == "list" {
			keys, err = k.ListKeys(ctx)
		} else {
			keys, err = keyOffline(ctx, k, *data, op, name)
		}
	case errors.Is(err, kms.ErrLocked):
		keys, err = keyOnline(ctx, *data, *rootKeyFile, kc, op, name)
	}
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tENABLED\tVERSIONS\tDEFAULT\tCREATED")
	for _, i := range keys {
		fmt.Fprintf(tw, "%s\t%v\t%d\t%v\t%s\n", i.ID, i.Enabled, i.Versions, i.Default, i.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

// keyOnline asks the running node that holds the keyring.
func keyOnline(ctx context.Context, dir, rootKeyFile string, kc server.KMSConfig, op, name string) ([]kms.KeyInfo, error) {
	var body []byte
	var err error
	if op == "list" {
		body, err = adminCallKMS(ctx, dir, rootKeyFile, kc, http.MethodGet, "keys", nil)
	} else {
		body, err = adminCallKMS(ctx, dir, rootKeyFile, kc, http.MethodPost, "keys/"+op, url.Values{"name": {name}})
		if err == nil {
			body = append(append([]byte("["), body...), ']')
		}
	}
	if err != nil {
		return nil, err
	}
	var keys []kms.KeyInfo
	return keys, json.Unmarshal(body, &keys)
}

// keyOffline changes a stopped node's keyring; disabling a key also opens
// its metadata, to refuse when the key protects a version under object
// lock.
func keyOffline(ctx context.Context, k *kms.Keyring, dir, op, name string) ([]kms.KeyInfo, error) {
	var m meta.Store
	if op == "disable" {
		store, err := server.OpenMetaOffline(dir)
		if err != nil {
			return nil, fmt.Errorf("opening metadata: %w", err)
		}
		defer store.Close()
		m = store
	}
	info, err := server.KeyOp(ctx, k, m, op, name)
	return []kms.KeyInfo{info}, err
}

// keyExternal manages the keys of an external provider: through the
// running node when there is one (its metadata is locked), else directly
// (disabling still checks the metadata for versions under object lock).
func keyExternal(ctx context.Context, dir, rootKeyFile string, kc server.KMSConfig, op, name string) ([]kms.KeyInfo, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	m, err := server.OpenMetaOffline(dir)
	if errors.Is(err, bolt.ErrLocked) {
		return keyOnline(ctx, dir, rootKeyFile, kc, op, name)
	}
	if err != nil {
		return nil, fmt.Errorf("opening metadata: %w", err)
	}
	defer m.Close()
	keys, closeKeys, err := server.OpenKeysOffline(ctx, dir, rootKeyFile, kc)
	if err != nil {
		return nil, err
	}
	defer closeKeys()
	if op == "list" {
		return keys.ListKeys(ctx)
	}
	info, err := server.KeyOp(ctx, keys, m, op, name)
	return []kms.KeyInfo{info}, err
}
