package server

import (
	"context"
	"log/slog"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Caches and the changes other nodes make (meta.Invalidations, PostgreSQL
// only; one bbolt process sees its own writes):
//
//   - users and access keys (iam, 10 s TTL): dropped on every user
//     notice, so a disabled user or key, a deleted key or a new identity
//     policy holds on every node within the notice's latency;
//   - bucket keys (sse, --kms-cache-ttl): dropped when a node disables a
//     key or changes the shared keyring;
//   - bucket configurations and bucket policies are not cached on
//     PostgreSQL (parsed policies are cached by their text, which cannot
//     go stale), so bucket notices need nothing here.
//
// While the listener is disconnected nothing is announced: everything is
// dropped when it loses the connection and again when it listens anew;
// in between users are not cached at all (every request reads the
// store), and bucket keys live at most --kms-cache-ttl, checked against
// the shared keyring's state every 2 s.

// watchInvalidations subscribes the node's caches to m's invalidations,
// if m has them, and returns what stops it (waiting for the listener).
func watchInvalidations(m meta.Store, ids *iam.IAM, sealer *sse.Sealer, log *slog.Logger) func() {
	inv, ok := m.(meta.Invalidations)
	if !ok {
		return func() {}
	}
	if l, ok := m.(interface{ SetLogger(*slog.Logger) }); ok {
		l.SetLogger(log)
	}
	// Deaf until the listener first listens.
	ids.Invalidate(meta.Invalidation{Kind: meta.InvalidateDeaf})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		inv.Subscribe(ctx, func(v meta.Invalidation) {
			switch v.Kind {
			case meta.InvalidateUser:
				ids.Invalidate(v)
			case meta.InvalidateKey, meta.InvalidateBlob:
				sealer.ForgetBucketKeys()
			case meta.InvalidateAll, meta.InvalidateDeaf:
				ids.Invalidate(v)
				sealer.ForgetBucketKeys()
			}
		})
	}()
	return func() { cancel(); <-done }
}

// announceKeyChange tells the other nodes sharing m that key name changed
// state (disabled), so they drop the bucket keys they cached under it
// rather than keep using them until --kms-cache-ttl. Best effort: a
// failure leaves them the TTL bound, and is logged (to slog's default
// when log is nil: the admin API and the offline key commands have no
// logger of their own, and a silent failure would hide that the other
// nodes keep the key usable until the TTL).
func announceKeyChange(ctx context.Context, m meta.Store, name string, log *slog.Logger) {
	inv, ok := m.(meta.Invalidations)
	if !ok {
		return
	}
	if err := inv.Invalidate(ctx, meta.Invalidation{Kind: meta.InvalidateKey, Name: name}); err != nil {
		if log == nil {
			log = slog.Default()
		}
		log.Warn("announcing a key change to the other nodes", "key", name, "err", err)
	}
}
