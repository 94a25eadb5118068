package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Cache invalidation across nodes (meta.Invalidations) by LISTEN/NOTIFY:
// writes to users, access keys and buckets call notify in their
// transaction, so PostgreSQL delivers the notice on commit (and never for
// a rolled-back one); each node listens on a connection of its own.

const (
	// notifyChannel is the channel every node listens on.
	notifyChannel = "strongroom_invalidate"
	// listenerName is the listening connection's application_name (it
	// shows in pg_stat_activity; tests terminate it by that name).
	listenerName = "strongroom-invalidations"
	// maxNotifyName bounds the name in a payload (PostgreSQL caps a
	// payload under 8000 bytes); a longer one is sent empty, which
	// subscribers take as every name of its kind.
	maxNotifyName = 4000
	// listenBackoffMax bounds the wait between reconnection attempts.
	listenBackoffMax = 2 * time.Second
)

var _ meta.Invalidations = (*Store)(nil)

// notify publishes inv from inside tx: it is delivered when tx commits.
func notify(ctx context.Context, q querier, kind, name string) error {
	if len(name) > maxNotifyName {
		name = ""
	}
	_, err := q.Exec(ctx, "SELECT pg_notify($1, $2)", notifyChannel, kind+":"+name)
	return err
}

// parsePayload reverses notify's payload; ok is false for a foreign one.
func parsePayload(p string) (meta.Invalidation, bool) {
	kind, name, ok := strings.Cut(p, ":")
	if !ok || kind == "" {
		return meta.Invalidation{}, false
	}
	return meta.Invalidation{Kind: kind, Name: name}, true
}

// Invalidate implements meta.Invalidations.
func (s *Store) Invalidate(ctx context.Context, inv meta.Invalidation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapErr(ctx, notify(ctx, s.pool, inv.Kind, inv.Name))
}

// SetLogger sets where the listener reports connection trouble.
func (s *Store) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// Subscribe implements meta.Invalidations on a dedicated connection (not
// the pool's: LISTEN belongs to a session). Whenever it is not listening
// it may miss notices, so fn gets meta.InvalidateDeaf on each connection
// loss and meta.InvalidateAll after each LISTEN.
func (s *Store) Subscribe(ctx context.Context, fn func(meta.Invalidation)) error {
	deaf := meta.Invalidation{Kind: meta.InvalidateDeaf}
	wait := 50 * time.Millisecond
	for {
		listened, err := s.listen(ctx, fn)
		fn(deaf) // lost: whatever was cached may be stale from now on
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened { // once per outage, not per attempt
			s.logger().Warn("meta/postgres: invalidation listener lost its connection; reconnecting", "err", err)
			wait = 50 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, listenBackoffMax)
	}
}

// listen runs one listening session until its connection fails or ctx
// ends; listened says whether it got as far as listening.
func (s *Store) listen(ctx context.Context, fn func(meta.Invalidation)) (listened bool, err error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false, err
	}
	// Listening: anything committed from now on is delivered, so what
	// was cached before can be dropped once.
	fn(meta.Invalidation{Kind: meta.InvalidateAll})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			return true, err
		}
		if inv, ok := parsePayload(n.Payload); ok && n.Channel == notifyChannel {
			fn(inv)
		}
	}
}

func (s *Store) logger() *slog.Logger {
	if s.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.log
}
