package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestListOutputStyle: every list command prints an aligned table with a
// header by default and a JSON array with --json, offline (a stopped
// node's data directory) and online (through the node holding it).
func TestListOutputStyle(t *testing.T) {
	data := t.TempDir()
	initDataDir(t, data)
	mustCLI(t, "user", "create", "alice", "--data", data)
	mustCLI(t, "key", "create", "photos", "--data", data)
	mustCLI(t, "remote", "add", "eu-west", "https://127.0.0.1:9443", "--access-key", "AKEU", "--secret-key", "s3cr3t-never-shown", "--data", data)

	type listCmd struct {
		args   []string
		header string // first column's heading
		want   string // a value the listing names
		field  string // the JSON field holding it
	}
	cmds := []listCmd{
		{[]string{"user", "list"}, "USER", "alice", "name"},
		{[]string{"key", "list"}, "KEY", "photos", "ID"},
		{[]string{"remote", "list"}, "NAME", "eu-west", "Name"},
	}
	check := func(t *testing.T, c listCmd, extra ...string) {
		t.Helper()
		args := append(append(append([]string{}, c.args...), "--data", data), extra...)
		out := mustCLI(t, args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[0], c.header+"  ") || !strings.Contains(out, c.want) {
			t.Errorf("%v: want a table with header %s naming %s:\n%s", args, c.header, c.want, out)
		}
		// Aligned: every row's second column starts where the header's does.
		col := strings.Index(lines[0], strings.Fields(lines[0])[1])
		for _, l := range lines[1:] {
			if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
				t.Errorf("%v: row not aligned on column %d:\n%s", args, col, out)
			}
		}
		var rows []map[string]any
		js := mustCLI(t, append(args, "--json")...)
		if err := json.Unmarshal([]byte(js), &rows); err != nil {
			t.Fatalf("%v --json: %v\n%s", args, err, js)
		}
		found := false
		for _, r := range rows {
			found = found || r[c.field] == c.want
		}
		if !found {
			t.Errorf("%v --json: no %s=%s in\n%s", args, c.field, c.want, js)
		}
		if strings.Contains(out+js, "s3cr3t-never-shown") {
			t.Errorf("%v printed a remote's secret", args)
		}
	}
	t.Run("offline", func(t *testing.T) {
		for _, c := range cmds {
			check(t, c)
		}
	})
	t.Run("online", func(t *testing.T) {
		testnode.Start(t, testnode.Options{DataDir: data})
		for _, c := range append(cmds, listCmd{[]string{"jobs", "list"}, "JOB", "lifecycle", "Name"}) {
			check(t, c)
		}
	})
}

// TestEndpointFlag: the key and user commands (and the other admin
// commands) reach a server by --endpoint without a data directory, verify
// its certificate unless --insecure, and never create the directory
// --data names.
func TestEndpointFlag(t *testing.T) {
	n := testnode.Start(t, testnode.Options{TLS: true})
	t.Setenv("STRONGROOM_ROOT_ACCESS_KEY", n.AccessKey)
	t.Setenv("STRONGROOM_ROOT_SECRET_KEY", n.SecretKey)
	nowhere := filepath.Join(t.TempDir(), "no-data-here")
	at := func(args ...string) []string {
		return append(args, "--endpoint", n.URL, "--insecure", "--data", nowhere)
	}

	mustCLI(t, at("key", "create", "remote-key")...)
	if out := mustCLI(t, at("key", "list")...); !strings.Contains(out, "remote-key") {
		t.Errorf("key list --endpoint lacks the key it created:\n%s", out)
	}
	if _, err := n.Keyring.DescribeKey(t.Context(), "remote-key"); err != nil {
		t.Errorf("the key created through --endpoint is not on the node: %v", err)
	}
	mustCLI(t, at("key", "rotate", "remote-key")...)
	if out := mustCLI(t, at("key", "list", "--json")...); !strings.Contains(out, `"Versions": 2`) {
		t.Errorf("key list --json after a rotation:\n%s", out)
	}
	if out := mustCLI(t, at("user", "create", "bob")...); !strings.Contains(out, "secret key: ") {
		t.Errorf("user create --endpoint printed %q", out)
	}
	if out := mustCLI(t, at("user", "list")...); !strings.Contains(out, "bob") {
		t.Errorf("user list --endpoint:\n%s", out)
	}
	if out := mustCLI(t, at("jobs", "list")...); !strings.Contains(out, "lifecycle") {
		t.Errorf("jobs list --endpoint:\n%s", out)
	}
	if _, err := os.Stat(nowhere); !os.IsNotExist(err) {
		t.Errorf("--endpoint commands touched --data %s: %v", nowhere, err)
	}

	// The self-signed certificate is refused without --insecure.
	_, err := cli(t, "key", "list", "--endpoint", n.URL, "--data", nowhere)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("key list against an untrusted certificate: %v, want a certificate error", err)
	}
	for _, bad := range []string{"127.0.0.1:9000", "ftp://127.0.0.1/", "https://"} {
		if _, err := cli(t, "key", "list", "--endpoint", bad); err == nil || !strings.Contains(err.Error(), "--endpoint") {
			t.Errorf("--endpoint %q: %v, want a usage error", bad, err)
		}
	}
	// Wrong credentials: the server's refusal, not a silent empty list.
	t.Setenv("STRONGROOM_ROOT_SECRET_KEY", "wrong")
	if _, err := cli(t, at("key", "list")...); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("key list with a wrong secret: %v, want 403", err)
	}
}
