// Package remote is the registry of other strongroom deployments that
// buckets replicate to (strongroom remote add/list/remove). A remote's
// secret key is kept sealed under the root key, as users' secrets are; it
// is opened only for the replica transfer (Get), never listed.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/strongroom-dev/strongroom/internal/iam/secrets"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Remote is a registered deployment with the credentials to write to it.
type Remote struct {
	Name      string
	URL       string
	AccessKey string
	SecretKey string
	Insecure  bool // its TLS certificate is not verified
}

// Info is what a listing shows of a remote: everything but the secret.
type Info struct {
	Name      string
	URL       string
	AccessKey string
	Insecure  bool      `json:",omitempty"`
	Created   time.Time `json:",omitzero"`
}

// ErrNotFound: no remote has that name.
var ErrNotFound = meta.ErrNoSuchRemote

// Registry keeps remotes in the metadata store.
type Registry struct {
	store   meta.Remotes
	rootKey []byte
	now     func() time.Time
}

// New returns a registry over store, sealing secrets under rootKey (the
// registry keeps its own copy).
func New(store meta.Remotes, rootKey []byte) *Registry {
	return &Registry{store: store, rootKey: append([]byte(nil), rootKey...), now: time.Now}
}

// names are used as regions in destination ARNs and OSS Locations, and
// on the command line.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// aad binds a sealed secret to its remote and access key, apart from
// users' secrets (a bare access key) and the root's ("root\x00"...).
func aad(name, accessKey string) []byte {
	return []byte("remote\x00" + name + "\x00" + accessKey)
}

// Add registers (or replaces) a remote.
func (r *Registry) Add(ctx context.Context, x Remote) error {
	if !validName.MatchString(x.Name) {
		return fmt.Errorf("remote: invalid name %q (lower-case letters, digits, '.', '_', '-'; up to 63)", x.Name)
	}
	u, err := url.Parse(x.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("remote: URL must be http(s)://HOST[:PORT]: %q", x.URL)
	}
	if x.AccessKey == "" || x.SecretKey == "" {
		return errors.New("remote: an access key and a secret key are required")
	}
	sealed, err := secrets.SealUnder(r.rootKey, aad(x.Name, x.AccessKey), x.SecretKey)
	if err != nil {
		return fmt.Errorf("remote: sealing the secret: %w", err)
	}
	return r.store.PutRemote(ctx, &meta.Remote{Name: x.Name, URL: x.URL, AccessKey: x.AccessKey, SealedSecret: sealed, Insecure: x.Insecure, Created: r.now().UTC()})
}

// Get returns a remote with its secret opened (ErrNotFound if none).
func (r *Registry) Get(ctx context.Context, name string) (*Remote, error) {
	m, err := r.store.GetRemote(ctx, name)
	if err != nil {
		return nil, err
	}
	secret, err := secrets.OpenUnder(r.rootKey, aad(m.Name, m.AccessKey), m.SealedSecret)
	if err != nil {
		return nil, fmt.Errorf("remote %q: %w", name, err)
	}
	return &Remote{Name: m.Name, URL: m.URL, AccessKey: m.AccessKey, SecretKey: secret, Insecure: m.Insecure}, nil
}

// Exists reports whether a remote has that name, without opening its
// secret.
func (r *Registry) Exists(ctx context.Context, name string) (bool, error) {
	if name == "" {
		return false, nil
	}
	_, err := r.store.GetRemote(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// Remove unregisters a remote (ErrNotFound if none).
func (r *Registry) Remove(ctx context.Context, name string) error {
	return r.store.DeleteRemote(ctx, name)
}

// List returns the remotes, secrets left out, in name order.
func (r *Registry) List(ctx context.Context) ([]Info, error) {
	ms, err := r.store.ListRemotes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(ms))
	for _, m := range ms {
		out = append(out, Info{Name: m.Name, URL: m.URL, AccessKey: m.AccessKey, Insecure: m.Insecure, Created: m.Created})
	}
	return out, nil
}
