package sealed

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
)

// fuzzKey is the part key the fuzz targets use: PartKey(alg, 00..1f, 1), the
// same as the golden vectors with part number 1, so those are valid seeds.
func fuzzKey(alg Algorithm) []byte {
	oek := make([]byte, 32)
	for i := range oek {
		oek[i] = byte(i)
	}
	return PartKey(alg, oek, 1)
}

// fuzzSeeds returns valid blobs under fuzzKey, so mutations start close to
// the interesting paths.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	if b, err := os.ReadFile(goldenFile); err == nil {
		var vs []goldenVector
		if json.Unmarshal(b, &vs) == nil {
			for _, v := range vs {
				if s, err := hex.DecodeString(v.Sealed); err == nil {
					seeds = append(seeds, s)
				}
			}
		}
	}
	for _, alg := range algs {
		for _, n := range []int{0, 5, 16, 40} {
			var buf bytes.Buffer
			w, err := newWriter(&buf, alg, fuzzKey(alg), 16, [SaltSize]byte{byte(n)})
			if err != nil {
				f.Fatal(err)
			}
			w.Write(pattern(n, uint64(n)))
			w.Close()
			seeds = append(seeds, buf.Bytes())
		}
	}
	return seeds
}

// FuzzReader feeds arbitrary bytes to NewReader and reads them back: it must
// never panic, every error must be ErrFormat or ErrAuth, and all ways of
// reading must agree whenever they succeed.
func FuzzReader(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(s, uint16(i), uint16(3))
	}
	f.Add([]byte("SRSB\x01\x01\x00\x00\x00\x10"), uint16(0), uint16(1))
	f.Add([]byte("SRSB\x01\x02\xff\xff\xff\xff"), uint16(0), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, off, n uint16) {
		alg := AES256GCM
		if len(data) > 5 && data[5] == byte(SM4GCM) {
			alg = SM4GCM
		}
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), fuzzKey(alg))
		if err != nil {
			if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrFormat) {
				t.Fatalf("NewReader error %v is neither ErrAuth nor ErrFormat", err)
			}
			return
		}
		if r.Size() < 0 || r.Size() > int64(len(data)) {
			t.Fatalf("Size %d for %d stored bytes", r.Size(), len(data))
		}
		full := make([]byte, r.Size())
		_, errAt := r.ReadAt(full, 0)
		if errAt == io.EOF && r.Size() == 0 {
			errAt = nil
		}
		viaRange, errRange := io.ReadAll(r.NewRangeReader(0, r.Size()))
		if (errAt == nil) != (errRange == nil) {
			t.Fatalf("ReadAt error %v, range reader error %v", errAt, errRange)
		}
		if errAt != nil {
			if !errors.Is(errAt, ErrAuth) || !errors.Is(errRange, ErrAuth) {
				t.Fatalf("read errors %v / %v are not ErrAuth", errAt, errRange)
			}
			return
		}
		if !bytes.Equal(full, viaRange) {
			t.Fatal("ReadAt and range reader disagree")
		}
		// A sub-range agrees with the whole.
		o := int64(off)
		want := []byte{}
		if o < r.Size() {
			want = full[o:min(o+int64(n), r.Size())]
		}
		got, err := io.ReadAll(r.NewRangeReader(o, int64(n)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("range (%d, %d) = %x, %v; want %x", o, n, got, err, want)
		}
		p := make([]byte, n)
		k, err := r.ReadAt(p, o)
		if (err != nil && err != io.EOF) || !bytes.Equal(p[:k], want) {
			t.Fatalf("ReadAt(%d, %d) = %x, %v; want %x", o, n, p[:k], err, want)
		}
	})
}

// FuzzRoundTrip seals arbitrary plaintexts with arbitrary segment sizes and
// write chunking, then reads them back whole and by range.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(""), uint16(0), false, uint16(0), uint16(0), uint16(0))
	f.Add([]byte("hello, strongroom"), uint16(1), true, uint16(3), uint16(2), uint16(9))
	f.Add(bytes.Repeat([]byte{7}, 100), uint16(16), false, uint16(17), uint16(30), uint16(50))
	f.Fuzz(func(t *testing.T, pt []byte, seg uint16, useSM4 bool, chunk, off, n uint16) {
		alg := AES256GCM
		if useSM4 {
			alg = SM4GCM
		}
		segSize := MinSegmentSize + int(seg)%256
		key := fuzzKey(alg)
		blob := seal(t, alg, key, segSize, pt, int(chunk))
		if int64(len(blob)) != SealedSize(int64(len(pt)), segSize) {
			t.Fatalf("stored %d bytes, SealedSize %d", len(blob), SealedSize(int64(len(pt)), segSize))
		}
		got, err := openAll(t, blob, key, pt)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip: %v", err)
		}
		r, err := NewReader(bytes.NewReader(blob), int64(len(blob)), key)
		if err != nil {
			t.Fatal(err)
		}
		o := min(int(off), len(pt))
		want := pt[o:min(o+int(n), len(pt))]
		before := r.SegmentsOpened()
		rg, err := io.ReadAll(r.NewRangeReader(int64(o), int64(n)))
		if err != nil || !bytes.Equal(rg, want) {
			t.Fatalf("range (%d, %d): %v", o, n, err)
		}
		if d, w := r.SegmentsOpened()-before, touched(int64(o), int64(o+len(want)), segSize); d != w {
			t.Fatalf("range (%d, %d) decrypted %d segments, want %d", o, n, d, w)
		}
	})
}
