package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestCheckKeyUse: who may use a key for what, by policy state.
func TestCheckKeyUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	set := func(key string, fn func(*meta.KeyPolicy)) {
		if _, err := f.meta.UpdateKeyPolicy(ctx, key, func(p *meta.KeyPolicy) error { fn(p); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	set("shared", func(p *meta.KeyPolicy) {
		p.Owner = "olga"
		p.Grants = map[string]meta.KeyGrant{"enc": {Encrypt: true}, "dec": {Decrypt: true}}
	})
	set("pending", func(p *meta.KeyPolicy) { p.DeletionDate = time.Now().Add(time.Hour) })
	set("gone", func(p *meta.KeyPolicy) { p.Destroyed = time.Now() })
	rootP := Principal{User: "root", Root: true}
	for _, c := range []struct {
		p        Principal
		key, use string
		want     *errs.Error
	}{
		{Principal{User: "alice"}, "", KeyEncrypt, nil},                        // the default key
		{Principal{User: "alice"}, "strongroom-default", KeyDecrypt, nil},      // named
		{Principal{User: "alice"}, "unpoliced", KeyEncrypt, errs.AccessDenied}, // no policy: root's
		{rootP, "unpoliced", KeyEncrypt, nil},
		{Principal{User: "root"}, "unpoliced", KeyDecrypt, nil}, // acting for a root-owned bucket
		{Principal{User: "olga"}, "alias/shared", KeyDecrypt, nil},
		{Principal{User: "enc"}, "shared", KeyEncrypt, nil},
		{Principal{User: "enc"}, "shared", KeyDecrypt, errs.AccessDenied},
		{Principal{User: "dec"}, "arn:aws:kms:r:1:key/shared", KeyDecrypt, nil},
		{Principal{User: "dec"}, "shared", KeyEncrypt, errs.AccessDenied},
		{Principal{}, "shared", KeyDecrypt, errs.AccessDenied}, // anonymous
		{rootP, "pending", KeyDecrypt, errs.KMSInvalidState},
		{rootP, "gone", KeyEncrypt, errs.KMSInvalidState},
		{Principal{User: "alice"}, "bad id!", KeyEncrypt, nil}, // the KMS refuses it
	} {
		err := f.svc.checkKeyUse(ctx, c.p, c.key, c.use)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%+v %s %s: %v, want %v", c.p, c.key, c.use, err, c.want)
		}
	}
}

// BenchmarkCheckKeyUse: the cost a grant check adds to an SSE-KMS request
// under a named key (one metadata read).
func BenchmarkCheckKeyUse(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	if _, err := f.meta.UpdateKeyPolicy(ctx, "k", func(p *meta.KeyPolicy) error {
		p.Grants = map[string]meta.KeyGrant{"alice": {Encrypt: true, Decrypt: true}}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	p := Principal{User: "alice"}
	for b.Loop() {
		if err := f.svc.checkKeyUse(ctx, p, "k", KeyEncrypt); err != nil {
			b.Fatal(err)
		}
	}
}
