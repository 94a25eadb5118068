package sealed

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// memSource is an InMemory source, as an inline part is.
type memSource struct{ *bytes.Reader }

func newMemSource(b []byte) memSource { return memSource{bytes.NewReader(b)} }
func (m memSource) StoredBytes() []byte {
	b := make([]byte, m.Size())
	m.ReadAt(b, 0)
	return b
}

// memView hands out the very bytes it reads from, so a Reader writing to
// them would show.
type memView struct {
	*bytes.Reader
	b []byte
}

func (m memView) StoredBytes() []byte { return m.b }

// A sealed blob read from memory gives the same bytes and the same errors
// as one read through ReadAt, by every read path, and never writes to the
// source's bytes.
func TestInMemorySource(t *testing.T) {
	for _, alg := range algs {
		key := testKey(alg, 7)
		for _, size := range []int{0, 1, 15, 16, 17, 100, 4096} {
			pt := pattern(size, uint64(size))
			blob := seal(t, alg, key, 16, pt, 0)
			view := bytes.Clone(blob)
			src := memView{bytes.NewReader(view), view}
			r, err := NewReader(src, int64(len(blob)), key)
			if err != nil {
				t.Fatalf("%v %d: %v", alg, size, err)
			}
			// Whole, through a large buffer (decrypts straight into it).
			got, err := io.ReadAll(r.NewRangeReader(0, int64(size)))
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%v %d: read %d bytes, %v", alg, size, len(got), err)
			}
			// Ranges, through small buffers (decrypts in place into s.buf).
			for off := 0; off < size; off += 7 {
				n := min(23, size-off)
				var b bytes.Buffer
				if _, err := io.CopyBuffer(&b, onlyRead{r.NewRangeReader(int64(off), int64(n))}, make([]byte, 5)); err != nil || !bytes.Equal(b.Bytes(), pt[off:off+n]) {
					t.Fatalf("%v %d: range %d+%d: %v", alg, size, off, n, err)
				}
			}
			at := make([]byte, size)
			if n, err := r.ReadAt(at, 0); n != size || (err != nil && err != io.EOF) || !bytes.Equal(at, pt) {
				t.Fatalf("%v %d: ReadAt %d, %v", alg, size, n, err)
			}
			if !bytes.Equal(view, blob) {
				t.Fatalf("%v %d: the source's bytes were written to", alg, size)
			}
		}
		// A flipped bit fails authentication, a short source is an error.
		pt := pattern(100, 1)
		blob := seal(t, alg, key, 16, pt, 0)
		bad := bytes.Clone(blob)
		bad[HeaderSize+20] ^= 1
		r, err := NewReader(newMemSource(bad), int64(len(bad)), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r.NewRangeReader(0, 100)); !errors.Is(err, ErrAuth) {
			t.Errorf("%v: tampered segment: %v, want ErrAuth", alg, err)
		}
		short := blob[:len(blob)-10]
		r, err = NewReader(memView{bytes.NewReader(short), short}, int64(len(blob)), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r.NewRangeReader(0, 100)); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%v: short source: %v, want io.ErrUnexpectedEOF", alg, err)
		}
	}
}

type onlyRead struct{ io.Reader }

// A plain blob from memory: same bytes by every read path (a read clipped to
// the data, with no room for the checksum, included), damage still caught,
// the source never written to.
func TestInMemoryPlain(t *testing.T) {
	for _, size := range []int{0, 1, 16, 17, 100, 4096} {
		pt := pattern(size, uint64(size)+9)
		var buf bytes.Buffer
		w, err := NewPlainWriter(&buf, 16)
		if err != nil {
			t.Fatal(err)
		}
		writeChunks(t, w, pt, 0)
		blob := buf.Bytes()
		view := bytes.Clone(blob)
		r, err := NewPlainReader(memView{bytes.NewReader(view), view}, int64(len(view)))
		if err != nil {
			t.Fatalf("%d: %v", size, err)
		}
		for _, bufSize := range []int{1 << 20, size, 5} {
			if bufSize == 0 {
				continue
			}
			var out bytes.Buffer
			if _, err := io.CopyBuffer(&out, onlyRead{r.NewRangeReader(0, int64(size))}, make([]byte, bufSize)); err != nil || !bytes.Equal(out.Bytes(), pt) {
				t.Fatalf("%d through %d-byte reads: %v", size, bufSize, err)
			}
		}
		if !bytes.Equal(view, blob) {
			t.Fatalf("%d: the source's bytes were written to", size)
		}
		if size == 0 {
			continue
		}
		bad := bytes.Clone(blob)
		bad[PlainHeaderSize] ^= 1
		r, err = NewPlainReader(newMemSource(bad), int64(len(bad)))
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, size)
		if _, err := io.ReadFull(onlyRead{r.NewRangeReader(0, int64(size))}, p); !errors.Is(err, ErrChecksum) {
			t.Errorf("%d: damaged segment: %v, want ErrChecksum", size, err)
		}
	}
}

// An in-memory source whose bytes stop inside the header (its stored size
// says more) fails to open, sealed or plain, as the same bytes read through
// ReadAt do: the header is taken from memory without a ReadAt.
func TestInMemoryShortHeader(t *testing.T) {
	key := testKey(AES256GCM, 1)
	sealedBlob := seal(t, AES256GCM, key, 1024, pattern(100, 1), 0)
	var pb bytes.Buffer
	w, err := NewPlainWriter(&pb, 1024)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, pattern(100, 1), 0)
	for name, tc := range map[string]struct {
		short []byte
		open  func(io.ReaderAt, int64) error
	}{
		"sealed": {sealedBlob[:HeaderSize-1], func(src io.ReaderAt, n int64) error { _, err := NewReader(src, n, key); return err }},
		"plain":  {pb.Bytes()[:PlainHeaderSize-1], func(src io.ReaderAt, n int64) error { _, err := NewPlainReader(src, n); return err }},
	} {
		size := int64(len(sealedBlob)) // more than the bytes there are
		if err := tc.open(memView{bytes.NewReader(tc.short), tc.short}, size); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s, in memory: %v, want io.ErrUnexpectedEOF", name, err)
		}
		if err := tc.open(bytes.NewReader(tc.short), size); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s, through ReadAt: %v, want io.ErrUnexpectedEOF", name, err)
		}
	}
}
