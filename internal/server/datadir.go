package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNoDataDir is returned by admin commands given a directory that holds
// no deployment: only serve initialises one.
var ErrNoDataDir = errors.New("not a strongroom data directory (no meta.db): only `strongroom serve` creates one")

// CheckDataDir fails with ErrNoDataDir unless dir holds a deployment, so an
// admin command given a wrong or empty directory says so instead of
// creating a new, empty deployment there.
func CheckDataDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
		return fmt.Errorf("%s: %w", dir, ErrNoDataDir)
	}
	return nil
}
