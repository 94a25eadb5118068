package metatest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// keyPolicies is the store's meta.KeyPolicies; every store must keep them
// (the server refuses one that does not: grants would not be enforced).
func keyPolicies(t *testing.T, s meta.Store) meta.KeyPolicies {
	t.Helper()
	kp, ok := s.(meta.KeyPolicies)
	if !ok {
		t.Fatalf("%T does not implement meta.KeyPolicies", s)
	}
	return kp
}

func testKeyPolicies(t *testing.T, be Backend) {
	s := be.Open(t)
	kp := keyPolicies(t, s)
	if _, err := kp.GetKeyPolicy(ctx, "k1"); !errors.Is(err, meta.ErrNoSuchKeyPolicy) {
		t.Fatalf("get before update: %v, want ErrNoSuchKeyPolicy", err)
	}
	if all, err := kp.ListKeyPolicies(ctx); err != nil || len(all) != 0 {
		t.Fatalf("list of none = %v, %v", all, err)
	}
	boom := errors.New("boom")
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"empty key id", func() error {
			_, err := kp.UpdateKeyPolicy(ctx, "", func(*meta.KeyPolicy) error { return nil })
			return err
		}, meta.ErrInvalid},
		{"fn error stores nothing", func() error {
			_, err := kp.UpdateKeyPolicy(ctx, "k1", func(p *meta.KeyPolicy) error { p.Owner = "mallory"; return boom })
			return err
		}, boom},
		{"still none", func() error { _, err := kp.GetKeyPolicy(ctx, "k1"); return err }, meta.ErrNoSuchKeyPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}

	// The first update starts from KeyPolicy{Key: key}; fn cannot rename.
	del := time.Unix(1800000000, 7).UTC()
	want := &meta.KeyPolicy{Key: "k1", Owner: "alice",
		Grants:       map[string]meta.KeyGrant{"bob": {Encrypt: true}, "carol": {Decrypt: true}},
		DeletionDate: del, Destroyed: del.Add(time.Hour),
		Shred: &meta.ShredReport{Destroyed: del.Add(time.Hour), Versions: map[string]int64{"b": 2}, Sample: []string{"b/k@v1"}}}
	got, err := kp.UpdateKeyPolicy(ctx, "k1", func(p *meta.KeyPolicy) error {
		if !reflect.DeepEqual(p, &meta.KeyPolicy{Key: "k1"}) {
			return fmt.Errorf("first update starts from %+v", p)
		}
		*p = *want
		p.Key = "renamed"
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("update = %+v, %v; want %+v", got, err, want)
	}
	check := func(s meta.Store) {
		t.Helper()
		kp := keyPolicies(t, s)
		if got, err := kp.GetKeyPolicy(ctx, "k1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("get = %+v, %v; want %+v", got, err, want)
		}
		if _, err := kp.GetKeyPolicy(ctx, "renamed"); !errors.Is(err, meta.ErrNoSuchKeyPolicy) {
			t.Fatalf("get renamed: %v, want ErrNoSuchKeyPolicy", err)
		}
	}
	check(s)

	// A failing fn leaves the stored policy as it was.
	if _, err := kp.UpdateKeyPolicy(ctx, "k1", func(p *meta.KeyPolicy) error {
		p.Grants["mallory"] = meta.KeyGrant{Encrypt: true, Decrypt: true}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing update: %v, want boom", err)
	}
	check(s)

	// Later updates see what is stored; listing is in key order.
	for _, k := range []string{"k3", "k0", "k2"} {
		if _, err := kp.UpdateKeyPolicy(ctx, k, func(p *meta.KeyPolicy) error { p.Owner = "o-" + k; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kp.UpdateKeyPolicy(ctx, "k1", func(p *meta.KeyPolicy) error {
		if p.Owner != "alice" || !p.Grants["bob"].Encrypt {
			return fmt.Errorf("second update starts from %+v", p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all, err := kp.ListKeyPolicies(ctx)
	var keys []string
	for _, p := range all {
		keys = append(keys, p.Key)
	}
	if err != nil || !reflect.DeepEqual(keys, []string{"k0", "k1", "k2", "k3"}) || all[0].Owner != "o-k0" || !all[1].Pending() {
		t.Fatalf("list = %v, %v; want k0 k1 k2 k3", keys, err)
	}

	// They survive a reopen.
	check(be.Reopen(t, s))
}

// testKeyPolicyUpdatesAtomic: concurrent updates of one key (the first
// ones included, when no policy exists yet) lose none of each other's
// changes: a grant made on one node is never undone by a revoke of
// another user on a second node.
func testKeyPolicyUpdatesAtomic(t *testing.T, be Backend) {
	kp := keyPolicies(t, be.Open(t))
	const workers, each = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := kp.UpdateKeyPolicy(ctx, "shared", func(p *meta.KeyPolicy) error {
					if p.Grants == nil {
						p.Grants = map[string]meta.KeyGrant{}
					}
					p.Grants[fmt.Sprintf("u%d-%d", w, i)] = meta.KeyGrant{Decrypt: true}
					return nil
				})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := kp.GetKeyPolicy(ctx, "shared")
	if err != nil || len(p.Grants) != workers*each {
		t.Fatalf("grants after concurrent updates: %d, %v; want %d", len(p.Grants), err, workers*each)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := kp.UpdateKeyPolicy(c, "shared", func(*meta.KeyPolicy) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled update: %v, want context.Canceled", err)
	}
	if _, err := kp.GetKeyPolicy(c, "shared"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled get: %v, want context.Canceled", err)
	}
}
