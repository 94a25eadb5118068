package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

const backupUsage = `usage: strongroom backup --data DIR --out PATH [--root-key-file FILE]
  Writes a consistent backup of the deployment in DIR to PATH ("-": standard
  output): the metadata, every blob it references, the sealed keyring and root
  credentials. A running server is asked for it (the backup is taken while it
  serves); a stopped one is read directly. The root key is NOT in the backup:
  keep it apart: nothing in the backup opens without it`

func backupCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, backupUsage) }
	out := fs.String("out", "", `the backup file ("-": standard output)`)
	dep := bindDeployment(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New(backupUsage)
	}
	ctx := context.Background()
	w, commit, abort, err := createOutput(*out, stdout)
	if err != nil {
		return err
	}
	st, err := openLocalDir(dep, func(dir string) (*backup.Stats, error) { return server.BackupOffline(ctx, dir, w) })
	if errors.Is(err, bolt.ErrLocked) {
		st, err = backupOnline(ctx, dep, w)
	}
	if err == nil {
		err = commit()
	}
	if err != nil {
		abort()
		return err
	}
	fmt.Fprintf(stderr, "backup: %d blobs (%d bytes), %d bytes of metadata, files %v\n", st.Blobs, st.BlobBytes, st.MetaBytes, st.Files)
	fmt.Fprintln(stderr, "backup: the root key is not in the backup; keep it apart")
	return nil
}

// backupOnline streams the backup from the running node and checks it
// arrived whole (its trailer), by reading it back as it is written.
func backupOnline(ctx context.Context, dep *deployment, w io.Writer) (*backup.Stats, error) {
	resp, err := dep.do(ctx, http.MethodGet, "backup", nil, nil, 0)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return backup.Check(io.TeeReader(resp.Body, w))
}

// createOutput opens the backup's destination: a file written as
// PATH.partial and renamed into place by commit (abort removes it), so a
// failed backup never leaves a file that looks complete.
func createOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.OpenFile(path+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, nil, err
	}
	abort = func() {
		f.Close()
		os.Remove(f.Name())
	}
	commit = func() error {
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err == nil {
			err = durable.SyncDir(filepath.Dir(path)) // the rename, durable
		}
		return err
	}
	return f, commit, abort, nil
}

const restoreUsage = `usage: strongroom restore --from PATH --data DIR
  Restores a backup ("-": standard input) into DIR, which must not exist or be
  empty. Start the server on DIR with the root key of the deployment backed up`

func restoreCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, restoreUsage) }
	from := fs.String("from", "", `the backup file ("-": standard input)`)
	data := fs.String("data", "", "the data directory to restore into (new or empty)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *from == "" || *data == "" || fs.NArg() > 0 {
		return errors.New(restoreUsage)
	}
	var r io.Reader = os.Stdin
	if *from != "-" {
		f, err := os.Open(*from)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	st, err := server.Restore(context.Background(), r, *data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d blobs (%d bytes) and %d bytes of metadata into %s\n", st.Blobs, st.BlobBytes, st.MetaBytes, filepath.Clean(*data))
	fmt.Fprintln(stdout, "start the server on it with the root key of the deployment backed up")
	return nil
}
