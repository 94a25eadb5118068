package kms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// memBlobs is an in-memory meta.SharedBlobs: UpdateBlob runs fn under one
// lock, as the store's transaction does. down makes every call fail.
type memBlobs struct {
	mu    sync.Mutex
	blobs map[string][]byte
	gets  atomic.Int64
	down  atomic.Bool
}

func newMemBlobs() *memBlobs { return &memBlobs{blobs: map[string][]byte{}} }

var errDown = fmt.Errorf("%w: test store down", meta.ErrUnavailable)

func (m *memBlobs) GetBlob(ctx context.Context, name string) ([]byte, error) {
	m.gets.Add(1)
	if m.down.Load() {
		return nil, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.blobs[name]
	if !ok {
		return nil, meta.ErrNoSuchBlob
	}
	return bytes.Clone(v), nil
}

func (m *memBlobs) UpdateBlob(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) error {
	if m.down.Load() {
		return errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, err := fn(bytes.Clone(m.blobs[name]))
	if err != nil {
		return err
	}
	m.blobs[name] = bytes.Clone(v)
	return nil
}

// openShared opens a node's shared keyring over b (its own lock file).
func openShared(t testing.TB, b meta.SharedBlobs, root []byte, o SharedOptions) *Keyring {
	t.Helper()
	k, err := tryShared(t, b, root, o)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func tryShared(t testing.TB, b meta.SharedBlobs, root []byte, o SharedOptions) (*Keyring, error) {
	t.Helper()
	if o.LockPath == "" {
		o.LockPath = filepath.Join(t.TempDir(), "keyring.lock")
	}
	k, err := OpenSharedKeyring(bg, b, root, o)
	if err == nil {
		t.Cleanup(func() { k.Close() })
	}
	return k, err
}

// TestSharedKeyringAcrossNodes: a key created, or rotated, on one node
// wraps and unwraps on another at once, without waiting for a refresh.
func TestSharedKeyringAcrossNodes(t *testing.T) {
	b, root := newMemBlobs(), randomKey(t)
	slow := SharedOptions{Refresh: time.Hour} // only misses re-read
	a, c := openShared(t, b, root, slow), openShared(t, b, root, slow)
	if !a.Shared() || !c.Shared() {
		t.Fatal("not shared")
	}
	def, err := c.DescribeKey(bg, "")
	if err != nil || def.ID != DefaultKeyName {
		t.Fatalf("default key on the second node: %+v %v", def, err)
	}

	mustCreate(t, a, "team")
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}
	dk, err := c.GenerateDataKey(bg, "alias/team", encCtx)
	if err != nil {
		t.Fatalf("GenerateDataKey on the other node: %v", err)
	}
	pt, err := a.Decrypt(bg, dk.Ciphertext, encCtx)
	if err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("Decrypt on the creating node: %v", err)
	}

	if _, err := a.RotateKey(bg, "team"); err != nil {
		t.Fatal(err)
	}
	dk2, err := a.GenerateDataKey(bg, "team", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if _, v, _ := a.CiphertextKey(dk2.Ciphertext); v != 2 {
		t.Fatalf("version %d after rotation", v)
	}
	if pt, err := c.Decrypt(bg, dk2.Ciphertext, encCtx); err != nil || !bytes.Equal(pt, dk2.Plaintext) {
		t.Fatalf("Decrypt of version 2 on the other node: %v", err)
	}
	if _, err := c.CreateKey(bg, "team"); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("CreateKey of a name taken on another node: %v, want ErrKeyExists", err)
	}
	keys, err := c.ListKeys(bg)
	if err != nil || len(keys) != 2 || keys[1].ID != "team" || keys[1].Versions != 2 {
		t.Fatalf("ListKeys on the other node: %+v %v", keys, err)
	}

	// An unknown (valid) key id costs one read; a malformed one none.
	before := b.gets.Load()
	if _, err := c.GenerateDataKey(bg, "nope", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := c.GenerateDataKey(bg, "bad key!", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("malformed key: %v", err)
	}
	if _, err := c.GenerateDataKey(bg, "team", nil); err != nil {
		t.Fatal(err)
	}
	if n := b.gets.Load() - before; n != 1 {
		t.Fatalf("%d reads of the store, want 1 (the unknown key's)", n)
	}
}

// TestSharedKeyringStateBound: a key disabled (then destroyed) on one
// node stops working on another within the refresh interval, for cached
// bucket keys too (the StateSerial grows).
func TestSharedKeyringStateBound(t *testing.T) {
	b, root := newMemBlobs(), randomKey(t)
	const every = 100 * time.Millisecond
	a := openShared(t, b, root, SharedOptions{Refresh: every})
	c := openShared(t, b, root, SharedOptions{Refresh: every})
	mustCreate(t, a, "k")
	mustCreate(t, a, "gone")
	dk, err := c.GenerateDataKey(bg, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	serial := c.KeyStateSerial()
	if _, err := a.DisableKey(bg, "k"); err != nil {
		t.Fatal(err)
	}
	disabledAt := time.Now()
	// The serial alone (what cached bucket keys are checked against)
	// follows within the bound.
	waitFor(t, 5*every, "the StateSerial grows on the other node", func() bool {
		return c.KeyStateSerial() != serial
	})
	if d := time.Since(disabledAt); d > every+50*time.Millisecond {
		t.Errorf("the disable took %v to reach the other node, bound %v", d, every)
	}
	if _, err := c.Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Decrypt: %v, want ErrDisabled", err)
	}
	if _, err := c.GenerateDataKey(bg, "k", nil); !errors.Is(err, ErrDisabled) {
		t.Fatalf("GenerateDataKey: %v, want ErrDisabled", err)
	}

	if _, err := c.GenerateDataKey(bg, "gone", nil); err != nil {
		t.Fatal(err)
	}
	if err := a.DestroyKey(bg, "gone"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*every, "a destroyed key gone on the other node", func() bool {
		_, err := c.GenerateDataKey(bg, "gone", nil)
		return errors.Is(err, ErrNotFound)
	})

	// The store unreachable: within the bound the copy serves; past it
	// every use fails closed, and the serial makes cached keys stale.
	b.down.Store(true)
	serial = c.KeyStateSerial()
	time.Sleep(every + 20*time.Millisecond)
	if _, err := c.GenerateDataKey(bg, "", nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with the store down past the bound: %v, want ErrUnavailable", err)
	}
	if c.KeyStateSerial() == serial {
		t.Error("the StateSerial did not grow while the store cannot be read")
	}
	b.down.Store(false)
	if _, err := c.GenerateDataKey(bg, "", nil); err != nil {
		t.Fatalf("after the store is back: %v", err)
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
	}
}

// TestSharedKeyringConcurrentCreates: nodes changing the keyring at once
// lose no change.
func TestSharedKeyringConcurrentCreates(t *testing.T) {
	b, root := newMemBlobs(), randomKey(t)
	nodes := []*Keyring{openShared(t, b, root, SharedOptions{}), openShared(t, b, root, SharedOptions{})}
	const per = 15
	var wg sync.WaitGroup
	for i, k := range nodes {
		for j := range per {
			wg.Go(func() {
				if _, err := k.CreateKey(bg, fmt.Sprintf("n%d-%d", i, j)); err != nil {
					t.Error(err)
				}
				if _, err := k.RotateKey(bg, ""); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for i, k := range nodes {
		keys, err := k.ListKeys(bg)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2*per+1 {
			t.Fatalf("node %d lists %d keys, want %d", i, len(keys), 2*per+1)
		}
		if d, _ := k.DescribeKey(bg, ""); d.Versions != 2*per+1 {
			t.Fatalf("node %d: default key has %d versions, want %d", i, d.Versions, 2*per+1)
		}
	}
}

// TestSharedKeyringImport: the first node's keyring file becomes the
// shared keyring (renamed once imported); a node whose file holds other
// keys is refused; one whose file is already in it starts.
func TestSharedKeyringImport(t *testing.T) {
	b := newMemBlobs()
	local, path, root := newKeyring(t)
	mustCreate(t, local, "old")
	encCtx := map[string]string{"c": "1"}
	dk, err := local.GenerateDataKey(bg, "old", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, local)

	k := openShared(t, b, root, SharedOptions{ImportPath: path})
	if k.ImportedFrom() != path {
		t.Fatalf("ImportedFrom = %q", k.ImportedFrom())
	}
	if pt, err := k.Decrypt(bg, dk.Ciphertext, encCtx); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("a data key of the imported file: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the keyring file is still there after the import: %v", err)
	}
	if _, err := os.Stat(path + ImportedSuffix); err != nil {
		t.Fatal(err)
	}

	// A copy of the imported file (another node set up from the same
	// one) is in the shared keyring already: it starts, nothing changes.
	dir2 := t.TempDir()
	copyFile(t, path+ImportedSuffix, filepath.Join(dir2, "keyring"))
	mustCreate(t, k, "later")
	k2 := openShared(t, b, root, SharedOptions{ImportPath: filepath.Join(dir2, "keyring")})
	if keys, _ := k2.ListKeys(bg); len(keys) != 3 {
		t.Fatalf("%d keys after a second node's start, want 3", len(keys))
	}

	// A node with its own keyring (its own default key) is refused.
	other, otherPath, _ := newKeyringWithRoot(t, root)
	mustClose(t, other)
	_, err = tryShared(t, b, root, SharedOptions{ImportPath: otherPath})
	if !errors.Is(err, ErrKeyringConflict) {
		t.Fatalf("a differing local keyring: %v, want ErrKeyringConflict", err)
	}
	if _, err := os.Stat(otherPath); err != nil {
		t.Fatalf("a refused keyring file was moved: %v", err)
	}
}

func newKeyringWithRoot(t testing.TB, root []byte) (*Keyring, string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyring")
	k, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	return k, path, root
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSharedKeyringWrongRoot: a node with another root key cannot open
// the deployment's keyring, and the root-key check names the problem.
func TestSharedKeyringWrongRoot(t *testing.T) {
	b, root := newMemBlobs(), randomKey(t)
	openShared(t, b, root, SharedOptions{})
	if _, err := tryShared(t, b, randomKey(t), SharedOptions{}); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("another root key: %v, want ErrWrongRootKey", err)
	}
	k := openShared(t, b, root, SharedOptions{Refresh: 10 * time.Millisecond})
	if err := k.ChangeRootKey(bg, randomKey(t)); err == nil {
		t.Fatal("ChangeRootKey of a shared keyring succeeded")
	}

	// A keyring tampered with in the store: the node's copy is not
	// trusted past the bound, and no node opens it.
	b.mu.Lock()
	b.blobs[SharedKeyringBlob] = flip(b.blobs[SharedKeyringBlob], len(b.blobs[SharedKeyringBlob])-1)
	b.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	if _, err := k.GenerateDataKey(bg, "", nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a tampered shared keyring: %v, want ErrUnavailable", err)
	}
	if _, err := tryShared(t, b, root, SharedOptions{}); !errors.Is(err, ErrKeyringCorrupt) {
		t.Fatalf("opening a tampered shared keyring: %v, want ErrKeyringCorrupt", err)
	}
}

func TestCheckRootKey(t *testing.T) {
	b, root := newMemBlobs(), randomKey(t)
	if err := CheckRootKey(bg, b, root); err != nil {
		t.Fatalf("first check: %v", err)
	}
	rec := b.blobs[RootCheckBlob]
	if bytes.Contains(rec, root) || len(rec) != rootCheckLen {
		t.Fatalf("the record holds the key, or is %d bytes", len(rec))
	}
	if err := CheckRootKey(bg, b, root); err != nil {
		t.Fatalf("same key: %v", err)
	}
	if !bytes.Equal(b.blobs[RootCheckBlob], rec) {
		t.Fatal("a matching check rewrote the record")
	}
	err := CheckRootKey(bg, b, randomKey(t))
	if !errors.Is(err, ErrRootKeyMismatch) {
		t.Fatalf("another key: %v, want ErrRootKeyMismatch", err)
	}
	b.blobs[RootCheckBlob] = rec[:20]
	if err := CheckRootKey(bg, b, root); err == nil || errors.Is(err, ErrRootKeyMismatch) {
		t.Fatalf("a damaged record: %v", err)
	}
}

// BenchmarkSharedDecrypt is BenchmarkDecrypt on a shared keyring (the
// in-memory store; the refresh interval's re-reads included).
func BenchmarkSharedDecrypt(b *testing.B) {
	k := openShared(b, newMemBlobs(), randomKey(b), SharedOptions{})
	dk, err := k.GenerateDataKey(bg, "", benchCtx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		pt, err := k.Decrypt(bg, dk.Ciphertext, benchCtx)
		if err != nil {
			b.Fatal(err)
		}
		clear(pt)
	}
}
