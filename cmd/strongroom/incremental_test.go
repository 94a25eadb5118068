package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestIncrementalBackupChain: a full backup of a running node, an
// increment over it taken while the node runs, a second increment over the
// first taken from the stopped directory; the increments hold only new
// blobs, and the chain, given in any order, restores every object's bytes
// in every encryption mode. An increment alone, or a chain with a gap,
// is refused.
func TestIncrementalBackupChain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	n := startBackupNode(t, data)
	root := service.Principal{User: "root", Root: true}
	want := map[string]int{} // key -> generation last written
	put := func(key string, gen int) {
		t.Helper()
		body := content(key, gen)
		_, err := n.Service.PutObject(ctx, root, service.PutObjectInput{
			Bucket: "bkt", Key: key, SSE: backupSpec(t, key),
			Meta: service.ObjectMeta{UserMeta: map[string]string{"gen": strconv.Itoa(gen)}},
			Body: service.Body{Reader: bytes.NewReader(body), Size: int64(len(body))},
		})
		if err != nil {
			t.Fatal(err)
		}
		want[key] = gen
	}
	del := func(key string) {
		t.Helper()
		if err := n.Service.DeleteObject(ctx, root, "bkt", key); err != nil {
			t.Fatal(err)
		}
		delete(want, key)
	}
	// Generations 200+ are blob-backed (over the inline limit).
	for i := range 24 {
		put(fmt.Sprintf("%c-%02d", "pskc"[i%4], i), 200+i)
	}
	full := filepath.Join(dir, "full.backup")
	mustCLI(t, "backup", "--data", data, "--out", full)

	// Online increment: new objects, overwrites, deletes.
	for i := range 8 {
		put(fmt.Sprintf("%c-new-%02d", "pskc"[i%4], i), 300+i)
	}
	put("p-00", 400)
	put("k-01", 401)
	del("s-02")
	inc1 := filepath.Join(dir, "inc1.backup")
	mustCLI(t, "backup", "--data", data, "--out", inc1, "--since", full)

	// Offline increment over the first.
	put("c-03", 402)
	put("s-new-late", 403)
	del("k-new-05")
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	inc2 := filepath.Join(dir, "inc2.backup")
	mustCLI(t, "backup", "--data", data, "--out", inc2, "--since", inc1)

	// The increments carry only the blobs their base lacks.
	blobs := func(path string) (n int, skipped int64) {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, err := backup.Check(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return int(st.Blobs), st.Skipped
	}
	fullBlobs, _ := blobs(full)
	inc1Blobs, inc1Skipped := blobs(inc1)
	inc2Blobs, inc2Skipped := blobs(inc2)
	if fullBlobs < 20 || inc1Blobs < 9 || inc1Blobs >= fullBlobs || inc2Blobs < 2 || inc2Blobs > 4 || inc1Skipped == 0 || inc2Skipped == 0 {
		t.Fatalf("blobs: full %d, inc1 %d (%d left to the base), inc2 %d (%d left)", fullBlobs, inc1Blobs, inc1Skipped, inc2Blobs, inc2Skipped)
	}

	t.Logf("blobs: full %d, inc1 %d (%d left to its base), inc2 %d (%d left)", fullBlobs, inc1Blobs, inc1Skipped, inc2Blobs, inc2Skipped)

	rootKey := filepath.Join(data, "root.key")
	restoreAndCheck := func(name string, from ...string) {
		t.Helper()
		into := filepath.Join(dir, name)
		args := []string{"restore", "--data", into}
		for _, f := range from {
			args = append(args, "--from", f)
		}
		if out, err := cli(t, args...); err != nil || !strings.Contains(out, "restored") {
			t.Fatalf("restore %s: %q, %v", name, out, err)
		}
		if err := copyFile(rootKey, filepath.Join(into, "root.key")); err != nil {
			t.Fatal(err)
		}
		r := testnode.Start(t, testnode.Options{DataDir: into, InsecureSSEC: true})
		res, err := r.Service.ListObjects(ctx, root, service.ListInput{Bucket: "bkt", MaxKeys: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Objects) != len(want) {
			t.Errorf("%s: %d objects restored, want %d", name, len(res.Objects), len(want))
		}
		for _, o := range res.Objects {
			gen, ok := want[o.Key]
			if !ok || o.UserMeta["gen"] != strconv.Itoa(gen) {
				t.Errorf("%s: %s generation %s restored, want %d (present: %v)", name, o.Key, o.UserMeta["gen"], gen, ok)
				continue
			}
			checkRestored(t, r, name, o.Key, gen)
		}
	}
	restoreAndCheck("from-chain", inc1, full, inc2) // any order

	// An increment alone, or a chain with a gap, is refused and leaves
	// its directory empty.
	for name, from := range map[string][]string{
		"increment alone": {inc2},
		"a gap":           {inc2, full},
	} {
		into := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		args := []string{"restore", "--data", into}
		for _, f := range from {
			args = append(args, "--from", f)
		}
		_, err := cli(t, args...)
		if err == nil || (!errors.Is(err, backup.ErrIncrement) && !strings.Contains(err.Error(), "not given")) {
			t.Errorf("restore from %s: %v, want a refusal naming the missing base", name, err)
		}
		if ents, _ := os.ReadDir(into); len(ents) > 0 {
			t.Errorf("restore from %s left %d entries in its directory", name, len(ents))
		}
	}
}
