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
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

const keyPolicyUsage = `usage: strongroom key OP ... [--data DIR] [--kms builtin|pkcs11|kmip ...]
  list [--json]                          keys, their state, owner and grants (--json: with shred reports)
  grant KEY USER [encrypt|decrypt]       let USER use KEY (default: both)
  revoke KEY USER                        take USER's grant on KEY away
  schedule-deletion KEY --days N         destroy KEY's material after N days (7-30); KEY is unusable meanwhile
  cancel-deletion KEY                    stop a scheduled deletion (KEY stays disabled: enable it to use it)`

// isKeyPolicyCmd reports whether keyPolicyCmd serves `strongroom key op`.
func isKeyPolicyCmd(op string) bool { return op == "list" || server.IsKeyPolicyOp(op) }

// keyPolicyCmd runs key list and the key-policy operations, on the
// running node (through its admin API) or, when none runs, directly on
// the data directory's metadata and key provider.
func keyPolicyCmd(args []string, stdout, stderr io.Writer) error {
	op := args[0]
	fs := flag.NewFlagSet("key "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	auditLog := fs.String("audit-log", "", "audit log FILE to record a change made on a stopped server (a running one audits to its own)")
	days := fs.Int("days", 0, "schedule-deletion: waiting period in days (7-30)")
	asJSON := fs.Bool("json", false, "print JSON")
	usageCounts := fs.Bool("usage", false, "list: also the object versions per key version (from the running server)")
	metaURL := bindKeyMeta(fs) // key_shared.go
	pos, err := parsePositional(fs, args[1:])
	if err != nil {
		return err
	}
	name, user, arg := at(pos, 0), at(pos, 1), at(pos, 2)
	switch op {
	case "grant", "revoke":
		if name == "" || user == "" {
			return errors.New(keyPolicyUsage)
		}
	case "schedule-deletion":
		if name == "" {
			return errors.New(keyPolicyUsage)
		}
		arg = strconv.Itoa(*days)
	case "cancel-deletion":
		if name == "" {
			return errors.New(keyPolicyUsage)
		}
	}
	ctx := context.Background()
	var keys []server.KeyStatus
	var k kms.KeyAdmin
	var closeKeys func() error
	if metaURL() != "" {
		keys, err = keyPolicyShared(ctx, dep, metaURL(), op, name, user, arg, *auditLog) // the keyring is in the store
	} else {
		k, closeKeys, err = openLocal(dep, func(data, rootKeyFile string, kc server.KMSConfig) (kms.KeyAdmin, func() error, error) {
			return server.OpenKMSOffline(ctx, kc, data, rootKeyFile)
		})
	}
	switch {
	case metaURL() != "":
	case err == nil:
		defer closeKeys()
		keys, err = keyPolicyOffline(ctx, k, dep.data, op, name, user, arg)
		if op != "list" && !errors.Is(err, bolt.ErrLocked) && *auditLog != "" {
			w, aerr := audit.OpenFile(*auditLog)
			if aerr == nil {
				server.AuditKeyPolicy(ctx, w, op, name, user, arg, "cli", err)
				aerr = w.Close()
			}
			err = errors.Join(err, aerr)
		}
		if errors.Is(err, bolt.ErrLocked) {
			keys, err = keyPolicyOnline(ctx, dep, op, name, user, arg)
		}
	case errors.Is(err, kms.ErrLocked):
		keys, err = keyPolicyOnline(ctx, dep, op, name, user, arg)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(keys)
	}
	if op == "schedule-deletion" && len(keys) == 1 {
		printDeletion(stdout, keys[0])
	}
	if err := printKeyStatuses(stdout, keys); err != nil || op != "list" || !*usageCounts {
		return err
	}
	return printKeyUsage(ctx, dep, stdout) // keyjobs.go
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// parsePositional parses flags that may follow or precede the positional
// arguments, and returns the positional ones.
func parsePositional(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return append(pos, fs.Args()...), nil
}

// keyPolicyOffline works on a stopped node's metadata (it fails with
// bolt.ErrLocked while a node runs).
func keyPolicyOffline(ctx context.Context, k kms.KeyAdmin, dir, op, name, user, arg string) ([]server.KeyStatus, error) {
	m, err := server.OpenMetaOffline(dir)
	if err != nil {
		return nil, fmt.Errorf("opening metadata: %w", err)
	}
	defer m.Close()
	if op == "list" {
		return server.KeyStatuses(ctx, k, m)
	}
	st, err := server.KeyPolicyOp(ctx, k, m, op, name, user, arg, time.Now())
	return []server.KeyStatus{st}, err
}

// keyPolicyOnline asks the running node.
func keyPolicyOnline(ctx context.Context, dep *deployment, op, name, user, arg string) ([]server.KeyStatus, error) {
	var body []byte
	var err error
	if op == "list" {
		body, err = dep.call(ctx, http.MethodGet, "keys", nil)
	} else {
		body, err = dep.call(ctx, http.MethodPost, "keys/"+op, url.Values{"name": {name}, "user": {user}, "arg": {arg}})
		if err == nil {
			body = append(append([]byte("["), body...), ']')
		}
	}
	if err != nil {
		return nil, err
	}
	var keys []server.KeyStatus
	return keys, json.Unmarshal(body, &keys)
}

// printDeletion says what a scheduled deletion will shred.
func printDeletion(w io.Writer, st server.KeyStatus) {
	var total int64
	for _, n := range st.Dependents {
		total += n
	}
	fmt.Fprintf(w, "key %s is pending deletion: its material is destroyed on %s (cancel before: strongroom key cancel-deletion %s)\n",
		st.ID, st.DeletionDate.UTC().Format(time.RFC3339), st.ID)
	fmt.Fprintf(w, "%d object version(s) under it become unreadable for good", total)
	for _, b := range slices.Sorted(mapKeys(st.Dependents)) {
		fmt.Fprintf(w, "; %s: %d", b, st.Dependents[b])
	}
	fmt.Fprintln(w)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func printKeyStatuses(w io.Writer, keys []server.KeyStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// The first columns are those key list always printed.
	fmt.Fprintln(tw, "KEY\tENABLED\tVERSIONS\tDEFAULT\tCREATED\tSTATE\tOWNER\tGRANTS\tDELETION")
	for _, k := range keys {
		var grants []string
		for _, u := range slices.Sorted(mapKeys(k.Grants)) {
			g := k.Grants[u]
			var what []string
			if g.Encrypt {
				what = append(what, "encrypt")
			}
			if g.Decrypt {
				what = append(what, "decrypt")
			}
			grants = append(grants, u+":"+strings.Join(what, "+"))
		}
		gs, created, deletion := strings.Join(grants, ","), "-", "-"
		if gs == "" {
			gs = "-"
		}
		if !k.Created.IsZero() {
			created = k.Created.Format(time.RFC3339)
		}
		switch {
		case !k.Destroyed.IsZero():
			deletion = "destroyed " + k.Destroyed.UTC().Format(time.RFC3339)
		case !k.DeletionDate.IsZero():
			deletion = k.DeletionDate.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%v\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Enabled, k.Versions, k.Default, created, k.State, k.Owner, gs, deletion)
	}
	return tw.Flush()
}
