package main

import (
	"bytes"
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

const backupUsage = `usage: strongroom backup --data DIR --out PATH [--since PREVIOUS] [--root-key-file FILE]
  Writes a consistent backup of the deployment in DIR to PATH ("-": standard
  output): the metadata, every blob it references, the sealed keyring and root
  credentials. A running server is asked for it (the backup is taken while it
  serves); a stopped one is read directly. The root key is NOT in the backup:
  keep it apart: nothing in the backup opens without it.
  --since PREVIOUS writes an increment: the full metadata, and only the blobs
  the archive PREVIOUS (a full backup or an increment) does not have; restore
  it with every archive of its chain`

func backupCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, backupUsage+scaleBackupUsage) }
	out := fs.String("out", "", `the backup file ("-": standard output)`)
	since := fs.String("since", "", "`PREVIOUS` archive to write an increment over (only the blobs it lacks)")
	dep := bindDeployment(fs)
	scale := bindScaleBackup(fs) // scalebackup.go
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New(backupUsage + scaleBackupUsage)
	}
	ctx := context.Background()
	base, err := readBase(*since)
	if err != nil {
		return err
	}
	w, commit, abort, err := createOutput(*out, stdout)
	if err != nil {
		return err
	}
	st, scaled, err := scale.run(ctx, dep, w, base)
	if !scaled {
		st, err = openLocalDir(dep, func(dir string) (*backup.Stats, error) { return server.BackupOfflineSince(ctx, dir, w, base) })
	}
	if errors.Is(err, bolt.ErrLocked) {
		st, err = backupOnline(ctx, dep, w, base)
	}
	if err == nil {
		err = commit()
	}
	if err != nil {
		abort()
		return err
	}
	fmt.Fprintf(stderr, "backup: %d blobs (%d bytes), %d bytes of metadata, files %v\n", st.Blobs, st.BlobBytes, st.MetaBytes, st.Files)
	if base != nil {
		fmt.Fprintf(stderr, "backup: an increment over %s (%s): %d blobs left to it; restore with every archive of the chain\n", *since, base.ID, st.Skipped)
	}
	fmt.Fprintln(stderr, "backup: the root key is not in the backup; keep it apart")
	return nil
}

// backupOnline streams the backup from the running node and checks it
// arrived whole (its trailer), by reading it back as it is written.
func backupOnline(ctx context.Context, dep *deployment, w io.Writer, base *backup.Base) (*backup.Stats, error) {
	method, body := http.MethodGet, []byte(nil)
	if base != nil {
		var b bytes.Buffer
		if err := backup.WriteBase(&b, base); err != nil {
			return nil, err
		}
		method, body = http.MethodPost, b.Bytes()
	}
	resp, err := dep.do(ctx, method, "backup", nil, body, 0)
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

const restoreUsage = `usage: strongroom restore --from PATH [--from PATH...] --data DIR
  Restores a backup ("-": standard input) into DIR, which must not exist or be
  empty. Start the server on DIR with the root key of the deployment backed up.
  An increment (backup --since) restores with every archive of its chain:
  --from each of them, in any order`

func restoreCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, restoreUsage) }
	var from pathList
	fs.Var(&from, "from", "the backup file (\"-\": standard input); repeat it for a chain: a full backup and its increments, in any order")
	data := fs.String("data", "", "the data directory to restore into (new or empty)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if len(from) == 0 || *data == "" || fs.NArg() > 0 {
		return errors.New(restoreUsage)
	}
	rs, closeAll, err := openChain(from)
	if err != nil {
		return err
	}
	defer closeAll()
	st, err := server.RestoreChain(context.Background(), rs, *data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d blobs (%d bytes) and %d bytes of metadata into %s\n", st.Blobs, st.BlobBytes, st.MetaBytes, filepath.Clean(*data))
	fmt.Fprintln(stdout, "start the server on it with the root key of the deployment backed up")
	return nil
}

// pathList is a repeatable flag of paths (which may hold commas).
type pathList []string

func (p *pathList) String() string     { return fmt.Sprint(*p) }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

// readBase reads what an increment over the archive at path needs (nil
// for a full backup).
func readBase(path string) (*backup.Base, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := backup.ReadBase(f)
	if err != nil {
		return nil, fmt.Errorf("--since %s: %w", path, err)
	}
	return b, nil
}

// openChain opens the archives to restore: one (a file or "-"), or the
// files of a chain, ordered from the newest increment down to the full
// backup by their headers.
func openChain(paths []string) (rs []io.Reader, closeAll func(), err error) {
	if len(paths) == 1 && paths[0] == "-" {
		return []io.Reader{os.Stdin}, func() {}, nil
	}
	var files []*os.File
	closeAll = func() {
		for _, f := range files {
			f.Close()
		}
	}
	hs := make([]*backup.Header, len(paths))
	for i, p := range paths {
		if p == "-" {
			closeAll()
			return nil, nil, errors.New("restore: a chain of archives is read from files, not standard input")
		}
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		files = append(files, f)
		if hs[i], err = backup.ReadHeader(f); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	order := []int{0}
	if len(paths) > 1 {
		if order, err = backup.OrderChain(hs); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	for _, i := range order {
		rs = append(rs, files[i])
	}
	return rs, closeAll, nil
}
