package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/strongroom-dev/strongroom/internal/deploycopy"
	"github.com/strongroom-dev/strongroom/internal/server"
)

const migrateUsage = `usage: strongroom migrate --data DIR --to postgres://USER@HOST:PORT/DB?sslmode=disable
                         --blobs s3://BUCKET?endpoint=URL[&region=R][&insecure=true]|file:///DIR [--json]

Copies the stopped embedded deployment in DIR into a scale-out one: the
metadata into PostgreSQL (password in the URL or $PGPASSWORD), the blobs into
the data tier (credentials of an S3 tier from $` + server.EnvBlobsAccessKey + ` and
$` + server.EnvBlobsSecretKey + `). Buckets and their configurations, users and
access keys, remotes, key policies, every object version and delete marker,
multipart uploads in progress and the builtin keyring are copied; blobs byte
for byte (nothing is decrypted), so the scale-out nodes must be started with
this deployment's root key (copy DIR/root.key and DIR/root-credentials.json
into each node's data directory). Not copied: background job state and the
replication backlog (drain it first: strongroom replication status).

The target must be empty. An interrupted run is resumed by running the same
command again; a finished one is not repeated. DIR is left as it was.

flags:
`

func migrateCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); fs.PrintDefaults() }
	data := fs.String("data", "./data", "data directory of the stopped embedded deployment")
	var to server.MetaConfig
	var blobs server.BlobsConfig
	fs.StringVar(&to.Meta, "to", "", "the target metadata store: `postgres://USER@HOST:PORT/DB?sslmode=disable`")
	bindBlobsFlags(fs, &blobs)
	out := bindOutput(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || to.Meta == "" || blobs.Blobs == "" {
		return errors.New(migrateUsage + "  --to and --blobs are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	last := time.Now()
	progress := func(st deploycopy.Stats) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(stderr, "migrate: bucket %s: %d versions copied, %d already there, %d blobs (%d bytes)\n",
			st.Bucket, st.Versions, st.Skipped, st.Blobs, st.BlobBytes)
	}
	st, err := server.MigrateToScaleOut(ctx, *data, to, blobs, deploycopy.Options{Progress: progress})
	if err != nil {
		if st != nil {
			fmt.Fprintf(stderr, "migrate: stopped after copying %d versions: run the same command again to resume\n", st.Versions)
		}
		return err
	}
	return out.print(stdout, st, func() *table {
		t := newTable("WHAT", "COUNT")
		t.add("buckets", st.Buckets)
		t.add("users", st.Users)
		t.add("remotes", st.Remotes)
		t.add("key policies", st.KeyPolicies)
		t.add("keyring", st.Keyring)
		t.add("versions copied", st.Versions)
		t.add("delete markers", st.DeleteMarkers)
		t.add("versions already there", st.Skipped)
		t.add("uploads in progress", st.Uploads)
		t.add("parts", st.Parts)
		t.add("blobs", st.Blobs)
		t.add("blob bytes", st.BlobBytes)
		t.add("replication backlog (not copied)", st.ReplicationBacklog)
		return t
	})
}
