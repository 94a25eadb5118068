package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestReplicationStatusCommand: `replication status BUCKET` prints each
// rule's backlog, lag, counts and last error, from a stopped node's data
// directory and from a running node alike.
func TestReplicationStatusCommand(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := t.TempDir()
	ctx := context.Background()
	// The node's clock runs 90 s behind: the status (on the wall clock)
	// finds the queued version 90 s old.
	now := time.Now().Add(-90 * time.Second)
	clock := func() time.Time { return now }
	n, err := server.Open(ctx, server.Config{DataDir: data, NoBackgroundJobs: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	root := service.Principal{Root: true, User: "root"}
	svc := n.Service
	for _, b := range []string{"src", "dst"} {
		if _, err := svc.CreateBucket(ctx, root, b, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := svc.PutBucketVersioning(ctx, root, b, meta.VersioningEnabled); err != nil {
			t.Fatal(err)
		}
	}
	c := &replication.Config{Rules: []replication.Rule{
		{ID: "to-dst", Enabled: true, Prefix: "ok/", Destination: replication.Destination{Bucket: "dst"}},
		{ID: "to-nowhere", Enabled: true, Prefix: "bad/", Destination: replication.Destination{Bucket: "nosuch"}},
	}}
	if err := n.Meta().UpdateBucket(ctx, "src", func(b *meta.Bucket) error {
		b.Config = map[string][]byte{replication.ConfigName: c.Encode()}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		if _, err := svc.PutObject(ctx, root, service.PutObjectInput{Bucket: "src", Key: key, Body: service.Body{Reader: bytes.NewReader([]byte("12345")), Size: 5}}); err != nil {
			t.Fatal(err)
		}
	}
	put("ok/1")
	put("bad/1")
	if _, err := n.Jobs.RunPass(ctx, service.ReplicationJob); err != nil {
		t.Fatal(err)
	}
	put("ok/2") // stays queued
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}

	check := func(out string) {
		t.Helper()
		rows := map[string][]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			f := strings.Fields(l)
			rows[f[0]] = f
		}
		// RULE DESTINATION ENABLED BACKLOG RETRYING LAG COMPLETED FAILED BYTES LAST-ERROR...
		if r := rows["to-dst"]; len(r) < 10 || r[1] != "dst" || r[3] != "1" || !strings.HasPrefix(r[5], "1m3") || r[6] != "1" || r[7] != "0" || r[8] != "5" || r[9] != "-" {
			t.Errorf("to-dst row %q in\n%s", r, out)
		}
		if r := rows["to-nowhere"]; len(r) < 10 || r[3] != "0" || r[7] != "1" || !strings.Contains(strings.Join(r[9:], " "), "nosuch") {
			t.Errorf("to-nowhere row %q in\n%s", r, out)
		}
	}
	// Stopped node: read from the data directory.
	check(mustCLI(t, "replication", "status", "src", "--data", data))
	if _, err := cli(t, "replication", "status", "nosuchbucket", "--data", data); err == nil {
		t.Fatal("status of a missing bucket succeeded")
	}
	// Running node: through the admin API.
	testnode.Start(t, testnode.Options{DataDir: data, Now: clock})
	check(mustCLI(t, "replication", "status", "src", "--data", data))
}
