package sealed

import (
	"bytes"
	"crypto/cipher"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// touched is how many segments the plaintext range [off, end) overlaps.
func touched(off, end int64, seg int) int64 {
	if end <= off {
		return 0
	}
	return (end-1)/int64(seg) - off/int64(seg) + 1
}

// TestRangeExhaustive checks every (off, length) over a small multi-segment
// blob, through ReadAt and through range readers consumed in several ways,
// and that each read decrypts exactly the segments it overlaps.
func TestRangeExhaustive(t *testing.T) {
	const seg = 16
	pt := pattern(3*seg+5, 4) // segments of 16, 16, 16, 5 bytes
	size := int64(len(pt))
	consumers := []struct {
		name string
		read func(io.Reader) ([]byte, error)
	}{
		{"ReadAll", io.ReadAll},
		{"OneByte", func(r io.Reader) ([]byte, error) { return io.ReadAll(iotest.OneByteReader(r)) }},
		{"Copy/WriteTo", func(r io.Reader) ([]byte, error) {
			var b bytes.Buffer
			_, err := io.Copy(&b, r)
			return b.Bytes(), err
		}},
		{"BigBuffer", func(r io.Reader) ([]byte, error) { return readWith(r, 100) }},
	}
	for _, alg := range algs {
		key := testKey(alg, 1)
		blob := seal(t, alg, key, seg, pt, 0)
		r, err := NewReader(bytes.NewReader(blob), int64(len(blob)), key)
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off <= size+1; off++ {
			for length := int64(0); off+length <= size+2; length++ {
				end := min(off+length, size)
				var want []byte
				if off < size {
					want = pt[off:end]
				}
				segs := touched(off, end, seg)

				// ReadAt
				p := make([]byte, length)
				before := r.SegmentsOpened()
				n, err := r.ReadAt(p, off)
				if got := r.SegmentsOpened() - before; got != segs {
					t.Fatalf("%v ReadAt(off=%d, len=%d) decrypted %d segments, want %d", alg, off, length, got, segs)
				}
				if !bytes.Equal(p[:n], want) {
					t.Fatalf("%v ReadAt(off=%d, len=%d) = %x, want %x", alg, off, length, p[:n], want)
				}
				if wantEOF := off+length > size || off >= size; (err == io.EOF) != wantEOF || (err != nil && err != io.EOF) {
					t.Fatalf("%v ReadAt(off=%d, len=%d) error %v", alg, off, length, err)
				}

				// Range readers
				for _, c := range consumers {
					before := r.SegmentsOpened()
					got, err := c.read(r.NewRangeReader(off, length))
					if err != nil {
						t.Fatalf("%v %s range(%d, %d): %v", alg, c.name, off, length, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%v %s range(%d, %d) = %x, want %x", alg, c.name, off, length, got, want)
					}
					if n := r.SegmentsOpened() - before; n != segs {
						t.Fatalf("%v %s range(%d, %d) decrypted %d segments, want %d", alg, c.name, off, length, n, segs)
					}
				}
			}
		}
		// The io.Reader contract, checked by the standard library.
		for _, rg := range [][2]int64{{0, size}, {5, 30}, {16, 16}, {47, 6}} {
			if err := iotest.TestReader(r.NewRangeReader(rg[0], rg[1]), pt[rg[0]:rg[0]+rg[1]]); err != nil {
				t.Errorf("%v range %v: %v", alg, rg, err)
			}
		}
		if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
			t.Error("ReadAt at a negative offset succeeded")
		}
		if _, err := io.ReadAll(r.NewRangeReader(-1, 5)); err == nil {
			t.Error("range at a negative offset succeeded")
		}
		if _, err := io.ReadAll(r.NewRangeReader(0, -1)); err == nil {
			t.Error("range with a negative length succeeded")
		}
	}
}

// synthBlob is an io.ReaderAt over a large sealed blob that exists nowhere:
// it seals whichever segment is asked for on the fly, using the same header
// and key derivation as a Writer would. Segment i's plaintext is synthByte of
// its offsets.
type synthBlob struct {
	hdr     [HeaderSize]byte
	aead    cipher.AEAD
	segSize int
	size    int64
	reads   atomic.Int64

	mu     sync.Mutex
	cached int64 // index of the segment in sealed, or -1
	sealed []byte
}

func synthByte(off int64) byte { return byte(off>>16) ^ byte(off*131) }

func newSynthBlob(t testing.TB, alg Algorithm, key []byte, size int64, segSize int) *synthBlob {
	h := header{alg: alg, segSize: segSize, salt: [SaltSize]byte{1, 2, 3}}
	k, err := newBlobKey(&h, key)
	if err != nil {
		t.Fatal(err)
	}
	return &synthBlob{hdr: k.hdr, aead: k.aead, segSize: segSize, size: size, cached: -1}
}

func (s *synthBlob) storedSize() int64 { return SealedSize(s.size, s.segSize) }

func (s *synthBlob) segment(i int64) []byte {
	if s.cached == i {
		return s.sealed
	}
	start := i * int64(s.segSize)
	n := min(int64(s.segSize), s.size-start)
	pt := make([]byte, n, n+TagSize)
	for j := range pt {
		pt[j] = synthByte(start + int64(j))
	}
	var nc [nonceSize]byte
	nonce(&nc, uint64(i), i == segments(s.size, s.segSize)-1)
	s.sealed = s.aead.Seal(pt[:0], nc[:], pt, nil)
	s.cached = i
	return s.sealed
}

func (s *synthBlob) ReadAt(p []byte, off int64) (int, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= s.storedSize() {
			return n, io.EOF
		}
		if pos < HeaderSize {
			n += copy(p[n:], s.hdr[pos:])
			continue
		}
		full := int64(s.segSize) + TagSize
		i := (pos - HeaderSize) / full
		n += copy(p[n:], s.segment(i)[(pos-HeaderSize)-i*full:])
	}
	return n, nil
}

// TestHugeObjectRange: a 1 GiB object, never materialized. Reading one byte
// anywhere decrypts exactly one segment, with a single read of the source.
func TestHugeObjectRange(t *testing.T) {
	const size = 1 << 30
	for _, alg := range algs {
		key := testKey(alg, 1)
		src := newSynthBlob(t, alg, key, size, DefaultSegmentSize)
		r, err := NewReader(src, src.storedSize(), key)
		if err != nil {
			t.Fatal(err)
		}
		if r.Size() != size {
			t.Fatalf("Size = %d", r.Size())
		}
		seg := int64(DefaultSegmentSize)
		for _, tt := range []struct {
			off, length int64
			segs        int64
		}{
			{0, 1, 1},
			{size / 2, 1, 1},
			{size/2 + 12345, 1, 1},
			{size - 1, 1, 1}, // the last segment: its nonce carries the last flag
			{seg - 1, 2, 2},  // straddles a boundary
			{7 * seg, seg, 1},
			{size - seg - 3, seg + 3, 2},
		} {
			t.Run(fmt.Sprintf("%v/off=%d/len=%d", alg, tt.off, tt.length), func(t *testing.T) {
				want := make([]byte, tt.length)
				for j := range want {
					want[j] = synthByte(tt.off + int64(j))
				}
				opened, reads := r.SegmentsOpened(), src.reads.Load()
				got, err := io.ReadAll(r.NewRangeReader(tt.off, tt.length))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatal("wrong plaintext")
				}
				if n := r.SegmentsOpened() - opened; n != tt.segs {
					t.Fatalf("range read decrypted %d segments, want %d", n, tt.segs)
				}
				if n := src.reads.Load() - reads; n != tt.segs {
					t.Fatalf("range read issued %d ReadAt calls, want %d", n, tt.segs)
				}

				opened = r.SegmentsOpened()
				p := make([]byte, tt.length)
				if _, err := r.ReadAt(p, tt.off); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(p, want) {
					t.Fatal("ReadAt: wrong plaintext")
				}
				if n := r.SegmentsOpened() - opened; n != tt.segs {
					t.Fatalf("ReadAt decrypted %d segments, want %d", n, tt.segs)
				}
			})
		}
	}
}
