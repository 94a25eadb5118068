package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob/fs"
)

// dropBlob rewrites an archive without its first blob, its trailer's
// counts fixed to match (so only the blob list tells the blob is gone);
// a non-empty id renames it (and sets its base).
func dropBlob(t *testing.T, a []byte, id, base string) []byte {
	t.Helper()
	dropped := int64(-1)
	return rewrite(t, a, func(h *tar.Header, b []byte) ([]byte, bool) {
		switch {
		case strings.HasPrefix(h.Name, blobsDir) && dropped < 0:
			dropped = int64(len(b))
			return nil, false
		case h.Name == headerName && id != "":
			var hd Header
			json.Unmarshal(b, &hd)
			hd.ID, hd.Base = id, base
			b, _ = json.Marshal(hd)
		case h.Name == trailerName:
			var st Stats
			json.Unmarshal(b, &st)
			st.Blobs--
			st.BlobBytes -= dropped
			b, _ = json.Marshal(st)
		}
		return b, true
	})
}

func restoreTarget(t *testing.T) *Target {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return &Target{Dir: dir, CreateBlob: blobs.CreateAs, MetaFile: filepath.Join(dir, "meta.db"), Files: map[string]string{}}
}

// TestRestoreRefusesHoles: a restore whose archives lack a blob their
// metadata references fails, naming it, rather than leave an object with
// a hole: a full archive alone, and a chain whose base lacks a blob the
// tip's metadata references and that the tip leaves to it.
func TestRestoreRefusesHoles(t *testing.T) {
	ctx := context.Background()
	a := archive(t)
	if _, err := Restore(ctx, bytes.NewReader(a), restoreTarget(t)); err != nil {
		t.Fatalf("the archive as written: %v", err)
	}
	holed := dropBlob(t, a, "", "")
	if _, err := Check(bytes.NewReader(holed)); err != nil {
		t.Fatalf("the rewritten archive must check whole by its counts: %v", err)
	}
	if _, err := Restore(ctx, bytes.NewReader(holed), restoreTarget(t)); err == nil || !strings.Contains(err.Error(), "in no archive restored") {
		t.Fatalf("restoring a full archive without a referenced blob: %v, want an error", err)
	}
	// A chain: the base lacks one blob, the increment over it holds none.
	h, err := ReadHeader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	base := dropBlob(t, a, h.ID+"-base", "")
	inc := rewrite(t, a, func(hd *tar.Header, b []byte) ([]byte, bool) {
		switch {
		case strings.HasPrefix(hd.Name, blobsDir):
			return nil, false
		case hd.Name == headerName:
			var x Header
			json.Unmarshal(b, &x)
			x.ID, x.Base = h.ID+"-inc", h.ID+"-base"
			b, _ = json.Marshal(x)
		case hd.Name == trailerName:
			var st Stats
			json.Unmarshal(b, &st)
			st.Skipped, st.Blobs, st.BlobBytes = st.Blobs, 0, 0
			b, _ = json.Marshal(st)
		}
		return b, true
	})
	if _, err := RestoreChain(ctx, []io.Reader{bytes.NewReader(inc), bytes.NewReader(a)}, restoreTarget(t)); err == nil {
		// (a is not the base inc names.)
		t.Fatal("a chain with the wrong base restored")
	}
	if _, err := RestoreChain(ctx, []io.Reader{bytes.NewReader(inc), bytes.NewReader(base)}, restoreTarget(t)); err == nil || !strings.Contains(err.Error(), "in no archive restored") {
		t.Fatalf("restoring a chain whose base lacks a referenced blob: %v, want an error", err)
	}
	whole := rewrite(t, a, func(hd *tar.Header, b []byte) ([]byte, bool) {
		if hd.Name == headerName {
			var x Header
			json.Unmarshal(b, &x)
			x.ID = h.ID + "-base"
			b, _ = json.Marshal(x)
		}
		return b, true
	})
	if _, err := RestoreChain(ctx, []io.Reader{bytes.NewReader(inc), bytes.NewReader(whole)}, restoreTarget(t)); err != nil {
		t.Fatalf("a whole chain: %v", err)
	}
}
