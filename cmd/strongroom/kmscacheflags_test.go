package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestKMSCacheFlags: unset flags keep the defaults (0 in the
// configuration), an explicit 0 turns the cache off (-1), and other values
// pass through.
func TestKMSCacheFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want server.KMSCache
	}{
		{nil, server.KMSCache{}},
		{[]string{"--kms-cache-ttl", "0"}, server.KMSCache{KMSCacheTTL: -1}},
		{[]string{"--kms-cache-ttl=90s", "--kms-cache-size=50"}, server.KMSCache{KMSCacheTTL: 90 * time.Second, KMSCacheSize: 50}},
		{[]string{"--kms-cache-size", "0"}, server.KMSCache{KMSCacheSize: -1}},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var got server.KMSCache
		bindKMSCacheFlags(fs, &got)
		if err := fs.Parse(c.args); err != nil || got != c.want {
			t.Errorf("%v: %+v, %v, want %+v", c.args, got, err, c.want)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bindKMSCacheFlags(fs, new(server.KMSCache))
	if err := fs.Parse([]string{"--kms-cache-ttl", "soon"}); err == nil {
		t.Error("a malformed TTL was accepted")
	}
}
