package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/deploycopy"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// MigrateToScaleOut copies the stopped embedded deployment in dataDir
// (bbolt metadata, blobs in the data directory, the builtin keyring) into
// the scale-out one named by to (--meta postgres://…) and blobs (--blobs
// s3://… or file:///…), resumably (see internal/deploycopy). The target
// nodes must be started with the source's root key: secrets, keys and
// data stay sealed under it and are copied as they are.
func MigrateToScaleOut(ctx context.Context, dataDir string, to MetaConfig, blobs BlobsConfig, o deploycopy.Options) (*deploycopy.Stats, error) {
	if err := CheckDataDir(dataDir); err != nil {
		return nil, err
	}
	if to.Meta == "" {
		return nil, errors.New("migrate: --to postgres://… is required")
	}
	if blobs.Blobs == "" {
		return nil, errors.New("migrate: --blobs s3://… or file:///… is required")
	}
	src, err := bolt.Open(filepath.Join(dataDir, metaFile))
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("migrate: %s is in use: stop the server first (%w)", dataDir, err)
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	srcBlobs, err := fs.Open(filepath.Join(dataDir, blobDir))
	if err != nil {
		return nil, err
	}
	keyring, err := os.ReadFile(filepath.Join(dataDir, keyringFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	id, err := nodeID(dataDir) // the source deployment's name in the target's marker
	if err != nil {
		return nil, err
	}
	dst, err := openMeta(ctx, Config{MetaConfig: to})
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	dstBlobs, err := openTargetBlobs(ctx, blobs)
	if err != nil {
		return nil, err
	}
	return deploycopy.Copy(ctx,
		deploycopy.Source{Meta: src, Blobs: srcBlobs, Keyring: keyring, ID: id},
		deploycopy.Target{Meta: dst, Blobs: dstBlobs}, o)
}

// openTargetBlobs opens a data tier for an offline command: an S3 tier as
// a node does, a shared directory with the command's own temp directory.
func openTargetBlobs(ctx context.Context, c BlobsConfig) (blob.Store, error) {
	u, err := url.Parse(c.Blobs)
	if err != nil {
		return nil, fmt.Errorf("--blobs: %w", err)
	}
	if u.Scheme == "file" {
		if u.Host != "" && u.Host != "localhost" || u.Path == "" || u.RawQuery != "" {
			return nil, errors.New("--blobs: a directory is file:///ABSOLUTE/PATH")
		}
		// Its own temp directory: each store sweeps its temp directory
		// at open, so two commands (or a node) must never share one. It
		// is left empty when the command ends.
		var b [6]byte
		rand.Read(b[:])
		return fs.OpenShared(u.Path, "offline-"+hex.EncodeToString(b[:]))
	}
	return openBlobs(ctx, Config{BlobsConfig: c}, slog.New(slog.DiscardHandler))
}
