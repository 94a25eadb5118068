// Package remote names the other strongroom deployments this one
// replicates to (`strongroom remote add NAME URL ...`).
//
// This is the minimal form the replica transfer needs (internal/service
// looks remotes up by name); the registry kept in the metadata store, with
// its secrets sealed under the root key, and its CLI come from the
// replication configuration work and replace Static at merge.
package remote

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoSuchRemote is returned by Get for a name no remote is registered
// under.
var ErrNoSuchRemote = errors.New("remote: no such remote")

// Remote is another strongroom deployment and the credentials this one
// uses there.
type Remote struct {
	Name      string
	URL       string // e.g. https://dr.example.com:9000
	AccessKey string
	SecretKey string
	// Insecure skips TLS certificate verification (test set-ups).
	Insecure bool
}

// Registry finds remotes by name.
type Registry interface {
	Get(ctx context.Context, name string) (*Remote, error)
}

// Static is an in-memory Registry keyed by name.
type Static map[string]*Remote

// Get implements Registry.
func (s Static) Get(_ context.Context, name string) (*Remote, error) {
	r, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchRemote, name)
	}
	return r, nil
}
