package kms

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by OpenKeyring when another process (a running
// node) holds the keyring: changes must then go through that process.
var ErrLocked = errors.New("kms: keyring is in use by another process")

// lockFile takes an exclusive, non-blocking flock on path, creating it.
// The lock is released when the file is closed (or the process exits).
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("kms: keyring lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("kms: keyring lock: %w", err)
	}
	return f, nil
}
