package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// bindKeyMeta defines --meta for the key commands (unless the flag set
// has it already) and returns its value's reader.
func bindKeyMeta(fs *flag.FlagSet) func() string {
	if fs.Lookup("meta") == nil {
		fs.String("meta", "", "metadata store shared by the nodes (`postgres://…`): the keyring is there, so the keys change for every node")
	}
	return func() string { return fs.Lookup("meta").Value.String() }
}

// keyShared runs a key command on a deployment whose metadata store
// (--meta) is shared: keys change in the store directly, for every node
// at once; when a node runs on the data directory it is asked instead.
func keyShared(ctx context.Context, dep *deployment, metaURL, op, name, auditLog string) ([]kms.KeyInfo, error) {
	if dep.endpoint != "" {
		return keyOnline(ctx, dep, op, name)
	}
	k, m, closeAll, err := server.OpenSharedKeysOffline(ctx, dep.kms, dep.data, dep.rootKeyFile, metaURL)
	if errors.Is(err, kms.ErrLocked) {
		return keyOnline(ctx, dep, op, name)
	}
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if op == "list" {
		return k.ListKeys(ctx)
	}
	info, err := server.KeyOp(ctx, k, m, op, name)
	if aerr := auditOffline(auditLog, audit.TypeKey, op, name, "", err); aerr != nil {
		err = errors.Join(err, aerr)
	}
	return []kms.KeyInfo{info}, err
}

// keyPolicyShared is keyShared for key list and the key-policy operations.
func keyPolicyShared(ctx context.Context, dep *deployment, metaURL, op, name, user, arg, auditLog string) ([]server.KeyStatus, error) {
	if dep.endpoint != "" {
		return keyPolicyOnline(ctx, dep, op, name, user, arg)
	}
	k, m, closeAll, err := server.OpenSharedKeysOffline(ctx, dep.kms, dep.data, dep.rootKeyFile, metaURL)
	if errors.Is(err, kms.ErrLocked) {
		return keyPolicyOnline(ctx, dep, op, name, user, arg)
	}
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if op == "list" {
		return server.KeyStatuses(ctx, k, m)
	}
	st, err := server.KeyPolicyOp(ctx, k, m, op, name, user, arg, time.Now())
	if auditLog != "" {
		w, aerr := audit.OpenFile(auditLog)
		if aerr == nil {
			server.AuditKeyPolicy(ctx, w, op, name, user, arg, "cli", err)
			aerr = w.Close()
		}
		err = errors.Join(err, aerr)
	}
	return []server.KeyStatus{st}, err
}
