package sealed

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/zeebo/xxh3"
)

// frame writes pt as a plain blob, in chunks of chunk bytes (0: one Write).
func frame(t testing.TB, segSize int, pt []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewPlainWriter(&buf, segSize)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, pt, chunk)
	return buf.Bytes()
}

// readPlain reads a whole plain blob with ReadAt and a range reader,
// failing the test if either returns bytes that are not a prefix of want.
func readPlain(t testing.TB, blob, want []byte) ([]byte, error) {
	t.Helper()
	r, err := NewPlainReader(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		return nil, err
	}
	prefix := func(got []byte, how string) {
		if len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) {
			t.Fatalf("%s returned %d bytes that are not a prefix of the data", how, len(got))
		}
	}
	p := make([]byte, r.Size())
	n, errAt := r.ReadAt(p, 0)
	if errAt == io.EOF && r.Size() == 0 {
		errAt = nil
	}
	prefix(p[:n], "ReadAt")
	got, errRange := io.ReadAll(r.NewRangeReader(0, r.Size()))
	prefix(got, "range reader")
	if (errAt == nil) != (errRange == nil) {
		t.Fatalf("ReadAt error %v but range reader error %v", errAt, errRange)
	}
	if errAt != nil {
		return nil, errAt
	}
	return got, nil
}

func TestPlainRoundTrip(t *testing.T) {
	for _, tt := range []struct{ size, seg, chunk int }{
		{0, 16, 0}, {1, 16, 0}, {15, 16, 0}, {16, 16, 0}, {17, 16, 0},
		{100, 16, 7}, {100, 16, 33}, {4096, 0, 1000}, {200 << 10, 0, 0},
		{200 << 10, 0, 1 << 20}, {(1 << 20) + 3, 0, 4096},
	} {
		pt := pattern(tt.size, uint64(tt.size))
		blob := frame(t, tt.seg, pt, tt.chunk)
		if want := PlainSize(int64(tt.size), tt.seg); int64(len(blob)) != want {
			t.Errorf("size %d seg %d: stored %d bytes, PlainSize says %d", tt.size, tt.seg, len(blob), want)
		}
		got, err := readPlain(t, blob, pt)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("size %d seg %d chunk %d: read back %d bytes, %v", tt.size, tt.seg, tt.chunk, len(got), err)
		}
	}
}

const goldenPlainTail = "dac08bf10c2bae71c0a20ff7d45f56750e7c4ed1"

// TestPlainLayout pins the byte format doc.go specifies.
func TestPlainLayout(t *testing.T) {
	pt := pattern(20, 1) // segments of 16 and 4 bytes
	blob := frame(t, 16, pt, 0)
	hdr := []byte{'S', 'R', 'P', 'B', 1, 1, 0, 0, 0, 16}
	if !bytes.Equal(blob[:10], hdr) {
		t.Fatalf("header % x, want % x", blob[:10], hdr)
	}
	sum := func(i byte, last byte, data []byte) []byte {
		seed := xxh3.Hash(append(append([]byte(nil), hdr...), 0, 0, 0, 0, 0, 0, 0, i, last))
		return binary.BigEndian.AppendUint64(nil, xxh3.HashSeed(data, seed))
	}
	want := bytes.Join([][]byte{hdr, pt[:16], sum(0, 0, pt[:16]), pt[16:], sum(1, 1, pt[16:])}, nil)
	if !bytes.Equal(blob, want) {
		t.Fatalf("blob\n% x\nwant\n% x", blob, want)
	}
	// Pinned, so a change in the hash library cannot go unnoticed.
	if got := hex.EncodeToString(blob[PlainHeaderSize+16:]); got != goldenPlainTail {
		t.Fatalf("stored tail %s, want %s", got, goldenPlainTail)
	}
}

// TestPlainDamage flips every bit of a small blob, and moves, drops and
// duplicates segments: every whole read fails, no read returns a wrong byte.
func TestPlainDamage(t *testing.T) {
	const seg = 16
	pt := pattern(50, 3) // segments of 16, 16, 16 and 2 bytes
	blob := frame(t, seg, pt, 0)
	at := func(i int) int { return PlainHeaderSize + i*(seg+SumSize) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	check := func(name string, b []byte) {
		t.Helper()
		if _, err := readPlain(t, b, pt); !IsDamaged(err) {
			t.Errorf("%s: read error %v, want a damage error", name, err)
		}
	}
	for i := range blob {
		for bit := range 8 {
			b := bytes.Clone(blob)
			b[i] ^= 1 << bit
			check("flip", b)
		}
	}
	check("swap segments 0 and 1", cat(blob[:at(0)], blob[at(1):at(2)], blob[at(0):at(1)], blob[at(2):]))
	check("drop last segment", blob[:at(3)])
	check("drop middle segment", cat(blob[:at(1)], blob[at(2):]))
	check("duplicate segment 1", cat(blob[:at(2)], blob[at(1):at(2)], blob[at(2):]))
	check("append 1 byte", cat(blob, []byte{0}))
	check("empty blob cut to header and CRC", frame(t, seg, nil, 0)[:PlainHeaderSize])
	if _, err := readPlain(t, frame(t, seg, nil, 0), nil); err != nil {
		t.Errorf("empty blob: %v", err)
	}
}

// TestPlainRanges reads every range of a blob whose middle segment is
// damaged: ranges that avoid it return the right bytes and check only the
// segments they touch; ranges over it fail.
func TestPlainRanges(t *testing.T) {
	const seg = 16
	pt := pattern(3*seg+5, 4)
	good := frame(t, seg, pt, 0)
	bad := bytes.Clone(good)
	bad[PlainHeaderSize+(seg+SumSize)+3] ^= 0x40 // segment 1
	size := int64(len(pt))
	for _, blob := range [][]byte{good, bad} {
		damaged := !bytes.Equal(blob, good)
		for off := int64(0); off <= size; off++ {
			for n := int64(0); off+n <= size; n++ {
				for _, bigReads := range []bool{false, true} {
					r, err := NewPlainReader(bytes.NewReader(blob), int64(len(blob)))
					if err != nil {
						t.Fatal(err)
					}
					var got []byte
					if bigReads {
						// Several whole segments per Read, as the
						// service's 1 MiB buffers take them.
						got, err = readWith(r.NewRangeReader(off, n), 200)
					} else {
						got, err = io.ReadAll(iotest.OneByteReader(r.NewRangeReader(off, n)))
					}
					touches := n > 0 && off < 2*seg && off+n > seg
					if damaged && touches {
						if !errors.Is(err, ErrChecksum) {
							t.Fatalf("range %d+%d over the damaged segment: %v", off, n, err)
						}
					} else if err != nil || !bytes.Equal(got, pt[off:off+n]) {
						t.Fatalf("range %d+%d (damaged %v): %v", off, n, damaged, err)
					}
					if !bytes.Equal(got, pt[off:off+int64(len(got))]) {
						t.Fatalf("range %d+%d returned wrong bytes", off, n)
					}
					if !damaged {
						if want := touched(off, off+n, seg); r.SegmentsOpened() != want {
							t.Fatalf("range %d+%d checked %d segments, want %d", off, n, r.SegmentsOpened(), want)
						}
					}
				}
			}
		}
	}
}

// TestPlainNotSealed: the two formats never read as each other.
func TestPlainNotSealed(t *testing.T) {
	key := testKey(AES256GCM, 1)
	sealedBlob := seal(t, AES256GCM, key, 0, pattern(100, 1), 0)
	if _, err := NewPlainReader(bytes.NewReader(sealedBlob), int64(len(sealedBlob))); !errors.Is(err, ErrFormat) {
		t.Errorf("sealed blob as plain: %v", err)
	}
	plain := frame(t, 0, pattern(100, 1), 0)
	if _, err := NewReader(bytes.NewReader(plain), int64(len(plain)), key); !errors.Is(err, ErrFormat) {
		t.Errorf("plain blob as sealed: %v", err)
	}
}

// readWith reads r to the end through a buffer of size bytes.
func readWith(r io.Reader, size int) ([]byte, error) {
	var out []byte
	p := make([]byte, size)
	for {
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// FuzzPlainReader: any stored bytes either fail or read back, through
// every read path, the same bytes; nothing panics.
func FuzzPlainReader(f *testing.F) {
	f.Add(frame(f, 16, pattern(50, 1), 0), 3)
	f.Add(frame(f, 16, nil, 0), 0)
	f.Fuzz(func(t *testing.T, blob []byte, off int) {
		r, err := NewPlainReader(bytes.NewReader(blob), int64(len(blob)))
		if err != nil {
			return
		}
		whole, errWhole := readWith(r.NewRangeReader(0, r.Size()), 64)
		one, errOne := io.ReadAll(iotest.OneByteReader(r.NewRangeReader(0, r.Size())))
		if (errWhole == nil) != (errOne == nil) || (errWhole == nil && !bytes.Equal(whole, one)) {
			t.Fatalf("read paths disagree: %v / %v", errWhole, errOne)
		}
		if off < 0 || int64(off) > r.Size() {
			return
		}
		part, err := io.ReadAll(r.NewRangeReader(int64(off), r.Size()))
		if errWhole == nil && (err != nil || !bytes.Equal(part, whole[off:])) {
			t.Fatalf("range from %d: %v", off, err)
		}
	})
}
