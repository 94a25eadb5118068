package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// RemoteRequest is a remote operation: add (every field), remove (Name),
// list (none). The admin API takes it as a JSON body, so the secret never
// travels in a URL.
type RemoteRequest struct {
	Name      string `json:",omitempty"`
	URL       string `json:",omitempty"`
	AccessKey string `json:",omitempty"`
	SecretKey string `json:",omitempty"`
	Insecure  bool   `json:",omitempty"`
}

// RemoteOp runs a remote operation; add and remove answer the listing. A
// remote a bucket's replication rule names is not removed (its rule would
// fail every replica).
func RemoteOp(ctx context.Context, reg *remote.Registry, m meta.Store, op string, in RemoteRequest) ([]remote.Info, error) {
	var err error
	switch op {
	case "add":
		err = reg.Add(ctx, remote.Remote{Name: in.Name, URL: in.URL, AccessKey: in.AccessKey, SecretKey: in.SecretKey, Insecure: in.Insecure})
	case "remove":
		if err = remoteInUse(ctx, m, in.Name); err != nil {
			return nil, err
		}
		if err = reg.Remove(ctx, in.Name); errors.Is(err, remote.ErrNotFound) {
			err = fmt.Errorf("no remote is named %q", in.Name)
		}
	case "list":
	default:
		return nil, fmt.Errorf("unknown remote operation %q (add, list, remove)", op)
	}
	if err != nil {
		return nil, err
	}
	return reg.List(ctx)
}

// remoteInUse refuses a remote that a bucket's replication rule names.
func remoteInUse(ctx context.Context, m meta.Store, name string) error {
	bs, err := m.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		raw := b.Config[replication.ConfigName]
		if raw == nil {
			continue
		}
		c, err := replication.Decode(raw)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", b.Name, err)
		}
		for _, r := range c.Rules {
			if r.Destination.Remote == name {
				return fmt.Errorf("remote %q is the destination of rule %q of bucket %s: change that rule first", name, r.ID, b.Name)
			}
		}
	}
	return nil
}

// OpenRemotesOffline opens the remote registry of a stopped node's data
// directory. The caller closes the returned store.
func OpenRemotesOffline(dataDir, rootKeyFile string, kc KMSConfig) (*remote.Registry, *bolt.Store, error) {
	m, root, err := openOffline(dataDir, rootKeyFile, kc)
	if err != nil {
		return nil, nil, err
	}
	defer clear(root)
	return remote.New(m, root), m, nil
}

// remoteOp serves POST remotes/{op} (and GET remotes: the listing). The
// body's SHA-256 must be the one the request's signature covers.
func (a *admin) remoteOp(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	if op == "" {
		op = "list"
	}
	var in RemoteRequest
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(r.Header.Get("X-Amz-Content-Sha256"))) != 1 {
			http.Error(w, "the body is not the one signed", http.StatusBadRequest)
			return
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
	}
	out, err := RemoteOp(r.Context(), a.remotes, a.meta, op, in)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, out)
}
