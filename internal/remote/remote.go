// Package remote names the other strongroom deployments this one
// replicates to (`strongroom remote add NAME URL ...`).
//
// Placeholder for the replica transfer work: the same names as the
// registry the replication configuration work keeps in the metadata store
// (Remote, ErrNotFound, *Registry with Add and Get), held in memory. That
// registry replaces this file at merge.
package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Remote is a registered deployment with the credentials to write to it.
type Remote struct {
	Name      string
	URL       string
	AccessKey string
	SecretKey string
	Insecure  bool // its TLS certificate is not verified
}

// ErrNotFound: no remote has that name.
var ErrNotFound = errors.New("remote: no such remote")

// Registry keeps remotes (in memory here).
type Registry struct {
	mu sync.Mutex
	m  map[string]Remote
}

// NewMemory returns an empty in-memory registry.
func NewMemory() *Registry { return &Registry{m: map[string]Remote{}} }

// Add registers (or replaces) a remote.
func (r *Registry) Add(_ context.Context, x Remote) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[x.Name] = x
	return nil
}

// Get returns a remote (ErrNotFound if none).
func (r *Registry) Get(_ context.Context, name string) (*Remote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.m[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return &x, nil
}
