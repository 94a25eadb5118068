package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// backupFiles are the sealed files of a data directory a backup carries
// beside the metadata and blobs: never the root key itself, but the root
// key sealed by an external provider (HSM, KMIP), which opens only there.
var backupFiles = []string{keyringFile, rootFile, sealedRootKeyFile}

func backupSource(dir string, m *bolt.Store, blobs blob.Store, since *backup.Base) backup.Source {
	files := map[string]string{}
	for _, f := range backupFiles {
		files[f] = filepath.Join(dir, f)
	}
	return backup.Source{Meta: m, Blobs: blobs, Files: files, TempDir: dir, Since: since}
}

// Backup writes a backup of the running node to w (see internal/backup):
// blobs are kept from deletion while it runs.
func (n *Node) Backup(ctx context.Context, w io.Writer) (*backup.Stats, error) {
	return n.BackupSince(ctx, w, nil)
}

// BackupSince is Backup, as an increment over since when it is not nil.
func (n *Node) BackupSince(ctx context.Context, w io.Writer, since *backup.Base) (*backup.Stats, error) {
	m, ok := n.meta.(*bolt.Store)
	if !ok {
		return n.backupScaleOut(ctx, w, since) // scalebackup.go
	}
	defer n.Service.HoldBlobs()()
	return backup.Write(ctx, w, backupSource(n.cfg.DataDir, m, n.blobs, since))
}

// BackupOffline writes a backup of the data directory of a stopped node;
// bolt.ErrLocked means a node is running (ask it instead).
func BackupOffline(ctx context.Context, dir string, w io.Writer) (*backup.Stats, error) {
	return BackupOfflineSince(ctx, dir, w, nil)
}

// BackupOfflineSince is BackupOffline, as an increment over since when it
// is not nil.
func BackupOfflineSince(ctx context.Context, dir string, w io.Writer, since *backup.Base) (*backup.Stats, error) {
	if err := CheckDataDir(dir); err != nil {
		return nil, err
	}
	m, err := bolt.Open(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	defer m.Close()
	blobs, err := fs.Open(filepath.Join(dir, blobDir))
	if err != nil {
		return nil, err
	}
	return backup.Write(ctx, w, backupSource(dir, m, blobs, since))
}

// Restore restores a backup into dir, which must not exist or be empty.
// The restored deployment opens with the root key of the one backed up. A
// restore that fails leaves dir empty again, so it can be retried.
func Restore(ctx context.Context, r io.Reader, dir string) (st *backup.Stats, err error) {
	return RestoreChain(ctx, []io.Reader{r}, dir)
}

// RestoreChain restores a chain of archives, from the newest increment
// down to the full backup (backup.OrderChain orders them), into dir as
// Restore does.
func RestoreChain(ctx context.Context, rs []io.Reader, dir string) (st *backup.Stats, err error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("restore: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if err != nil {
			// dir was empty or new: what is in it now is this restore's.
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			return
		}
		err = durable.SyncDir(dir) // the restored files' names, durable
	}()
	blobs, err := fs.Open(filepath.Join(dir, blobDir))
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, f := range backupFiles {
		files[f] = filepath.Join(dir, f)
	}
	t := &backup.Target{
		Dir:        dir,
		CreateBlob: blobs.CreateAs,
		MetaFile:   filepath.Join(dir, metaFile),
		Files:      files,
	}
	if len(rs) == 1 {
		st, err = backup.Restore(ctx, rs[0], t)
	} else {
		st, err = backup.RestoreChain(ctx, rs, t)
	}
	if err != nil {
		return nil, err
	}
	// The restored metadata must open, and reference only restored blobs.
	m, err := bolt.Open(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("restore: the restored metadata does not open: %w", err)
	}
	defer m.Close()
	err = m.BlobRefs(ctx, func(id string) error {
		r, err := blobs.Open(ctx, id)
		if err != nil {
			return fmt.Errorf("restore: blob %s missing: %w", id, err)
		}
		return r.Close()
	})
	return st, err
}

// MaxBackupBase bounds the body of an increment's request (the base
// archive's blob list, one ID a line): some 8 million blobs.
const MaxBackupBase = 256 << 20

// backupHandler streams a backup of the node (GET backup).
func (n *Node) backupHandler(w http.ResponseWriter, r *http.Request) {
	var since *backup.Base
	if r.Method == http.MethodPost {
		// An increment: the body names the base archive and its blobs.
		var err error
		body := http.MaxBytesReader(w, r.Body, MaxBackupBase)
		if since, err = backup.ParseBase(body); err != nil {
			code := http.StatusBadRequest
			if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, err.Error(), code)
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	if _, err := n.BackupSince(r.Context(), w, since); err != nil {
		// The status is sent: the archive lacks its trailer, which
		// restore reports as truncated.
		n.log.Warn("backup failed", "err", err)
	}
}
