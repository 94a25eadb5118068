package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

const fsckUsage = `usage: strongroom fsck --data DIR [--root-key-file FILE]

Walks every blob of a stopped deployment and deletes the ones no metadata
references. A node's start-up sweeps only the pending-write journal, so
this is for blobs it cannot know of: left by a version of strongroom from
before the journal, or copied in by hand. It takes time proportional to
the number of blobs, and the node must be stopped.

flags:
`

func fsckCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fsck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fsckUsage); fs.PrintDefaults() }
	dep := bindDeployment(fs)
	scale := bindScaleBackup(fs) // scalebackup.go: refused
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := scale.refuseFsck(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("fsck: unexpected argument %q", fs.Arg(0))
	}
	if err := server.CheckDataDir(dep.data); err != nil {
		return err
	}
	ctx := context.Background()
	node, err := server.Open(ctx, server.Config{DataDir: dep.data, RootKeyFile: dep.rootKeyFile, KMSConfig: dep.kms, NoBackgroundJobs: true,
		Logger: slog.New(slog.DiscardHandler)})
	if errors.Is(err, kms.ErrLocked) || errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("fsck: %s is in use: stop the server first (%w)", dep.data, err)
	}
	if err != nil {
		return err
	}
	defer node.Close(ctx)
	n, err := node.Service.SweepOrphans(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "deleted %d unreferenced blobs\n", n)
	return err
}
