package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// subscription collects what a Subscribe delivers.
type subscription chan meta.Invalidation

func subscribe(t *testing.T, s *Store) subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(subscription, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Subscribe(ctx, func(inv meta.Invalidation) { ch <- inv })
	}()
	t.Cleanup(func() { cancel(); <-done })
	ch.want(t, meta.Invalidation{Kind: meta.InvalidateAll}) // listening
	return ch
}

// want waits for inv, skipping others; none arriving within 5 s fails.
func (ch subscription) want(t *testing.T, inv meta.Invalidation) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == inv {
				return
			}
		case <-deadline:
			t.Fatalf("no invalidation %+v within 5 s", inv)
		}
	}
}

// none checks that nothing arrives for a short while.
func (ch subscription) none(t *testing.T) {
	t.Helper()
	select {
	case got := <-ch:
		t.Fatalf("unexpected invalidation %+v", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestInvalidationsAcrossNodes: changes committed through one store (node)
// reach a subscriber on another store of the same database; a rolled-back
// change sends nothing; a listener whose connection is killed reports
// InvalidateAll, reconnects and delivers again.
func TestInvalidationsAcrossNodes(t *testing.T) {
	a, url := openTest(t)
	b := openURL(t, url)
	ch := subscribe(t, b)

	user := &meta.User{Name: "ann", Keys: []meta.AccessKey{{ID: "AKANN"}}}
	steps := []struct {
		name string
		do   func() error
		want meta.Invalidation
	}{
		{"put user", func() error { return a.PutUser(ctx, user) }, meta.Invalidation{Kind: meta.InvalidateUser, Name: "ann"}},
		{"create bucket", func() error { return a.CreateBucket(ctx, &meta.Bucket{Name: "bk"}) }, meta.Invalidation{Kind: meta.InvalidateBucket, Name: "bk"}},
		{"update bucket", func() error {
			return a.UpdateBucket(ctx, "bk", func(b *meta.Bucket) error { b.Config = map[string][]byte{"policy": []byte(`{}`)}; return nil })
		}, meta.Invalidation{Kind: meta.InvalidateBucket, Name: "bk"}},
		{"delete bucket", func() error { _, err := a.DeleteBucket(ctx, "bk"); return err }, meta.Invalidation{Kind: meta.InvalidateBucket, Name: "bk"}},
		{"shared blob", func() error {
			return a.UpdateBlob(ctx, "keyring", func([]byte) ([]byte, error) { return []byte("x"), nil })
		}, meta.Invalidation{Kind: meta.InvalidateBlob, Name: "keyring"}},
		{"published", func() error { return a.Invalidate(ctx, meta.Invalidation{Kind: meta.InvalidateKey, Name: "k1"}) },
			meta.Invalidation{Kind: meta.InvalidateKey, Name: "k1"}},
		{"delete user", func() error { return a.DeleteUser(ctx, "ann") }, meta.Invalidation{Kind: meta.InvalidateUser, Name: "ann"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		ch.want(t, st.want)
	}

	// Rolled back: the key is taken, nothing is committed, nothing sent.
	if err := a.PutUser(ctx, &meta.User{Name: "bob", Keys: []meta.AccessKey{{ID: "AKBOB"}}}); err != nil {
		t.Fatal(err)
	}
	ch.want(t, meta.Invalidation{Kind: meta.InvalidateUser, Name: "bob"})
	err := a.UpdateBucket(ctx, "missing", func(*meta.Bucket) error { return nil })
	if !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("update of a missing bucket: %v", err)
	}
	if err := a.PutUser(ctx, &meta.User{Name: "eve", Keys: []meta.AccessKey{{ID: "AKBOB"}}}); !errors.Is(err, meta.ErrAccessKeyInUse) {
		t.Fatalf("taken key: %v", err)
	}
	ch.none(t)

	// The listener's connection dies: everything is invalidated, then
	// notices flow again on a new connection.
	var killed int
	if err := a.pool.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", listenerName).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminating the listener: %d killed, %v", killed, err)
	}
	ch.want(t, meta.Invalidation{Kind: meta.InvalidateDeaf})
	ch.want(t, meta.Invalidation{Kind: meta.InvalidateAll}) // listening again
	if err := a.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	ch.want(t, meta.Invalidation{Kind: meta.InvalidateUser, Name: "bob"})
}
