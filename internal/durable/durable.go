// Package durable writes small files (keyring, root key, root credentials)
// so that they survive a crash once the call returns: a temp file with a
// unique name in the same directory is written and fsynced, then moved into
// place, then the directory is fsynced. A crash leaves the old file or the
// new one, never a mix, and at worst a temp file that RemoveStaleTemps
// sweeps.
package durable

import (
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix is the name prefix of the temp files written for base.
func TempPrefix(base string) string { return "." + base + ".tmp-" }

// WriteFile replaces path with data (mode perm) atomically and durably.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := dirOf(path)
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// CreateFile creates path holding data (mode perm) atomically and durably,
// and never replaces an existing file: if path exists (or another process
// creates it first) the error matches fs.ErrExist and path is untouched.
// The temp file is hard-linked into place, which fails rather than
// overwrites.
func CreateFile(path string, data []byte, perm os.FileMode) error {
	if _, err := os.Lstat(path); err == nil {
		return &os.PathError{Op: "create", Path: path, Err: os.ErrExist}
	}
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	err = os.Link(tmp, path)
	if rerr := os.Remove(tmp); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	return SyncDir(dirOf(path))
}

// writeTemp writes data to a new, uniquely named, fsynced temp file next
// to path and returns its name.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(dirOf(path), TempPrefix(filepath.Base(path))+"*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	if err = f.Chmod(perm); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// RemoveStaleTemps removes the temp files a crash may have left next to
// path.
func RemoveStaleTemps(path string) {
	dir := dirOf(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := TempPrefix(filepath.Base(path))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// SyncDir fsyncs a directory, making the names in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func dirOf(path string) string {
	if dir := filepath.Dir(path); dir != "" {
		return dir
	}
	return "."
}
