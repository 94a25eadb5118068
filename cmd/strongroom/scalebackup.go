package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// scaleBackup is backup's --meta and --blobs: a scale-out deployment,
// read through its stores while its nodes serve.
type scaleBackup struct {
	meta  server.MetaConfig
	blobs server.BlobsConfig
}

const scaleBackupUsage = `
  With --meta postgres://… [--blobs s3://…|file:///…] it backs up a scale-out
  deployment through its stores while its nodes serve (each object version
  whole, but not one point in time); --data names a node's data directory for
  the root credentials. It restores into an embedded data directory (strongroom
  restore), which strongroom migrate moves back to scale-out`

func bindScaleBackup(fs *flag.FlagSet) *scaleBackup {
	s := &scaleBackup{}
	bindMetaFlags(fs, &s.meta)
	bindBlobsFlags(fs, &s.blobs)
	return s
}

// run writes the backup when --meta names a scale-out store (ok false:
// it does not, back up the data directory).
func (s *scaleBackup) run(ctx context.Context, dep *deployment, w io.Writer, base *backup.Base) (st *backup.Stats, ok bool, err error) {
	if s.meta.Meta == "" {
		return nil, false, nil
	}
	blobs := s.blobs
	if blobs.Blobs == "" { // the blobs stayed in the data directory
		dir, err := filepath.Abs(filepath.Join(dep.data, "blobs"))
		if err != nil {
			return nil, true, err
		}
		blobs.Blobs = "file://" + filepath.ToSlash(dir)
	}
	st, err = server.BackupScaleOut(ctx, s.meta, blobs, dep.data, w, base)
	return st, true, err
}

// refuseFsck refuses fsck of a scale-out deployment: its nodes share the
// tier, and a walk from outside cannot know which young unreferenced blob
// is another node's write about to be recorded. The nodes' start-up sweep
// removes orphans older than an hour.
func (s *scaleBackup) refuseFsck() error {
	if s.meta.Meta == "" && s.blobs.Blobs == "" {
		return nil
	}
	return errors.New("fsck: works on an embedded data directory only; a scale-out deployment's nodes sweep orphans older than an hour at start")
}
