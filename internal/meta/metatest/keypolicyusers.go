package metatest

import (
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// testDeletedUserLosesKeyGrants: deleting a user drops its key grants
// and ownership in the same change, so a new user with the same name
// inherits nothing; other users' grants stay.
func testDeletedUserLosesKeyGrants(t *testing.T, be Backend) {
	s := be.Open(t)
	kp := keyPolicies(t, s)
	for _, name := range []string{"alice", "bob"} {
		if err := s.PutUser(ctx, &meta.User{Name: name, Created: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"k1", "k2"} {
		if _, err := kp.UpdateKeyPolicy(ctx, key, func(p *meta.KeyPolicy) error {
			p.Owner = "alice"
			p.Grants = map[string]meta.KeyGrant{"alice": {Encrypt: true, Decrypt: true}, "bob": {Decrypt: true}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, &meta.User{Name: "alice", Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k1", "k2"} {
		p, err := kp.GetKeyPolicy(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Grants["alice"]; ok || p.Owner != "" {
			t.Errorf("%s after alice was deleted: owner %q, grants %v", key, p.Owner, p.Grants)
		}
		if g := p.Grants["bob"]; !g.Decrypt {
			t.Errorf("%s: bob's grant was lost: %v", key, p.Grants)
		}
	}
}
