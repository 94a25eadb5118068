package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyPolicyCommands: key grant, revoke, schedule-deletion and
// cancel-deletion on a stopped node (audited to --audit-log) and through
// a running node's admin API; key list shows state, owner and grants, and
// --json the same as JSON; bad arguments fail.
func TestKeyPolicyCommands(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)
	log := filepath.Join(t.TempDir(), "audit.log")
	mustCLI(t, "user", "create", "alice", "--data", data)
	mustCLI(t, "key", "create", "team", "--data", data)

	// Offline.
	mustCLI(t, "key", "grant", "team", "alice", "decrypt", "--data", data, "--audit-log", log)
	out := mustCLI(t, "key", "list", "--data", data)
	if !strings.Contains(out, "OWNER") || !regexpLine(out, "team", "Enabled", "root", "alice:decrypt") {
		t.Errorf("key list after grant:\n%s", out)
	}
	for _, bad := range [][]string{
		{"key", "grant", "team"},
		{"key", "grant", "team", "nobody"},
		{"key", "grant", "team", "alice", "sign"},
		{"key", "schedule-deletion", "team", "--days", "5"},
		{"key", "schedule-deletion", "strongroom-default", "--days", "7"},
		{"key", "cancel-deletion", "team"},
	} {
		if _, err := cli(t, append(bad, "--data", data)...); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
	out = mustCLI(t, "key", "schedule-deletion", "team", "--days", "7", "--data", data, "--audit-log", log)
	if !strings.Contains(out, "pending deletion") || !regexpLine(out, "team", "PendingDeletion") {
		t.Errorf("schedule-deletion printed:\n%s", out)
	}
	raw, _ := os.ReadFile(log)
	for _, want := range []string{`"action":"grant decrypt"`, `"resource":"user/alice"`, `"action":"schedule-deletion 7"`, `"source":"cli"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("audit log lacks %s:\n%s", want, raw)
		}
	}

	// Online: the running node answers.
	n := testnode.Start(t, testnode.Options{DataDir: data})
	for i := 0; ; i++ { // the node writes its address as it starts serving
		if b, _ := os.ReadFile(filepath.Join(data, server.AddrFile)); strings.Contains(string(b), n.Addr) {
			break
		}
		if i == 100 {
			t.Fatal("the node did not write its address")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustCLI(t, "key", "cancel-deletion", "team", "--data", data)
	mustCLI(t, "key", "grant", "team", "alice", "--data", data)
	var keys []server.KeyStatus
	if err := json.Unmarshal([]byte(mustCLI(t, "key", "list", "--json", "--data", data)), &keys); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range keys {
		if k.ID == "team" {
			found = true
			if g := k.Grants["alice"]; !g.Encrypt || !g.Decrypt || k.State != server.KeyDisabled || !k.DeletionDate.IsZero() {
				t.Errorf("team after cancel and grant: %+v", k)
			}
		}
	}
	if !found {
		t.Errorf("key list --json has no team: %+v", keys)
	}
	mustCLI(t, "key", "revoke", "team", "alice", "--data", data)
	if out := mustCLI(t, "key", "list", "--data", data); strings.Contains(out, "alice") {
		t.Errorf("key list after revoke:\n%s", out)
	}
}

// regexpLine reports whether a line of out holds all the words, in order.
func regexpLine(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, w := range words {
			i := strings.Index(rest, w)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(w):]
		}
		if ok {
			return true
		}
	}
	return false
}
