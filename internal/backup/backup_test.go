package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// archive writes a backup of a store with one object in two blobs.
// sourceStores opens a metadata store and blob store in dir, with bucket
// "b" made.
func sourceStores(t *testing.T, dir string) (*bolt.Store, *fs.Store) {
	t.Helper()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	blobs, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateBucket(context.Background(), &meta.Bucket{Name: "b", Owner: "o", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return m, blobs
}

func archive(t *testing.T) []byte {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	m, blobs := sourceStores(t, dir)
	o := &meta.Object{Bucket: "b", Key: "k", LastModified: time.Now()}
	for i, body := range []string{"first part", "second part"} {
		w, err := blobs.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
		id, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		o.Parts = append(o.Parts, meta.Part{Number: i + 1, BlobID: id, Size: int64(len(body)), StoredSize: int64(len(body))})
	}
	if _, err := m.PutObject(ctx, o, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	st, err := Write(ctx, &buf, Source{Meta: m, Blobs: blobs, TempDir: dir})
	if err != nil || st.Blobs != 2 || st.BlobBytes != int64(len("first part")+len("second part")) {
		t.Fatalf("Write: %+v, %v", st, err)
	}
	return buf.Bytes()
}

// rewrite copies an archive's entries through keep (which may drop or
// change them).
func rewrite(t *testing.T, a []byte, keep func(h *tar.Header, body []byte) ([]byte, bool)) []byte {
	t.Helper()
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(a)), tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if body, ok := keep(h, body); ok {
			h.Size = int64(len(body))
			tw.WriteHeader(h)
			tw.Write(body)
		}
	}
	tw.Close()
	return out.Bytes()
}

// TestCheckRefusesIncompleteArchives: an archive checks whole as written,
// and every way of its being incomplete or foreign is refused: cut short,
// a blob missing (the trailer's counts disagree), a changed blob size, an
// entry it does not know, another format, no header.
func TestCheckRefusesIncompleteArchives(t *testing.T) {
	a := archive(t)
	if _, err := Check(bytes.NewReader(a)); err != nil {
		t.Fatalf("the archive as written: %v", err)
	}
	dropped := 0
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"cut short": {a[:len(a)/2], "truncated"},
		"a blob dropped": {rewrite(t, a, func(h *tar.Header, b []byte) ([]byte, bool) {
			if strings.HasPrefix(h.Name, blobsDir) && dropped == 0 {
				dropped++
				return nil, false
			}
			return b, true
		}), "trailer says"},
		"a blob shortened": {rewrite(t, a, func(h *tar.Header, b []byte) ([]byte, bool) {
			if strings.HasPrefix(h.Name, blobsDir) {
				return b[:1], true
			}
			return b, true
		}), "trailer says"},
		"an unknown entry": {rewrite(t, a, func(h *tar.Header, b []byte) ([]byte, bool) {
			if h.Name == metaName {
				h.Name = "etc/passwd"
			}
			return b, true
		}), "unexpected entry"},
		"another format": {rewrite(t, a, func(h *tar.Header, b []byte) ([]byte, bool) {
			if h.Name == headerName {
				return bytes.Replace(b, []byte(Format), []byte("other/9"), 1), true
			}
			return b, true
		}), "unknown archive format"},
		"no header": {rewrite(t, a, func(h *tar.Header, b []byte) ([]byte, bool) {
			return b, h.Name != headerName
		}), "not a strongroom backup"},
	} {
		if _, err := Check(bytes.NewReader(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
}
