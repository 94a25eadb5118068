package service

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// countingMeta counts the object reads that reach the store.
type countingMeta struct {
	meta.Store
	objectReads atomic.Int64
}

func (c *countingMeta) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	c.objectReads.Add(1)
	return c.Store.GetObject(ctx, bucket, key)
}

func (c *countingMeta) GetObjectVersion(ctx context.Context, bucket, key, id string) (*meta.Object, error) {
	c.objectReads.Add(1)
	return c.Store.GetObjectVersion(ctx, bucket, key, id)
}

// countingBlobs counts the blobs opened.
type countingBlobs struct {
	blob.Store
	opens atomic.Int64
}

func (c *countingBlobs) Open(ctx context.Context, id string) (blob.Reader, error) {
	c.opens.Add(1)
	return c.Store.Open(ctx, id)
}

// TestReadCosts: a GET or HEAD of a missing key costs one metadata read
// transaction (the bucket comes from the store's cache), and a HEAD opens
// no blob.
func TestReadCosts(t *testing.T) {
	dir := t.TempDir()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	b, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	cm, cb := &countingMeta{Store: m}, &countingBlobs{Store: b}
	base := newFixture(t)
	svc := New(cm, cb, Options{Sealer: base.svc.sealer})
	p := Principal{User: "alice"}
	ctx := context.Background()
	if _, err := svc.CreateBucket(ctx, p, "bkt", "", ""); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 2*InlineMax) // a blob, not inline
	if _, err := svc.PutObject(ctx, p, PutObjectInput{Bucket: "bkt", Key: "big", Body: Body{Reader: bytes.NewReader(big), Size: int64(len(big))}}); err != nil {
		t.Fatal(err)
	}
	svc.HeadObject(ctx, p, GetObjectInput{Bucket: "bkt", Key: "big"}) // the bucket is cached from here

	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"GET", func() error {
			_, err := svc.GetObject(ctx, p, GetObjectInput{Bucket: "bkt", Key: "missing"})
			return err
		}},
		{"HEAD", func() error {
			_, _, err := svc.HeadObject(ctx, p, GetObjectInput{Bucket: "bkt", Key: "missing"})
			return err
		}},
	} {
		txs, reads := m.ReadTxs(), cm.objectReads.Load()
		if err := op.do(); !errors.Is(err, errs.NoSuchKey) {
			t.Fatalf("%s missing: %v", op.name, err)
		}
		if n := m.ReadTxs() - txs; n != 1 {
			t.Errorf("%s of a missing key: %d metadata read transactions, want 1", op.name, n)
		}
		if n := cm.objectReads.Load() - reads; n != 1 {
			t.Errorf("%s of a missing key: %d object reads, want 1", op.name, n)
		}
	}

	opens := cb.opens.Load()
	txs := m.ReadTxs()
	if _, _, err := svc.HeadObject(ctx, p, GetObjectInput{Bucket: "bkt", Key: "big"}); err != nil {
		t.Fatal(err)
	}
	if n := cb.opens.Load() - opens; n != 0 {
		t.Errorf("HEAD opened %d blobs", n)
	}
	if n := m.ReadTxs() - txs; n != 1 {
		t.Errorf("HEAD: %d metadata read transactions, want 1", n)
	}
}
