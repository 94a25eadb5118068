package service

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// countingMeta counts the object reads that reach the store: with their
// inline bytes (objectReads) and without (recordReads).
type countingMeta struct {
	meta.Store
	objectReads, recordReads atomic.Int64
}

func (c *countingMeta) ReadObject(ctx context.Context, bucket, key, versionID string, into func([]byte) []byte) (*meta.Object, error) {
	if into == nil {
		c.recordReads.Add(1)
	} else {
		c.objectReads.Add(1)
	}
	return c.Store.(meta.RecordReader).ReadObject(ctx, bucket, key, versionID, into)
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
// transaction (the bucket comes from the store's cache), a HEAD opens no
// blob, and a HEAD of an object kept inline leaves its bytes unread.
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
		txs, reads := m.ReadTxs(), cm.objectReads.Load()+cm.recordReads.Load()
		if err := op.do(); !errors.Is(err, errs.NoSuchKey) {
			t.Fatalf("%s missing: %v", op.name, err)
		}
		if n := m.ReadTxs() - txs; n != 1 {
			t.Errorf("%s of a missing key: %d metadata read transactions, want 1", op.name, n)
		}
		if n := cm.objectReads.Load() + cm.recordReads.Load() - reads; n != 1 {
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

	small := []byte("kept inline, read only by a GET")
	for _, v := range []string{"", "version"} {
		if v != "" {
			if err := svc.PutBucketVersioning(ctx, p, "bkt", meta.VersioningEnabled); err != nil {
				t.Fatal(err)
			}
		}
		put, err := svc.PutObject(ctx, p, PutObjectInput{Bucket: "bkt", Key: "small", Body: Body{Reader: bytes.NewReader(small), Size: int64(len(small))}})
		if err != nil {
			t.Fatal(err)
		}
		in := GetObjectInput{Bucket: "bkt", Key: "small"}
		if v != "" {
			in.VersionID = put.VersionID
		}
		objects, records := cm.objectReads.Load(), cm.recordReads.Load()
		o, _, err := svc.HeadObject(ctx, p, in)
		if err != nil || o.Size != int64(len(small)) {
			t.Fatalf("HEAD %q: %+v, %v", v, o, err)
		}
		if n, r := cm.objectReads.Load()-objects, cm.recordReads.Load()-records; n != 0 || r != 1 {
			t.Errorf("HEAD %q of an inline object: %d reads with the bytes, %d without; want 0, 1", v, n, r)
		}
		body, err := svc.GetObject(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body.Body)
		body.Body.Close()
		if err != nil || !bytes.Equal(got, small) {
			t.Fatalf("GET %q after HEAD: %q, %v", v, got, err)
		}
		if n := cm.objectReads.Load() - objects; n != 1 {
			t.Errorf("GET %q of an inline object: %d reads with the bytes, want 1", v, n)
		}
	}
}
