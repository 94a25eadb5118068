package main

import (
	"strings"
	"testing"
)

// `key migrate --finish` names the old provider with --from, in --to's
// syntax: without it, or with a spec that does not parse, it stops before
// reaching any server.
func TestKeyMigrateFinishNeedsFrom(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"key", "migrate", "--finish", "--data", t.TempDir()}, "--from"},
		{[]string{"key", "migrate", "--finish", "--from", "nonsense", "--data", t.TempDir()}, "nonsense"},
	} {
		if _, err := cli(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}
