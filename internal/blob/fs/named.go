package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

var (
	_ blob.Namer       = (*Store)(nil)
	_ blob.NamedLinker = (*Store)(nil)
)

// NewID implements blob.Namer.
func (s *Store) NewID() (string, error) { return newID() }

// LinkAs implements blob.NamedLinker: Link under newID, which must not
// exist.
func (s *Store) LinkAs(ctx context.Context, id, newID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return fmt.Errorf("%w: %q", blob.ErrNotFound, id)
	}
	if !validID(newID) {
		return fmt.Errorf("blob/fs: invalid blob id %q", newID)
	}
	dst := s.path(newID)
	dstDir := filepath.Dir(dst)
	if err := s.ensureDir(dstDir); err != nil {
		return err
	}
	if err := os.Link(s.path(id), dst); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", blob.ErrNotFound, id)
		}
		return fmt.Errorf("blob/fs: %w", err)
	}
	if err := syncDir(dstDir); err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}
