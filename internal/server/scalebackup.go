package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/deploycopy"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// BackupScaleOut writes a backup of the scale-out deployment on the
// stores m (--meta postgres://…) and blobs (--blobs), read through them
// while its nodes serve (see backup.WriteScaleOut), as an increment over
// since when it is not nil. The keyring is the nodes' shared one; a
// node's data directory dataDir ("": none) gives the root credentials
// (and the keyring, when the store shares none). It restores as an
// embedded deployment (strongroom restore), which strongroom migrate
// moves back to scale-out.
func BackupScaleOut(ctx context.Context, m MetaConfig, blobs BlobsConfig, dataDir string, w io.Writer, since *backup.Base) (*backup.Stats, error) {
	if m.Meta == "" || blobs.Blobs == "" {
		return nil, errors.New("backup: a scale-out deployment is named by --meta postgres://… and --blobs")
	}
	src, err := openMeta(ctx, Config{MetaConfig: m})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	tier, err := openTargetBlobs(ctx, blobs)
	if err != nil {
		return nil, err
	}
	files, err := scaleOutFiles(ctx, src, dataDir)
	if err != nil {
		return nil, err
	}
	return backup.WriteScaleOut(ctx, w, backup.ScaleOutSource{Meta: src, Blobs: tier, Files: files, Since: since})
}

// backupScaleOut is Backup of a node on a scale-out store: through the
// stores, with this node's blobs held from deletion while it runs (other
// nodes' deletions are left out of the backup as they happen).
func (n *Node) backupScaleOut(ctx context.Context, w io.Writer, since *backup.Base) (*backup.Stats, error) {
	files, err := scaleOutFiles(ctx, n.meta, n.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer n.Service.HoldBlobs()()
	return backup.WriteScaleOut(ctx, w, backup.ScaleOutSource{Meta: n.meta, Blobs: n.blobs, Files: files, Since: since, TempDir: n.cfg.DataDir})
}

// scaleOutFiles are the sealed files of a scale-out backup: the shared
// keyring, and from a node's data directory ("": none) the root
// credentials (and the keyring, when the store shares none).
func scaleOutFiles(ctx context.Context, m meta.Store, dataDir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	if sb, ok := m.(meta.SharedBlobs); ok {
		b, err := sb.GetBlob(ctx, deploycopy.KeyringName)
		switch {
		case err == nil:
			files[keyringFile] = b
		case !errors.Is(err, meta.ErrNoSuchBlob):
			return nil, fmt.Errorf("backup: the shared keyring: %w", err)
		}
	}
	if dataDir != "" {
		for _, f := range backupFiles {
			if _, ok := files[f]; ok {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dataDir, f))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("backup: %w", err)
			}
			files[f] = b
		}
	}
	return files, nil
}
