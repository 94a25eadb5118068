package remote

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	rootKey := bytes.Repeat([]byte{7}, 32)
	reg := New(store, rootKey)
	const secret = "remote-secret-canary-3f9a1c"
	if err := reg.Add(ctx, Remote{Name: "eu-west", URL: "https://127.0.0.1:9443", AccessKey: "AKEU", SecretKey: secret, Insecure: true}); err != nil {
		t.Fatal(err)
	}
	got, err := reg.Get(ctx, "eu-west")
	if err != nil {
		t.Fatal(err)
	}
	want := Remote{Name: "eu-west", URL: "https://127.0.0.1:9443", AccessKey: "AKEU", SecretKey: secret, Insecure: true}
	if *got != want {
		t.Fatalf("Get = %+v, want %+v", *got, want)
	}
	list, err := reg.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "eu-west" || list[0].AccessKey != "AKEU" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if ok, err := reg.Exists(ctx, "eu-west"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}

	// The secret is sealed: not in the store file, and it opens under
	// the root key only, bound to its remote.
	store.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the remote's secret is stored in plaintext")
	}
	if store, err = bolt.Open(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := New(store, bytes.Repeat([]byte{8}, 32)).Get(ctx, "eu-west"); err == nil {
		t.Fatal("the secret opened under another root key")
	}
	m, _ := store.GetRemote(ctx, "eu-west")
	m.Name = "other"
	store.PutRemote(ctx, m)
	if _, err := New(store, rootKey).Get(ctx, "other"); err == nil {
		t.Fatal("a sealed secret moved to another remote still opened")
	}

	reg = New(store, rootKey)
	if err := reg.Remove(ctx, "eu-west"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Get(ctx, "eu-west"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if err := reg.Remove(ctx, "eu-west"); !errors.Is(err, meta.ErrNoSuchRemote) {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestAddValidation(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := New(store, make([]byte, 32))
	ok := Remote{Name: "r1", URL: "http://127.0.0.1:9000", AccessKey: "a", SecretKey: "s"}
	for _, tc := range []struct {
		name string
		edit func(*Remote)
	}{
		{"upper-case name", func(r *Remote) { r.Name = "EU" }},
		{"colon in name", func(r *Remote) { r.Name = "a:b" }},
		{"empty name", func(r *Remote) { r.Name = "" }},
		{"no scheme", func(r *Remote) { r.URL = "127.0.0.1:9000" }},
		{"ftp", func(r *Remote) { r.URL = "ftp://127.0.0.1" }},
		{"no secret", func(r *Remote) { r.SecretKey = "" }},
	} {
		r := ok
		tc.edit(&r)
		if err := reg.Add(context.Background(), r); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := reg.Add(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
}
