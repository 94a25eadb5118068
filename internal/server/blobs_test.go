package server

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob"
	blobs3 "github.com/strongroom-dev/strongroom/internal/blob/s3"
)

func TestS3BlobsConfig(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want blobs3.Config
		err  string
	}{
		{url: "s3://b?endpoint=http://127.0.0.1:9000", want: blobs3.Config{Bucket: "b", Endpoint: "http://127.0.0.1:9000", Pad: blob.PadQuantum}},
		{url: "s3://b/some/prefix/?endpoint=https://s3.example.com&region=eu-west-1&insecure=true",
			want: blobs3.Config{Bucket: "b", Prefix: "some/prefix/", Endpoint: "https://s3.example.com", Region: "eu-west-1", Insecure: true, Pad: blob.PadQuantum}},
		{url: "s3://b?endpoint=" + url.QueryEscape("http://[::1]:9000"), want: blobs3.Config{Bucket: "b", Endpoint: "http://[::1]:9000", Pad: blob.PadQuantum}},
		{url: "s3://b", err: "endpoint"},
		{url: "s3://b?endpoint=ftp://x", err: "endpoint"},
		{url: "s3://?endpoint=http://x", err: "no bucket"},
		{url: "s3://b?endpoint=http://x&insecure=maybe", err: "insecure"},
		{url: "s3://b?endpoint=http://x&secret=y", err: "unknown parameter"},
		{url: "s3://ak:sk@b?endpoint=http://x", err: "environment"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := S3BlobsConfig(u)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one about %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
}

func TestOpenBlobsRefuses(t *testing.T) {
	t.Setenv(EnvBlobsAccessKey, "")
	t.Setenv(EnvBlobsSecretKey, "")
	for spec, want := range map[string]string{
		"s3://b?endpoint=http://127.0.0.1:1": EnvBlobsAccessKey,
		"file://relative/dir":                "file:///ABSOLUTE/PATH",
		"gs://b":                             "unknown scheme",
	} {
		_, err := openBlobs(context.Background(), Config{DataDir: t.TempDir(), BlobsConfig: BlobsConfig{Blobs: spec}}, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--blobs %s: %v, want an error naming %q", spec, err, want)
		}
	}
}

// Two nodes on one shared directory: each writes its temp files in its own
// tmp/NODE, and the second's start does not sweep the first's write in
// progress.
func TestSharedFileTier(t *testing.T) {
	shared := t.TempDir()
	open := func() *Node {
		n, err := Open(context.Background(), Config{DataDir: t.TempDir(), RootKey: make([]byte, 32), Logger: slog.New(slog.DiscardHandler),
			NoBackgroundJobs: true, BlobsConfig: BlobsConfig{Blobs: "file://" + shared}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close(context.Background()) })
		return n
	}
	a := open()
	w, err := a.blobs.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("in progress on node a")); err != nil {
		t.Fatal(err)
	}
	b := open()
	id, err := w.Commit(context.Background())
	if err != nil {
		t.Fatalf("node a's write after node b started: %v", err)
	}
	if _, err := os.Stat(filepath.Join(shared, id[0:2], id[2:4], id)); err != nil {
		t.Fatal(err)
	}
	r, err := b.blobs.Open(context.Background(), id)
	if err != nil {
		t.Fatalf("node b opening node a's blob: %v", err)
	}
	r.Close()
	ents, err := os.ReadDir(filepath.Join(shared, "tmp"))
	if err != nil || len(ents) != 2 {
		t.Fatalf("shared tmp holds %d entries (%v), want one per node", len(ents), err)
	}
}
