package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// countingStore counts the access-key lookups that reach the store.
type countingStore struct {
	meta.Store
	lookups atomic.Int64
}

func (s *countingStore) UserByAccessKey(ctx context.Context, ak string) (*meta.User, error) {
	s.lookups.Add(1)
	return s.Store.UserByAccessKey(ctx, ak)
}

func newTestIAM(t *testing.T) (*IAM, *countingStore) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	cs := &countingStore{Store: st}
	i, err := New(cs, "ROOTACCESSKEY0000001", "rootsecret", key)
	if err != nil {
		t.Fatal(err)
	}
	return i, cs
}

// TestPrincipalCache: a signed request's two resolutions of its access key
// (secret, then principal) cost one store read, and repeated requests
// none; every change made through IAM (disable, key rotation, key removal,
// policy change, deletion) is seen by the very next lookup.
func TestPrincipalCache(t *testing.T) {
	ctx := context.Background()
	i, cs := newTestIAM(t)
	c, err := i.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	request := func(ak string) (string, []string, error) {
		secret, err := i.SecretKey(ctx, ak)
		if err != nil {
			return "", nil, err
		}
		p, err := i.Principal(ctx, ak)
		return secret, p.Policies, err
	}
	for range 5 {
		if secret, _, err := request(c.AccessKey); err != nil || secret != c.SecretKey {
			t.Fatalf("request: %q, %v", secret, err)
		}
	}
	if n := cs.lookups.Load(); n != 1 {
		t.Fatalf("5 requests made %d store lookups, want 1", n)
	}

	if _, err := i.SetPolicies(ctx, "alice", []string{"readonly"}); err != nil {
		t.Fatal(err)
	}
	if _, pol, err := request(c.AccessKey); err != nil || !slices.Equal(pol, []string{"readonly"}) {
		t.Fatalf("after a policy change: %v, %v", pol, err)
	}

	steps := []struct {
		name   string
		change func() error
		ak     func() string // the key expected to fail afterwards
	}{
		{"disable user", func() error { _, err := i.SetUserDisabled(ctx, "alice", true); return err }, func() string { return c.AccessKey }},
		{"enable user", func() error { _, err := i.SetUserDisabled(ctx, "alice", false); return err }, nil},
		{"disable key", func() error { return i.SetAccessKeyDisabled(ctx, "alice", c.AccessKey, true) }, func() string { return c.AccessKey }},
		{"enable key", func() error { return i.SetAccessKeyDisabled(ctx, "alice", c.AccessKey, false) }, nil},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		_, _, err := request(c.AccessKey)
		if s.ak != nil && !errors.Is(err, errs.InvalidAccessKeyID) {
			t.Fatalf("after %s: %v, want InvalidAccessKeyId", s.name, err)
		}
		if s.ak == nil && err != nil {
			t.Fatalf("after %s: %v", s.name, err)
		}
	}

	old := c.AccessKey
	nc, err := i.RotateAccessKey(ctx, "alice", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := request(old); !errors.Is(err, errs.InvalidAccessKeyID) {
		t.Fatalf("rotated-out key: %v", err)
	}
	if secret, _, err := request(nc.AccessKey); err != nil || secret != nc.SecretKey {
		t.Fatalf("new key: %q, %v", secret, err)
	}
	if err := i.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := request(nc.AccessKey); !errors.Is(err, errs.InvalidAccessKeyID) {
		t.Fatalf("deleted user's key: %v", err)
	}
}

// TestPrincipalCacheTTL: a change written to the store by someone else
// (another node) is seen once the entry expires.
func TestPrincipalCacheTTL(t *testing.T) {
	ctx := context.Background()
	i, cs := newTestIAM(t)
	now := time.Now()
	i.cache.now = func() time.Time { return now }
	c, err := i.CreateUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Principal(ctx, c.AccessKey); err != nil {
		t.Fatal(err)
	}
	u, err := cs.GetUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := cs.PutUser(ctx, u); err != nil { // behind the IAM's back
		t.Fatal(err)
	}
	if _, err := i.Principal(ctx, c.AccessKey); err != nil {
		t.Fatalf("within the TTL the cached record answers: %v", err)
	}
	now = now.Add(cacheTTL)
	if _, err := i.Principal(ctx, c.AccessKey); !errors.Is(err, errs.InvalidAccessKeyID) {
		t.Fatalf("after the TTL: %v, want InvalidAccessKeyId", err)
	}
}

// TestPrincipalCacheRace: lookups racing changes never resurrect a record
// read before a change (the generation check), and the cache stays bounded.
func TestPrincipalCacheRace(t *testing.T) {
	ctx := context.Background()
	i, _ := newTestIAM(t)
	c, err := i.CreateUser(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i.Principal(ctx, c.AccessKey)
			}
		})
	}
	for n := range 50 {
		if _, err := i.SetUserDisabled(ctx, "carol", n%2 == 0); err != nil {
			t.Fatal(err)
		}
		_, err := i.Principal(ctx, c.AccessKey)
		if disabled := n%2 == 0; disabled != errors.Is(err, errs.InvalidAccessKeyID) {
			t.Fatalf("round %d: disabled=%v but Principal: %v", n, disabled, err)
		}
	}
	close(stop)
	wg.Wait()
	for n := range cacheSize + 10 {
		i.cache.put(string(rune(n)), &meta.User{}, i.cache.gen)
	}
	if len(i.cache.entries) > cacheSize {
		t.Fatalf("cache holds %d entries, bound %d", len(i.cache.entries), cacheSize)
	}
}

// TestPrincipalCacheDeaf: while the invalidation listener is down
// (InvalidateDeaf until InvalidateAll) nothing is cached, so a change
// another node makes is seen by the next lookup, not at the TTL.
func TestPrincipalCacheDeaf(t *testing.T) {
	ctx := context.Background()
	i, cs := newTestIAM(t)
	c, err := i.CreateUser(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	lookups := func(n int) int64 {
		before := cs.lookups.Load()
		for range n {
			if _, err := i.Principal(ctx, c.AccessKey); err != nil {
				t.Fatal(err)
			}
		}
		return cs.lookups.Load() - before
	}
	if got := lookups(3); got != 1 {
		t.Fatalf("listening: %d store reads for 3 lookups, want 1", got)
	}
	i.Invalidate(meta.Invalidation{Kind: meta.InvalidateDeaf})
	if got := lookups(3); got != 3 {
		t.Fatalf("deaf: %d store reads for 3 lookups, want 3", got)
	}
	u, err := cs.GetUser(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := cs.PutUser(ctx, u); err != nil { // another node, unannounced
		t.Fatal(err)
	}
	if _, err := i.Principal(ctx, c.AccessKey); !errors.Is(err, errs.InvalidAccessKeyID) {
		t.Fatalf("deaf, after a change elsewhere: %v, want InvalidAccessKeyId", err)
	}
	u.Disabled = false
	if err := cs.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	i.Invalidate(meta.Invalidation{Kind: meta.InvalidateAll})
	if got := lookups(3); got != 1 {
		t.Fatalf("listening again: %d store reads for 3 lookups, want 1", got)
	}
}
