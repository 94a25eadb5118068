package backup

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// vanishing is a live tier on which one blob disappears while it is
// read: its version is deleted and the read fails part-way.
type vanishing struct {
	blob.Store
	id     string
	delete func()
}

func (v *vanishing) Open(ctx context.Context, id string) (blob.Reader, error) {
	r, err := v.Store.Open(ctx, id)
	if err != nil || id != v.id {
		return r, err
	}
	return &vanishingReader{Reader: r, v: v}, nil
}

type vanishingReader struct {
	blob.Reader
	v *vanishing
}

func (r *vanishingReader) ReadAt(p []byte, off int64) (int, error) {
	r.v.delete()
	n, _ := r.Reader.ReadAt(p[:min(len(p), 100)], off)
	return n, blob.ErrNotFound
}

// TestScaleOutBlobVanishes: a blob deleted (with its version) while a
// scale-out backup streams it leaves a whole archive without that
// version, which restores; it does not break the backup.
func TestScaleOutBlobVanishes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, blobs := sourceStores(t, dir)
	ids := map[string]string{}
	for _, key := range []string{"kept", "deleted"} {
		w, err := blobs.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte(key), 1000)
		w.Write(body)
		id, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids[key] = id
		o := &meta.Object{Bucket: "b", Key: key, LastModified: time.Now(),
			Parts: []meta.Part{{Number: 1, BlobID: id, Size: int64(len(body)), StoredSize: int64(len(body))}}}
		if _, err := m.PutObject(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	src := &vanishing{Store: blobs, id: ids["deleted"], delete: func() {
		if _, err := m.DeleteObject(ctx, "b", "deleted", nil); err != nil && !errors.Is(err, meta.ErrNoSuchKey) {
			t.Error(err)
		}
	}}
	var buf bytes.Buffer
	st, err := WriteScaleOut(ctx, &buf, ScaleOutSource{Meta: m, Blobs: src, TempDir: dir})
	if err != nil {
		t.Fatalf("WriteScaleOut with a blob vanishing mid-read: %v", err)
	}
	// Two entries: the kept blob and the torn one's zeros, which no
	// record references.
	if st.Blobs != 2 {
		t.Fatalf("%d blob entries in the archive's count, want 2", st.Blobs)
	}
	tg := restoreTarget(t)
	if _, err := Restore(ctx, bytes.NewReader(buf.Bytes()), tg); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	rm, err := bolt.Open(tg.MetaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	if _, err := rm.GetObject(ctx, "b", "kept"); err != nil {
		t.Errorf("kept: %v", err)
	}
	if _, err := rm.GetObject(ctx, "b", "deleted"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("deleted: %v, want ErrNoSuchKey", err)
	}
}
