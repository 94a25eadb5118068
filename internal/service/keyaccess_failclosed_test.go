package service

import (
	"context"
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestCheckKeyUseFailsClosed: a store that keeps no key policies (here a
// wrapper that hides them) knows no owner or grant, so a named key is the
// root account's alone: its owner and grantees in the hidden store are
// refused, not let through.
func TestCheckKeyUseFailsClosed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.meta.UpdateKeyPolicy(ctx, "shared", func(p *meta.KeyPolicy) error {
		p.Owner = "olga"
		p.Grants = map[string]meta.KeyGrant{"enc": {Encrypt: true}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hidden := struct{ meta.Store }{f.meta}
	svc := New(hidden, nil, Options{})
	for _, c := range []struct {
		p        Principal
		key, use string
		want     *errs.Error
	}{
		{Principal{User: "olga"}, "shared", KeyDecrypt, errs.AccessDenied},
		{Principal{User: "enc"}, "shared", KeyEncrypt, errs.AccessDenied},
		{Principal{User: "mallory"}, "other", KeyEncrypt, errs.AccessDenied},
		{Principal{User: "root", Root: true}, "shared", KeyEncrypt, nil},
		{Principal{User: "olga"}, "", KeyEncrypt, nil}, // the default key
	} {
		err := svc.checkKeyUse(ctx, c.p, c.key, c.use)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%+v %s %s: %v, want %v", c.p, c.key, c.use, err, c.want)
		}
	}
}
