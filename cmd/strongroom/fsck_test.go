package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// TestFsck: fsck deletes a blob no metadata references (one the journal
// does not know of), keeps the referenced ones, and refuses a running node.
func TestFsck(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n, err := server.Open(ctx, server.Config{DataDir: dir, NoBackgroundJobs: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	root := service.Principal{User: "root", Root: true}
	if _, err := n.Service.CreateBucket(ctx, root, "bkt", "", ""); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 100<<10)
	if _, err := n.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: "bkt", Key: "k", Body: service.Body{Reader: bytes.NewReader(body), Size: int64(len(body))}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"fsck", "--data", dir}, &out, &out); err == nil || !strings.Contains(err.Error(), "stop the server") {
		t.Fatalf("fsck on a running node: %v", err)
	}
	n.Close(ctx)
	// A blob written behind the journal's back.
	blobs, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := blobs.Create(ctx)
	w.Write(body)
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deleted 1 unreferenced blobs", "deleted 0 unreferenced blobs"} {
		out.Reset()
		if err := run([]string{"fsck", "--data", dir}, &out, &out); err != nil || !strings.Contains(out.String(), want) {
			t.Fatalf("fsck: %q, %v; want %q", out.String(), err, want)
		}
	}
	n, err = server.Open(ctx, server.Config{DataDir: dir, NoBackgroundJobs: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(ctx)
	o, err := n.Service.GetObject(ctx, root, service.GetObjectInput{Bucket: "bkt", Key: "k"})
	if err != nil {
		t.Fatalf("referenced object after fsck: %v", err)
	}
	o.Body.Close()
}
