package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestInventoryRunCommand: `strongroom inventory run BUCKET ID` delivers a
// report from a stopped node's data directory, then through a running
// node's admin API; an unknown ID is an error either way.
func TestInventoryRunCommand(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	root := service.Principal{User: "root", Root: true}
	n, err := server.Open(ctx, server.Config{DataDir: data, NoBackgroundJobs: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"src", "dst"} {
		if _, err := n.Service.CreateBucket(ctx, root, b, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	err = n.Service.PutBucketInventory(ctx, root, "src", &inventory.Config{ID: "daily", Enabled: true, Frequency: inventory.Daily,
		Destination: inventory.Destination{Bucket: "dst", BucketARN: "arn:aws:s3:::dst", Format: inventory.CSV}})
	if err != nil {
		t.Fatal(err)
	}
	n.Close(ctx)

	delivered := func(out string) string {
		t.Helper()
		key, ok := strings.CutPrefix(strings.TrimSpace(out), "delivered: ")
		if !ok || !strings.HasPrefix(key, "src/daily/") || !strings.HasSuffix(key, "/manifest.json") {
			t.Fatalf("output %q", out)
		}
		return key
	}
	offline := delivered(mustCLI(t, "inventory", "run", "src", "daily", "--data", data))
	if _, err := cli(t, "inventory", "run", "src", "nope", "--data", data); err == nil {
		t.Fatal("an unknown inventory ran offline")
	}

	node := testnode.Start(t, testnode.Options{DataDir: data})
	// The node writes its address file as it starts serving, after Start.
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(data, server.AddrFile)); err == nil {
			break
		}
		if i == 500 {
			t.Fatal("the node wrote no address file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	online := delivered(mustCLI(t, "inventory", "run", "src", "daily", "--data", data))
	for _, k := range []string{offline, online} {
		if _, _, err := node.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: "dst", Key: k}); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if _, err := cli(t, "inventory", "run", "src", "nope", "--data", data); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("an unknown inventory through the server: %v", err)
	}
	if _, err := cli(t, "inventory", "list"); err == nil {
		t.Fatal("inventory list is not a command")
	}
}
