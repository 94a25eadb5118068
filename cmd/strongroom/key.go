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

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

func keyCmd(args []string, stdout, stderr io.Writer) error {
	const usage = "usage: strongroom key create|rotate|disable|enable NAME [--data DIR] [--kms builtin|pkcs11|kmip ...] | strongroom key list [same flags] | strongroom key retire KEY --version N|--below N"
	if len(args) < 1 {
		return errors.New(usage)
	}
	if handled, err := keyJobCmd(args, stdout, stderr); handled {
		return err
	}
	op := args[0]
	if op == "retire" {
		return keyRetireCmd(args, stdout, stderr) // keyretire.go
	}
	if isKeyPolicyCmd(op) {
		return keyPolicyCmd(args, stdout, stderr) // keypolicy.go
	}
	fs := flag.NewFlagSet("key "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	o := bindOutput(fs)
	auditLog := fs.String("audit-log", "", "audit log FILE to record a change made on a stopped server (a running one audits to its own)")
	metaURL := bindKeyMeta(fs) // key_shared.go
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
	var k kms.KeyAdmin
	var closeKeys func() error
	if metaURL() != "" {
		keys, err = keyShared(ctx, dep, metaURL(), op, name, *auditLog) // the keyring is in the store
	} else {
		k, closeKeys, err = openLocal(dep, func(data, rootKeyFile string, kc server.KMSConfig) (kms.KeyAdmin, func() error, error) {
			return server.OpenKMSOffline(ctx, kc, data, rootKeyFile)
		})
	}
	switch {
	case metaURL() != "":
	case err == nil:
		// No server holds the keyring (offline), or the keys are in an
		// external KMS: change them directly.
		defer closeKeys()
		keys, err = keyOffline(ctx, k, dep.data, op, name, dep.kms.KMS != server.KMSBuiltin)
		if op != "list" && !errors.Is(err, bolt.ErrLocked) {
			if aerr := auditOffline(*auditLog, audit.TypeKey, op, name, "", err); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
		if errors.Is(err, bolt.ErrLocked) {
			// The node runs and holds the metadata: ask it.
			keys, err = keyOnline(ctx, dep, op, name)
		}
	case errors.Is(err, kms.ErrLocked):
		keys, err = keyOnline(ctx, dep, op, name)
	}
	if err != nil {
		return err
	}
	return o.print(stdout, keys, func() *table {
		t := newTable("KEY", "ENABLED", "VERSIONS", "DEFAULT", "CREATED")
		for _, i := range keys {
			t.add(i.ID, i.Enabled, i.Versions, i.Default, i.Created)
		}
		return t
	})
}

// keyOnline asks the running node that holds the keyring.
func keyOnline(ctx context.Context, dep *deployment, op, name string) ([]kms.KeyInfo, error) {
	var body []byte
	var err error
	if op == "list" {
		body, err = dep.call(ctx, http.MethodGet, "keys", nil)
	} else {
		body, err = dep.call(ctx, http.MethodPost, "keys/"+op, url.Values{"name": {name}})
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

// keyOffline changes the keys of a stopped node (or an external KMS's).
// Disabling a key also opens the metadata, to refuse when the key
// protects a version under object lock; with an external KMS the
// metadata is always opened, so that while a node runs (bolt.ErrLocked)
// the caller asks it instead and its cached key state follows at once.
func keyOffline(ctx context.Context, k kms.KeyAdmin, dir, op, name string, external bool) ([]kms.KeyInfo, error) {
	var m meta.Store
	if op != "rotate" || external { // disable, enable, create check key policies
		store, err := server.OpenMetaOffline(dir)
		if err != nil {
			return nil, fmt.Errorf("opening metadata: %w", err) // matches bolt.ErrLocked while a node runs
		}
		defer store.Close()
		m = store
	}
	if op == "list" {
		return k.ListKeys(ctx)
	}
	info, err := server.KeyOp(ctx, k, m, op, name)
	return []kms.KeyInfo{info}, err
}

// auditOffline appends the record of a change made on a stopped node to
// the audit file, if one is given.
func auditOffline(path, typ, op, target, accessKey string, opErr error) error {
	if path == "" {
		return nil
	}
	w, err := audit.OpenFile(path)
	if err != nil {
		return err
	}
	server.AuditAdmin(context.Background(), w, typ, op, target, accessKey, "cli", opErr)
	return w.Close()
}
