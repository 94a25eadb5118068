// Package backup writes and restores a backup of an embedded deployment: a
// consistent snapshot of the metadata, the blobs that snapshot references
// and the sealed files beside them (keyring, root credentials), as one tar
// stream. It never holds the root key: everything in a backup is sealed
// under it or is ciphertext, except the data of objects stored without
// encryption, so the root key is backed up apart.
//
// Archive layout, in this order:
//
//	strongroom-backup.json   Header: format, creation time, ID, base ID
//	meta.db                  the metadata (a bbolt file)
//	blob-refs.txt            every blob ID the metadata references, one a line
//	files/NAME               keyring, root-credentials.json
//	blobs/ID                 every blob the metadata references, or (an
//	                         increment) those its base archive lacks
//	strongroom-backup-end.json  Trailer: counts; its absence marks a truncated backup
package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// Format names this archive layout; version 1 (no ID, no blob-refs.txt,
// never an increment) is still read.
const (
	Format   = "strongroom-backup/2"
	formatV1 = "strongroom-backup/1"
)

// Archive entry names.
const (
	headerName  = "strongroom-backup.json"
	trailerName = "strongroom-backup-end.json"
	metaName    = "meta.db"
	refsName    = "blob-refs.txt"
	filesDir    = "files/"
	blobsDir    = "blobs/"
)

// Header opens an archive.
type Header struct {
	Format  string    `json:"format"`
	Created time.Time `json:"created"`
	// RootKey reminds whoever reads the archive that it is not in it.
	RootKey string `json:"rootKey"`
	// ID names this archive; Base, for an increment, the archive it
	// builds on (restored with it: see RestoreChain).
	ID   string `json:"id,omitempty"`
	Base string `json:"base,omitempty"`
}

// Stats is what a backup held (its trailer) or a restore wrote.
type Stats struct {
	MetaBytes int64    `json:"metaBytes"`
	Blobs     int64    `json:"blobs"`
	BlobBytes int64    `json:"blobBytes"`
	Files     []string `json:"files"`
	// Skipped counts the referenced blobs an increment leaves to its base.
	Skipped int64 `json:"skipped,omitempty"`
}

// Source is the deployment a backup reads.
type Source struct {
	Meta  *bolt.Store
	Blobs blob.Store
	// Files are copied as they are (sealed files), by archive name.
	Files map[string]string
	// TempDir holds the metadata snapshot and the list of its blobs while
	// the archive is written ("": the system's).
	TempDir string
	// Since makes the archive an increment over a previous one: only the
	// blobs that archive's metadata did not reference are written.
	Since *Base
}

// Write writes a backup of src to w. The caller keeps the blobs of the
// snapshot from being deleted until Write returns (a running node pins
// them; a stopped one deletes nothing).
func Write(ctx context.Context, w io.Writer, src Source) (*Stats, error) {
	snap, refs, err := snapshot(ctx, src)
	if err != nil {
		return nil, err
	}
	defer os.Remove(snap.Name())
	defer snap.Close()
	defer os.Remove(refs.Name())
	defer refs.Close()

	tw := tar.NewWriter(w)
	st := &Stats{}
	now := time.Now().UTC()
	if err := writeHeader(tw, src.Since, now); err != nil {
		return nil, err
	}
	fi, err := snap.Stat()
	if err != nil {
		return nil, err
	}
	if err := addReader(tw, metaName, snap, fi.Size(), now); err != nil {
		return nil, err
	}
	st.MetaBytes = fi.Size()
	if fi, err = refs.Stat(); err != nil {
		return nil, err
	}
	if err := addReader(tw, refsName, refs, fi.Size(), now); err != nil {
		return nil, err
	}
	if _, err := refs.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	for name, path := range src.Files {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		if err := addBytes(tw, filesDir+name, b, now); err != nil {
			return nil, err
		}
		st.Files = append(st.Files, name)
	}
	sc := bufio.NewScanner(refs)
	for sc.Scan() {
		id := sc.Text()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if src.Since.has(id) {
			st.Skipped++
			continue
		}
		n, err := addBlob(ctx, tw, src.Blobs, id, now)
		if err != nil {
			return nil, err
		}
		st.Blobs++
		st.BlobBytes += n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("backup: reading the blob list: %w", err)
	}
	if err := writeTrailer(tw, st, now); err != nil {
		return nil, err
	}
	return st, nil
}

// snapshot copies the metadata as of one read transaction to a temp file,
// and the IDs of the blobs that state references to another, so the
// transaction is short and the archive can be written at any pace after.
func snapshot(ctx context.Context, src Source) (snap, refs *os.File, err error) {
	if snap, err = os.CreateTemp(src.TempDir, ".backup-meta-*"); err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	if refs, err = os.CreateTemp(src.TempDir, ".backup-blobs-*"); err != nil {
		snap.Close()
		os.Remove(snap.Name())
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	fail := func(err error) (*os.File, *os.File, error) {
		for _, f := range []*os.File{snap, refs} {
			f.Close()
			os.Remove(f.Name())
		}
		return nil, nil, err
	}
	bw := bufio.NewWriter(refs)
	err = src.Meta.Snapshot(ctx, func(s *bolt.Snapshot) error {
		if _, err := s.WriteTo(snap); err != nil {
			return err
		}
		return s.BlobRefs(func(id string) error {
			_, err := fmt.Fprintln(bw, id)
			return err
		})
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fail(fmt.Errorf("backup: metadata snapshot: %w", err))
	}
	for _, f := range []*os.File{snap, refs} {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fail(fmt.Errorf("backup: %w", err))
		}
	}
	return snap, refs, nil
}

// writeHeader opens an archive (an increment over since, if not nil).
func writeHeader(tw *tar.Writer, since *Base, now time.Time) error {
	h := Header{Format: Format, Created: now, RootKey: "not included: back the root key up apart; nothing here opens without it", ID: newArchiveID()}
	if since != nil {
		h.Base = since.ID
	}
	hdr, _ := json.Marshal(h)
	return addBytes(tw, headerName, hdr, now)
}

// writeTrailer closes an archive with its counts.
func writeTrailer(tw *tar.Writer, st *Stats, now time.Time) error {
	end, _ := json.Marshal(st)
	if err := addBytes(tw, trailerName, end, now); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func addBytes(tw *tar.Writer, name string, b []byte, t time.Time) error {
	return addReader(tw, name, bytes.NewReader(b), int64(len(b)), t)
}

func addReader(tw *tar.Writer, name string, r io.Reader, size int64, t time.Time) error {
	if err := writeEntryHeader(tw, name, size, t); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

// writeEntryHeader starts a regular file entry of size bytes.
func writeEntryHeader(tw *tar.Writer, name string, size int64, t time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: t, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func addBlob(ctx context.Context, tw *tar.Writer, blobs blob.Store, id string, t time.Time) (int64, error) {
	r, err := blobs.Open(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("backup: blob %s: %w", id, err)
	}
	defer r.Close()
	size := r.Size()
	return size, addReader(tw, blobsDir+id, io.NewSectionReader(r, 0, size), size, t)
}

// Target is where a restore writes: an empty data directory.
type Target struct {
	Dir string
	// CreateBlob starts a blob to be committed under a given ID.
	CreateBlob func(ctx context.Context, id string) (blob.Writer, error)
	// MetaFile is the metadata's path; Files maps archive file names to
	// their paths.
	MetaFile string
	Files    map[string]string
}

// ErrTruncated: the archive ended before its trailer.
var ErrTruncated = errors.New("backup: the archive is truncated (no trailer): not a complete backup")

// Restore reads an archive written by Write into t. It checks the archive
// is whole (header, trailer and counts) before it returns success; on
// failure what it wrote stays for inspection and is not a usable
// directory until restored again.
func Restore(ctx context.Context, r io.Reader, t *Target) (*Stats, error) {
	a, err := read(ctx, r, t, readOpts{full: true})
	if err != nil {
		return nil, err
	}
	return a.stats, nil
}

// Check reads a whole archive, as Restore does, without writing it
// anywhere: it proves the archive complete.
func Check(r io.Reader) (*Stats, error) {
	a, err := read(context.Background(), r, nil, readOpts{})
	if err != nil {
		return nil, err
	}
	return a.stats, nil
}

// readOpts tune read for the archives of a chain.
type readOpts struct {
	refs     bool                // collect the blob-refs.txt list
	skipBody bool                // t nil: take sizes from the entries' headers (seeks over a file's data)
	full     bool                // refuse an increment (before writing anything)
	baseOnly bool                // restore only blobs (a base under an increment)
	want     map[string]struct{} // baseOnly: the blobs to restore
}

// archiveInfo is what read found in an archive.
type archiveInfo struct {
	header Header
	stats  *Stats
	refs   map[string]struct{}
	// restored holds the blobs written into the target.
	restored map[string]struct{}
}

// read reads an archive into t (nil: nowhere).
func read(ctx context.Context, r io.Reader, t *Target, o readOpts) (*archiveInfo, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil || h.Name != headerName {
		return nil, fmt.Errorf("backup: not a strongroom backup (no %s first)", headerName)
	}
	var hdr Header
	if err := json.NewDecoder(io.LimitReader(tr, 1<<16)).Decode(&hdr); err != nil || (hdr.Format != Format && hdr.Format != formatV1) {
		return nil, fmt.Errorf("backup: unknown archive format %q", hdr.Format)
	}
	if o.full && hdr.Base != "" {
		return nil, fmt.Errorf("%w: archive %s builds on %s", ErrIncrement, hdr.ID, hdr.Base)
	}
	a := &archiveInfo{header: hdr, restored: map[string]struct{}{}}
	st := &Stats{}
	// A restore keeps the blob list, to prove every blob it names restored.
	keepRefs := o.refs || t != nil && !o.baseOnly
	var want *Stats
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, ErrTruncated
			}
			return nil, fmt.Errorf("backup: %w", err)
		}
		var n int64
		switch name := h.Name; {
		case o.skipBody && t == nil && name != trailerName && name != refsName:
			n = h.Size
			switch {
			case name == metaName:
				st.MetaBytes = n
			case strings.HasPrefix(name, blobsDir):
				st.Blobs++
				st.BlobBytes += n
			}
		case name == refsName:
			a.refs, err = readRefs(tr, keepRefs)
		case name == metaName:
			if t == nil || o.baseOnly {
				n, err = io.Copy(io.Discard, tr)
			} else {
				n, err = writeFile(t.MetaFile, tr)
			}
			st.MetaBytes = n
		case strings.HasPrefix(name, filesDir):
			name = name[len(filesDir):]
			if t == nil || o.baseOnly {
				_, err = io.Copy(io.Discard, tr)
			} else if path, ok := t.Files[name]; !ok {
				err = fmt.Errorf("backup: unexpected file %q in the archive", name)
			} else {
				_, err = writeFile(path, tr)
			}
			st.Files = append(st.Files, name)
		case strings.HasPrefix(name, blobsDir):
			if _, wanted := o.want[name[len(blobsDir):]]; t == nil || o.baseOnly && !wanted {
				n, err = io.Copy(io.Discard, tr)
			} else {
				n, err = restoreBlob(ctx, t, name[len(blobsDir):], tr)
				a.restored[name[len(blobsDir):]] = struct{}{}
			}
			st.Blobs++
			st.BlobBytes += n
		case name == trailerName:
			want = new(Stats)
			if err = json.NewDecoder(io.LimitReader(tr, 1<<16)).Decode(want); err != nil {
				err = fmt.Errorf("backup: trailer: %w", err)
			}
		default:
			err = fmt.Errorf("backup: unexpected entry %q in the archive", name)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case want == nil:
		return nil, ErrTruncated
	case want.Blobs != st.Blobs || want.BlobBytes != st.BlobBytes || want.MetaBytes != st.MetaBytes || st.MetaBytes == 0:
		return nil, fmt.Errorf("backup: the archive holds %d blobs (%d bytes) and %d bytes of metadata, its trailer says %d (%d) and %d",
			st.Blobs, st.BlobBytes, st.MetaBytes, want.Blobs, want.BlobBytes, want.MetaBytes)
	case o.refs && a.refs == nil:
		return nil, fmt.Errorf("backup: archive %q (format %s) lists no blob references: it cannot be a base or part of a chain; take a full backup", hdr.ID, hdr.Format)
	}
	st.Skipped = want.Skipped
	a.stats = st
	if t != nil && !o.baseOnly && hdr.Base == "" && a.refs != nil {
		if err := missing(a.refs, a.restored); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// missing fails when a blob the metadata references was not restored:
// the object it belongs to would read as a hole.
func missing(refs, restored map[string]struct{}) error {
	n, first := 0, ""
	for id := range refs {
		if _, ok := restored[id]; !ok {
			if n++; first == "" || id < first {
				first = id
			}
		}
	}
	if n > 0 {
		return fmt.Errorf("backup: %d blobs the metadata references are in no archive restored (blob %s first): the backup is incomplete", n, first)
	}
	return nil
}

func restoreBlob(ctx context.Context, t *Target, id string, r io.Reader) (int64, error) {
	w, err := t.CreateBlob(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("backup: blob %s: %w", id, err)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		w.Abort()
		return 0, fmt.Errorf("backup: blob %s: %w", id, err)
	}
	if _, err := w.Commit(ctx); err != nil && !errors.Is(err, os.ErrExist) {
		// (An ID listed twice is restored once.)
		return 0, fmt.Errorf("backup: blob %s: %w", id, err)
	}
	return n, nil
}

// writeFile writes r to a new file at path durably.
func writeFile(path string, r io.Reader) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("backup: %s: %w", path, err)
	}
	return n, nil
}
