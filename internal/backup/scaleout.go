package backup

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/deploycopy"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// ScaleOutSource is a scale-out deployment (PostgreSQL metadata, a shared
// data tier) a backup reads through its stores, while its nodes serve.
type ScaleOutSource struct {
	Meta  meta.Store
	Blobs blob.Store
	// Files are sealed files by archive name (the nodes' shared keyring,
	// root credentials from a node's data directory).
	Files map[string][]byte
	// TempDir holds the metadata while the archive is written ("": the
	// system's).
	TempDir string
	Since   *Base
}

// WriteScaleOut writes a backup of src to w in the archive format Write
// writes, so it restores (with RestoreChain) into an embedded data
// directory, from which strongroom migrate moves it back to scale-out.
// The metadata is copied version by version into a bbolt file (the
// archive's meta.db) while the blobs of each version stream into the
// archive under their own IDs, straight from the tier.
//
// A scale-out store has no snapshot to read: each version is copied whole
// (its record with every blob it names), but the backup is not one point
// in time; a version deleted while the backup runs may be in it or not.
func WriteScaleOut(ctx context.Context, w io.Writer, src ScaleOutSource) (*Stats, error) {
	tmp, err := os.MkdirTemp(src.TempDir, ".backup-scaleout-*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	metaPath := filepath.Join(tmp, metaName)
	scratch, err := bolt.OpenScratch(metaPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if scratch != nil {
			scratch.Close()
		}
	}()
	tw := tar.NewWriter(w)
	now := time.Now().UTC()
	if err := writeHeader(tw, src.Since, now); err != nil {
		return nil, err
	}
	st := &Stats{}
	copyBlob := func(ctx context.Context, id string, r blob.Reader) (string, error) {
		if src.Since.has(id) {
			st.Skipped++
			return id, nil
		}
		size := r.Size()
		whole, err := addLiveBlob(tw, blobsDir+id, r, size, now)
		if whole { // an entry of size bytes, if not the blob's (the trailer counts entries)
			st.Blobs++
			st.BlobBytes += size
		}
		if err != nil {
			return "", err
		}
		return id, nil
	}
	_, err = deploycopy.Copy(ctx, deploycopy.Source{Meta: src.Meta, Blobs: src.Blobs, ID: "backup"},
		deploycopy.Target{Meta: scratch}, deploycopy.Options{NoMarker: true, CopyBlob: copyBlob})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	refs, err := os.Create(filepath.Join(tmp, refsName))
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer refs.Close()
	bw := bufio.NewWriter(refs)
	if err := scratch.BlobRefs(ctx, func(id string) error { _, err := fmt.Fprintln(bw, id); return err }); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	err = errors.Join(bw.Flush(), scratch.Close())
	scratch = nil
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	for _, e := range []struct {
		name, path string
		st         *int64
	}{{metaName, metaPath, &st.MetaBytes}, {refsName, refs.Name(), nil}} {
		f, err := os.Open(e.path)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = addReader(tw, e.name, f, fi.Size(), now)
		}
		f.Close()
		if err != nil {
			return nil, err
		}
		if e.st != nil {
			*e.st = fi.Size()
		}
	}
	for name, b := range src.Files {
		if err := addBytes(tw, filesDir+name, b, now); err != nil {
			return nil, err
		}
		st.Files = append(st.Files, name)
	}
	if err := writeTrailer(tw, st, now); err != nil {
		return nil, err
	}
	return st, nil
}

// addLiveBlob is addReader for a blob of a live tier, which may vanish
// while it is read (its version deleted meanwhile). A read error then
// fills the rest of the entry with zeros, so the archive stays whole, and
// is returned: the copy drops the version if it is gone (else the backup
// fails), and the restored zeros are a blob no record references, which
// the start-up sweep removes. whole reports that the entry was written
// in full (the blob's bytes or the zeros).
func addLiveBlob(tw *tar.Writer, name string, r io.ReaderAt, size int64, t time.Time) (whole bool, err error) {
	if err := writeEntryHeader(tw, name, size, t); err != nil {
		return false, err
	}
	src := &readErr{r: io.NewSectionReader(r, 0, size)}
	n, err := io.CopyN(tw, src, size)
	if err == nil {
		return true, nil
	}
	if src.err == nil {
		return false, fmt.Errorf("backup: %s: %w", name, err) // the archive's own write failed
	}
	if _, werr := io.CopyN(tw, zeroReader{}, size-n); werr != nil {
		return false, fmt.Errorf("backup: %s: %w", name, werr)
	}
	return true, fmt.Errorf("backup: %s: %w", name, src.err)
}

// readErr keeps the error of the reader it wraps.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
		if err == io.EOF {
			e.err = io.ErrUnexpectedEOF // CopyN asked for no more than size
		}
	}
	return n, err
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
