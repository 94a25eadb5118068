package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres"
)

// MetaConfig selects the metadata store.
type MetaConfig struct {
	// Meta is the metadata store: "" for the embedded one (bbolt in the
	// data directory), or postgres://USER[:PASSWORD]@HOST:PORT/DB?... for
	// PostgreSQL shared by the nodes of a scale-out deployment (the
	// password may come from PGPASSWORD instead).
	Meta string `yaml:"meta"`
}

// metaStore is what a node needs of its metadata store. meta.KeyPolicies
// is required, not optional: without it key grants and deletion schedules
// could not be kept, and a node must not start that would let every user
// use every key.
type metaStore interface {
	meta.Store
	meta.Remotes
	meta.KeyPolicies
	SetClock(now func() time.Time)
}

// openMeta opens the configured metadata store, on the node's clock.
func openMeta(ctx context.Context, cfg Config) (metaStore, error) {
	var m metaStore
	switch u := cfg.Meta; {
	case u == "":
		s, err := bolt.Open(filepath.Join(cfg.DataDir, metaFile))
		if err != nil {
			return nil, err
		}
		m = s
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		s, err := postgres.Open(ctx, u)
		if err != nil {
			return nil, err
		}
		// The pending-blob journal's entries are per node: the node ID
		// of job leases, kept in the data directory across restarts.
		// Offline tools (migrate, backup, key commands) have no data
		// directory and are no node: their entries, if any, carry none
		// and are swept by any node after the foreign grace.
		if cfg.DataDir != "" {
			id, err := nodeID(cfg.DataDir)
			if err != nil {
				s.Close()
				return nil, err
			}
			s.SetNode(id)
		}
		m = s
	default:
		return nil, fmt.Errorf("--meta %q: want a postgres:// URL (or nothing for the embedded store)", redactURL(u))
	}
	m.SetClock(cfg.Now)
	return m, nil
}

// redactURL drops what could be a password from a URL shown in errors.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "…"
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "…" + rest[at:]
	}
	return scheme + "://" + rest
}
