package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

var ctx = context.Background()

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// put writes data in chunks of the given size and commits it.
func put(t testing.TB, s *Store, data []byte, chunk int) string {
	t.Helper()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(chunk, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	id, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func walk(t testing.TB, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.Walk(ctx, func(id string, _ time.Time) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

func tmpEntries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, tmpDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readAll(t testing.TB, r blob.Reader) []byte {
	t.Helper()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCommitOpenReadDelete(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(map[bool]string{true: "direct", false: "buffered"}[direct], func(t *testing.T) {
			testCommitOpenReadDelete(t, direct)
		})
	}
}

func testCommitOpenReadDelete(t *testing.T, direct bool) {
	s, dir := openTemp(t)
	s.direct = direct
	tests := []struct {
		name        string
		size, chunk int
	}{
		{"empty", 0, 1},
		{"one byte", 1, 1},
		{"4K", 4096, 4096},
		{"buffer-1 in small writes", bufSize - 1, 1000},
		{"exactly buffer", bufSize, bufSize},
		{"buffer+1 one write", bufSize + 1, bufSize + 1},
		{"3.x buffers odd chunks", 3*bufSize + 123, 333_333},
		{"aligned tail", bufSize + 3*align, 64 << 10},
		{"unaligned, under a block", align - 1, 100},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := payload(tc.size, uint64(i))
			id := put(t, s, data, tc.chunk)
			if !validID(id) {
				t.Fatalf("id %q", id)
			}
			if _, err := os.Stat(filepath.Join(dir, id[:2], id[2:4], id)); err != nil {
				t.Fatalf("layout: %v", err)
			}
			r, err := s.Open(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Size() != int64(tc.size) {
				t.Fatalf("Size = %d, want %d", r.Size(), tc.size)
			}
			if got := readAll(t, r); !bytes.Equal(got, data) {
				t.Fatal("content differs")
			}
			if tc.size > 10 {
				buf := make([]byte, 5)
				if _, err := r.ReadAt(buf, int64(tc.size-7)); err != nil || !bytes.Equal(buf, data[tc.size-7:tc.size-2]) {
					t.Fatalf("ReadAt: %v", err)
				}
			}
			r.Close()
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("Open after Delete: %v", err)
			}
			if err := s.Delete(ctx, id); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("second Delete: %v", err)
			}
		})
	}
	if left := tmpEntries(t, dir); len(left) != 0 {
		t.Fatalf("tmp not empty: %v", left)
	}
}

func TestInvalidIDsNotFound(t *testing.T) {
	s, dir := openTemp(t)
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := put(t, s, []byte("x"), 1)
	for _, bad := range []string{"", "secret", "../secret", "tmp", id[:31], id + "0", "0123456789ABCDEF0123456789ABCDEF", "../../" + id[6:]} {
		if _, err := s.Open(ctx, bad); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q): %v", bad, err)
		}
		if err := s.Delete(ctx, bad); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Delete(%q): %v", bad, err)
		}
	}
}

func TestAbort(t *testing.T) {
	s, dir := openTemp(t)
	kept := put(t, s, []byte("kept"), 4)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload(2*bufSize+5, 1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Abort succeeded")
	}
	if _, err := w.Commit(ctx); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	if left := tmpEntries(t, dir); len(left) != 0 {
		t.Fatalf("tmp not empty: %v", left)
	}
	if got := walk(t, s); !slices.Equal(got, []string{kept}) {
		t.Fatalf("Walk = %v", got)
	}

	// Abort after Commit is a no-op that keeps the blob.
	w, _ = s.Create(ctx)
	w.Write([]byte("data"))
	id, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Commit succeeded")
	}
	if r, err := s.Open(ctx, id); err != nil {
		t.Fatalf("blob gone after Abort-after-Commit: %v", err)
	} else {
		r.Close()
	}
}

func TestCanceledCommitLeavesNothing(t *testing.T) {
	s, dir := openTemp(t)
	w, _ := s.Create(ctx)
	w.Write([]byte("data"))
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Commit(c); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if left := tmpEntries(t, dir); len(left) != 0 || len(walk(t, s)) != 0 {
		t.Fatalf("left behind: tmp %v", left)
	}
}

func TestUncommittedInvisibleAndSweptOnOpen(t *testing.T) {
	s, dir := openTemp(t)
	committed := put(t, s, []byte("committed"), 100)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Enough to reach the disk, past the buffer.
	if _, err := w.Write(payload(bufSize+10, 2)); err != nil {
		t.Fatal(err)
	}
	if got := walk(t, s); !slices.Equal(got, []string{committed}) {
		t.Fatalf("Walk sees %v, want only %s", got, committed)
	}
	if len(tmpEntries(t, dir)) != 1 {
		t.Fatal("expected the in-progress temp file")
	}
	// A crash leaves the temp file (and maybe odd leftovers) behind.
	if err := os.MkdirAll(filepath.Join(dir, tmpDir, "junkdir", "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if left := tmpEntries(t, dir); len(left) != 0 {
		t.Fatalf("tmp not swept: %v", left)
	}
	if got := walk(t, s2); !slices.Equal(got, []string{committed}) {
		t.Fatalf("after reopen Walk = %v", got)
	}
	r, err := s2.Open(ctx, committed)
	if err != nil || string(readAll(t, r)) != "committed" {
		t.Fatalf("committed blob after reopen: %v", err)
	}
	r.Close()
}

func TestDeleteWhileOpen(t *testing.T) {
	s, _ := openTemp(t)
	data := payload(100_000, 3)
	id := put(t, s, data, 4096)
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r); !bytes.Equal(got, data) {
		t.Fatal("reader broken after Delete")
	}
	if len(walk(t, s)) != 0 {
		t.Fatal("deleted blob still walked")
	}
}

func TestWalk(t *testing.T) {
	s, dir := openTemp(t)
	var want []string
	for i := range 20 {
		want = append(want, put(t, s, payload(10, uint64(i)), 10))
	}
	slices.Sort(want)
	// Things that are not blobs are ignored.
	os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o600)
	os.MkdirAll(filepath.Join(dir, "zz", "00"), 0o750)
	os.WriteFile(filepath.Join(dir, "zz", "00", "zz00"+want[0][4:]), nil, 0o600)
	os.WriteFile(filepath.Join(dir, want[0][:2], want[0][2:4], "notablob"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, want[0][:2], want[0][2:4], "ffff"+want[0][4:]), nil, 0o600) // wrong directory
	start := time.Now().Add(-time.Minute)
	var got []string
	err := s.Walk(ctx, func(id string, mt time.Time) error {
		if mt.Before(start) || mt.After(time.Now().Add(time.Minute)) {
			t.Errorf("modTime %v", mt)
		}
		got = append(got, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Walk = %v\nwant %v", got, want)
	}
	boom := errors.New("boom")
	n := 0
	if err := s.Walk(ctx, func(string, time.Time) error { n++; return boom }); err != boom || n != 1 {
		t.Fatalf("Walk error: %v after %d", err, n)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Walk(c, func(string, time.Time) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Walk: %v", err)
	}
}

func TestConcurrentCommits(t *testing.T) {
	s, _ := openTemp(t)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string][]byte{}
	)
	for g := range 16 {
		wg.Go(func() {
			for i := range 8 {
				data := payload(1000+g*10+i, uint64(g*100+i))
				id := put(t, s, data, 300)
				mu.Lock()
				ids[id] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(ids) != 128 || len(walk(t, s)) != 128 {
		t.Fatalf("%d ids, %d walked", len(ids), len(walk(t, s)))
	}
	for id, data := range ids {
		r, err := s.Open(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readAll(t, r), data) {
			t.Fatalf("%s: content differs", id)
		}
		r.Close()
	}
}

// failingFile is a real temp file whose writes fail with ENOSPC once
// `room` bytes have been written, or whose Sync fails, like a full disk.
type failingFile struct {
	*os.File
	room     int
	failSync bool
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) <= f.room {
		f.room -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:f.room])
	f.room = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func (f *failingFile) Sync() error {
	if f.failSync {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Sync()
}

func TestDiskFull(t *testing.T) {
	tests := []struct {
		name     string
		room     int
		failSync bool
		size     int
		failsAt  string // "write" or "commit"
	}{
		{"large write hits full disk", bufSize / 2, false, 3 * bufSize, "write"},
		{"buffer flush in Write", bufSize + 100, false, 3 * bufSize, "write"},
		{"small blob fails at Commit flush", 100, false, 4096, "commit"},
		{"fsync reports ENOSPC", 1 << 30, true, 4096, "commit"},
		{"zero room", 0, false, 1, "commit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := openTemp(t)
			s.createTemp = func(dir string, direct bool) (file, error) {
				f, err := createTemp(dir, direct)
				if err != nil {
					return nil, err
				}
				return &failingFile{File: f, room: tc.room, failSync: tc.failSync}, nil
			}
			w, err := s.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			data := payload(tc.size, 9)
			var werr error
			for off := 0; off < len(data) && werr == nil; off += 64 << 10 {
				_, werr = w.Write(data[off:min(off+64<<10, len(data))])
			}
			_, cerr := w.Commit(ctx)
			if tc.failsAt == "write" {
				if !errors.Is(werr, syscall.ENOSPC) {
					t.Fatalf("Write err = %v, want ENOSPC", werr)
				}
				if cerr == nil {
					t.Fatal("Commit after failed Write succeeded")
				}
			} else {
				if werr != nil {
					t.Fatalf("Write err = %v", werr)
				}
				if !errors.Is(cerr, syscall.ENOSPC) {
					t.Fatalf("Commit err = %v, want ENOSPC", cerr)
				}
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			if left := tmpEntries(t, dir); len(left) != 0 {
				t.Fatalf("tmp not empty: %v", left)
			}
			if ids := walk(t, s); len(ids) != 0 {
				t.Fatalf("blobs left: %v", ids)
			}
		})
	}
}

// BenchmarkCommit4K: create, write 4 KiB, commit (two fsyncs: file and
// directory).
func BenchmarkCommit4K(b *testing.B) {
	data := payload(4096, 1)
	for _, par := range []int{1, 16} {
		b.Run(map[int]string{1: "serial", 16: "parallel32"}[par], func(b *testing.B) {
			s, _ := openTemp(b)
			b.SetBytes(4096)
			commit := func() {
				w, err := s.Create(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					b.Fatal(err)
				}
				if _, err := w.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if par == 1 {
				for b.Loop() {
					commit()
				}
			} else {
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						commit()
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// TestLink: a link is a second, independent name for the same bytes.
func TestLink(t *testing.T) {
	s, dir := openTemp(t)
	data := payload(3*bufSize+5, 11)
	id := put(t, s, data, 1<<20)
	link, err := s.Link(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if link == id || !validID(link) {
		t.Fatalf("link id %q (source %q)", link, id)
	}
	a, _ := os.Stat(filepath.Join(dir, id[:2], id[2:4], id))
	b, _ := os.Stat(filepath.Join(dir, link[:2], link[2:4], link))
	if a == nil || b == nil || !os.SameFile(a, b) {
		t.Fatal("link is not the same file")
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !bytes.Equal(readAll(t, r), data) {
		t.Fatal("linked content differs after the source's delete")
	}
	if got := walk(t, s); !slices.Equal(got, []string{link}) {
		t.Fatalf("Walk = %v, want only the link", got)
	}
	for _, bad := range []string{id, "../../etc", ""} {
		if _, err := s.Link(ctx, bad); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Link(%q) = %v, want ErrNotFound", bad, err)
		}
	}
}

// TestSharedPads: a shared directory is a data tier another party may
// read, so its blobs are padded to blob.PadQuantum; the embedded store
// keeps exact sizes.
func TestSharedPads(t *testing.T) {
	dir := t.TempDir()
	shared, err := OpenShared(dir, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	local, _ := openTemp(t)
	for _, n := range []int{0, 1, 4096, 64*1024 - 1, 64 * 1024, 1<<20 + 4097} {
		data := payload(n, uint64(n)+3)
		for _, tc := range []struct {
			name string
			s    *Store
			want int64
		}{
			{"shared", shared, int64(n) + blob.Padding(int64(n), blob.PadQuantum)},
			{"embedded", local, int64(n)},
		} {
			id := put(t, tc.s, data, 100*1024+3)
			fi, err := os.Stat(tc.s.path(id))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != tc.want {
				t.Fatalf("%s, %d bytes written: file of %d bytes, want %d", tc.name, n, fi.Size(), tc.want)
			}
			r, err := tc.s.Open(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, r)
			r.Close()
			if !bytes.Equal(got[:n], data) {
				t.Fatalf("%s, %d bytes written: read back differs", tc.name, n)
			}
		}
	}
}
