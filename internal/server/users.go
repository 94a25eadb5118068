package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// UserOps are the user-management operations of the CLI and admin API.
var UserOps = []string{"create", "list", "info", "disable", "enable", "delete", "key-add", "key-remove", "key-rotate", "key-disable", "key-enable", "policy-set"}

// UserOp runs one user-management operation. arg is the access key for
// key-* operations and a comma-separated list of canned policy names (or
// one policy document) for policy-set.
func UserOp(ctx context.Context, ids *iam.IAM, op, name, arg string) (any, error) {
	switch op {
	case "create":
		return ids.CreateUser(ctx, name)
	case "list":
		return ids.ListUsers(ctx)
	case "info":
		return ids.GetUser(ctx, name)
	case "disable", "enable":
		return ids.SetUserDisabled(ctx, name, op == "disable")
	case "delete":
		return map[string]string{"deleted": name}, ids.DeleteUser(ctx, name)
	case "key-add":
		return ids.AddAccessKey(ctx, name)
	case "key-remove":
		return map[string]string{"removed": arg}, ids.RemoveAccessKey(ctx, name, arg)
	case "key-rotate":
		return ids.RotateAccessKey(ctx, name, arg)
	case "key-disable", "key-enable":
		if err := ids.SetAccessKeyDisabled(ctx, name, arg, op == "key-disable"); err != nil {
			return nil, err
		}
		return ids.GetUser(ctx, name)
	case "policy-set":
		policies, err := parsePolicyArg(arg)
		if err != nil {
			return nil, err
		}
		return ids.SetPolicies(ctx, name, policies)
	}
	return nil, fmt.Errorf("unknown user operation %q (one of %s)", op, strings.Join(UserOps, ", "))
}

// parsePolicyArg reads "readonly,writeonly" or a JSON policy document.
func parsePolicyArg(arg string) ([]string, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return nil, nil
	}
	if strings.HasPrefix(arg, "{") {
		if err := validatePolicy(arg); err != nil {
			return nil, err
		}
		return []string{arg}, nil
	}
	var out []string
	for _, p := range strings.Split(arg, ",") {
		p = strings.TrimSpace(p)
		if err := validatePolicy(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// OpenIAMOffline opens the identities of a stopped node's data directory.
// The caller closes the returned store.
// The root key comes from the key provider kc when it seals it.
func OpenIAMOffline(dataDir, rootKeyFile string, kc KMSConfig) (*iam.IAM, *bolt.Store, error) {
	m, root, err := openOffline(dataDir, rootKeyFile, kc)
	if err != nil {
		return nil, nil, err
	}
	ids, err := iam.New(m, "", "", root)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return ids, m, nil
}

// openOffline opens a stopped node's metadata and its root key (from the
// key provider kc when it seals it), proven against the keyring before
// anything is sealed under it.
func openOffline(dataDir, rootKeyFile string, kc KMSConfig) (*bolt.Store, []byte, error) {
	if err := CheckDataDir(dataDir); err != nil {
		return nil, nil, err
	}
	// The metadata first: bolt.ErrLocked tells the caller a node is up.
	m, err := bolt.Open(filepath.Join(dataDir, metaFile))
	if err != nil {
		return nil, nil, err
	}
	root, err := RootKeyOffline(context.Background(), dataDir, rootKeyFile, kc)
	if err == nil {
		// Opening the keyring proves the root key before any secret is
		// sealed under it (and creates a new data directory's keyring).
		var k *kms.Keyring
		if k, err = kms.OpenKeyring(filepath.Join(dataDir, keyringFile), root); err == nil {
			k.Close()
		} else {
			err = fmt.Errorf("opening keyring: %w", err)
		}
	}
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, root, nil
}
