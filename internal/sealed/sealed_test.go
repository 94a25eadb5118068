package sealed

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

var algs = []Algorithm{AES256GCM, SM4GCM}

// testKey returns a deterministic part key for alg (different seeds give
// different keys).
func testKey(alg Algorithm, seed byte) []byte {
	oek := bytes.Repeat([]byte{seed}, 32)
	return PartKey(alg, oek, 1)
}

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// seal seals pt, handing it to the Writer in chunks of chunk bytes (0: one
// Write call).
func seal(t testing.TB, alg Algorithm, key []byte, segSize int, pt []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, alg, key, segSize)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, pt, chunk)
	return buf.Bytes()
}

// writeChunks writes pt to w in chunks of chunk bytes (0: one Write call)
// and closes it.
func writeChunks(t testing.TB, w *Writer, pt []byte, chunk int) {
	t.Helper()
	if chunk <= 0 {
		chunk = max(len(pt), 1)
	}
	for p := pt; len(p) > 0; {
		c := min(chunk, len(p))
		n, err := w.Write(p[:c])
		if err != nil || n != c {
			t.Fatalf("Write = %d, %v", n, err)
		}
		p = p[c:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// openAll reads a whole blob both with ReadAt and with a range reader. If
// either fails it returns the error, after checking that whatever bytes were
// returned before the failure are a prefix of want (when want is not nil):
// an error may cut a read short but must never come with wrong bytes.
func openAll(t testing.TB, blob, key, want []byte) ([]byte, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(blob), int64(len(blob)), key)
	if err != nil {
		return nil, err
	}
	checkPrefix := func(got []byte, how string) {
		if want != nil && (len(got) > len(want) || !bytes.Equal(got, want[:len(got)])) {
			t.Fatalf("%s returned %d bytes that are not a prefix of the plaintext", how, len(got))
		}
	}
	p := make([]byte, r.Size())
	n, errAt := r.ReadAt(p, 0)
	if errAt == io.EOF && r.Size() == 0 {
		errAt = nil // ReadAt at the end, like bytes.Reader
	}
	checkPrefix(p[:n], "ReadAt")
	got, errRange := io.ReadAll(r.NewRangeReader(0, r.Size()))
	checkPrefix(got, "range reader")
	if (errAt == nil) != (errRange == nil) {
		t.Fatalf("ReadAt error %v but range reader error %v", errAt, errRange)
	}
	if errAt != nil {
		return nil, errAt
	}
	if !bytes.Equal(p, got) {
		t.Fatal("ReadAt and range reader disagree")
	}
	return p, nil
}

func TestRoundTrip(t *testing.T) {
	for _, alg := range algs {
		for _, seg := range []int{16, 100, DefaultSegmentSize} {
			for _, size := range []int{0, 1, seg - 1, seg, seg + 1, 2 * seg, 3*seg + 5} {
				for _, chunk := range []int{0, 1, 7, seg, 3*seg + 1} {
					if chunk == 1 && size > 4096 {
						continue // byte-at-a-time is only interesting on small inputs
					}
					name := fmt.Sprintf("%v/seg=%d/size=%d/chunk=%d", alg, seg, size, chunk)
					t.Run(name, func(t *testing.T) {
						key := testKey(alg, 1)
						pt := pattern(size, uint64(size))
						blob := seal(t, alg, key, seg, pt, chunk)
						if got, want := int64(len(blob)), SealedSize(int64(size), seg); got != want {
							t.Fatalf("stored %d bytes, SealedSize says %d", got, want)
						}
						r, err := NewReader(bytes.NewReader(blob), int64(len(blob)), key)
						if err != nil {
							t.Fatal(err)
						}
						if r.Size() != int64(size) || r.Algorithm() != alg || r.SegmentSize() != seg {
							t.Fatalf("Size, Algorithm, SegmentSize = %d, %v, %d", r.Size(), r.Algorithm(), r.SegmentSize())
						}
						got, err := openAll(t, blob, key, pt)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, pt) {
							t.Fatal("plaintext mismatch")
						}
					})
				}
			}
		}
	}
}

func TestSealedSize(t *testing.T) {
	tests := []struct {
		size int64
		seg  int
		want int64
	}{
		{0, 16, 42 + 16},
		{1, 16, 42 + 16 + 1},
		{16, 16, 42 + 16 + 16},
		{17, 16, 42 + 2*16 + 17},
		{0, 0, 42 + 16},
		{64 << 10, 0, 42 + 16 + 64<<10},
		{64<<10 + 1, 0, 42 + 2*16 + 64<<10 + 1},
		{1 << 30, 0, 42 + 16*(1<<14) + 1<<30},
	}
	for _, tt := range tests {
		if got := SealedSize(tt.size, tt.seg); got != tt.want {
			t.Errorf("SealedSize(%d, %d) = %d, want %d", tt.size, tt.seg, got, tt.want)
		}
		seg := tt.seg
		if seg == 0 {
			seg = DefaultSegmentSize
		}
		if got, ok := plaintextSize(tt.want, seg, HeaderSize, TagSize); !ok || got != tt.size {
			t.Errorf("plaintextSize(%d, %d) = %d, %v; want %d", tt.want, seg, got, ok, tt.size)
		}
	}
	// Every stored size is either exactly one SealedSize or rejected.
	const seg = 16
	for stored := int64(0); stored < 42+10*(seg+TagSize); stored++ {
		p, ok := plaintextSize(stored, seg, HeaderSize, TagSize)
		if ok && SealedSize(p, seg) != stored {
			t.Errorf("plaintextSize(%d) = %d, but SealedSize(%d) = %d", stored, p, p, SealedSize(p, seg))
		}
		if !ok && stored >= 42 {
			for q := int64(0); q <= stored; q++ {
				if SealedSize(q, seg) == stored {
					t.Errorf("plaintextSize rejects %d, the sealed size of %d", stored, q)
				}
			}
		}
	}
}

// TestSaltMakesKeysUnique: sealing the same plaintext twice under one part
// key (a re-uploaded part) must never reuse a (key, nonce) pair; with a fresh
// salt the ciphertexts are unrelated.
func TestSaltMakesKeysUnique(t *testing.T) {
	for _, alg := range algs {
		key := testKey(alg, 1)
		pt := make([]byte, 40)
		a := seal(t, alg, key, 16, pt, 0)
		b := seal(t, alg, key, 16, pt, 0)
		if bytes.Equal(a[10:42], b[10:42]) {
			t.Fatalf("%v: two blobs got the same salt", alg)
		}
		if bytes.Equal(a[42:58], b[42:58]) {
			t.Fatalf("%v: two blobs under one part key share a keystream", alg)
		}
	}
}

// tamperCase builds a modified blob from a valid one.
type tamperCase struct {
	name string
	mod  func(blob []byte) []byte
}

func TestTamper(t *testing.T) {
	const seg = 16
	const segLen = seg + TagSize
	// 50 bytes: segments of 16, 16, 16 and 2 plaintext bytes.
	pt := pattern(50, 3)
	at := func(i int) int { return HeaderSize + i*segLen }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, alg := range algs {
		key := testKey(alg, 1)
		blob := seal(t, alg, key, seg, pt, 0)
		if len(blob) != at(3)+2+TagSize {
			t.Fatalf("unexpected blob length %d", len(blob))
		}
		other := seal(t, alg, key, seg, pt, 0) // same key and plaintext, other salt
		cases := []tamperCase{
			{"swap segments 0 and 1", func(b []byte) []byte {
				return cat(b[:at(0)], b[at(1):at(2)], b[at(0):at(1)], b[at(2):])
			}},
			{"swap segments 1 and 2", func(b []byte) []byte {
				return cat(b[:at(1)], b[at(2):at(3)], b[at(1):at(2)], b[at(3):])
			}},
			{"drop last segment", func(b []byte) []byte { return b[:at(3)] }},
			{"drop first segment", func(b []byte) []byte { return cat(b[:at(0)], b[at(1):]) }},
			{"drop middle segment", func(b []byte) []byte { return cat(b[:at(1)], b[at(2):]) }},
			{"duplicate segment 1", func(b []byte) []byte {
				return cat(b[:at(2)], b[at(1):at(2)], b[at(2):])
			}},
			{"duplicate last segment", func(b []byte) []byte { return cat(b, b[at(3):]) }},
			{"append a full segment", func(b []byte) []byte { return cat(b, b[at(0):at(1)]) }},
			{"append 1 byte", func(b []byte) []byte { return cat(b, []byte{0}) }},
			{"append 17 bytes", func(b []byte) []byte { return cat(b, make([]byte, 17)) }},
			{"append 32 bytes", func(b []byte) []byte { return cat(b, make([]byte, 32)) }},
			{"append 100 bytes", func(b []byte) []byte { return cat(b, pattern(100, 9)) }},
			{"splice segment 1 from another blob", func(b []byte) []byte {
				return cat(b[:at(1)], other[at(1):at(2)], b[at(2):])
			}},
			{"other blob's body under this header", func(b []byte) []byte {
				return cat(b[:HeaderSize], other[HeaderSize:])
			}},
			{"other blob's header on this body", func(b []byte) []byte {
				return cat(other[:HeaderSize], b[HeaderSize:])
			}},
			{"segment size 16 -> 32", func(b []byte) []byte {
				c := bytes.Clone(b)
				c[9] = 32
				return c
			}},
			{"version 1 -> 2", func(b []byte) []byte {
				c := bytes.Clone(b)
				c[4] = 2
				return c
			}},
		}
		for _, tc := range cases {
			t.Run(alg.String()+"/"+tc.name, func(t *testing.T) {
				mod := tc.mod(bytes.Clone(blob))
				_, err := openAll(t, mod, key, pt)
				if err == nil {
					t.Fatal("tampered blob opened without error")
				}
				if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrFormat) {
					t.Fatalf("error %v wraps neither ErrAuth nor ErrFormat", err)
				}
			})
		}

		t.Run(alg.String()+"/every bit flip", func(t *testing.T) {
			for i := range len(blob) * 8 {
				mod := bytes.Clone(blob)
				mod[i/8] ^= 1 << (i % 8)
				_, err := openAll(t, mod, key, pt)
				if err == nil {
					t.Fatalf("flip of bit %d of byte %d not detected", i%8, i/8)
				}
				if i/8 >= HeaderSize && !errors.Is(err, ErrAuth) {
					t.Fatalf("flip in byte %d: error %v does not wrap ErrAuth", i/8, err)
				}
			}
		})

		t.Run(alg.String()+"/every header byte value", func(t *testing.T) {
			for i := range HeaderSize {
				for v := range 256 {
					if byte(v) == blob[i] {
						continue
					}
					mod := bytes.Clone(blob)
					mod[i] = byte(v)
					// Also try the key size of the other algorithm, so a
					// rewritten algorithm byte meets a key it would accept.
					for _, k := range [][]byte{key, testKey(AES256GCM, 1), testKey(SM4GCM, 1)} {
						if _, err := openAll(t, mod, k, pt); err == nil {
							t.Fatalf("header byte %d set to %#x not detected", i, v)
						}
					}
				}
			}
		})

		t.Run(alg.String()+"/every truncation", func(t *testing.T) {
			for n := range len(blob) {
				_, err := openAll(t, blob[:n], key, pt)
				if err == nil {
					t.Fatalf("truncation to %d bytes not detected", n)
				}
				if n >= HeaderSize && !errors.Is(err, ErrAuth) {
					t.Fatalf("truncation to %d: error %v does not wrap ErrAuth", n, err)
				}
			}
		})

		t.Run(alg.String()+"/wrong key", func(t *testing.T) {
			for _, k := range [][]byte{testKey(alg, 2), make([]byte, alg.KeySize()), PartKey(alg, bytes.Repeat([]byte{1}, 32), 2)} {
				if _, err := openAll(t, blob, k, pt); !errors.Is(err, ErrAuth) {
					t.Fatalf("wrong key: error %v, want ErrAuth", err)
				}
			}
			// A key of the other algorithm's size is refused up front.
			other := AES256GCM
			if alg == AES256GCM {
				other = SM4GCM
			}
			if _, err := NewReader(bytes.NewReader(blob), int64(len(blob)), testKey(other, 1)); !errors.Is(err, ErrAuth) {
				t.Fatalf("key for %v on a %v blob: error %v, want ErrAuth", other, alg, err)
			}
		})
	}
}

func TestFormatErrors(t *testing.T) {
	key := testKey(AES256GCM, 1)
	blob := seal(t, AES256GCM, key, 16, []byte("x"), 0)
	set := func(i int, v byte) []byte { c := bytes.Clone(blob); c[i] = v; return c }
	tests := []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"short header", blob[:HeaderSize-1]},
		{"magic", set(0, 'X')},
		{"version 0", set(4, 0)},
		{"version 2", set(4, 2)},
		{"algorithm 0", set(5, 0)},
		{"algorithm 3", set(5, 3)},
		{"segment size 15", set(9, 15)},
		{"segment size > max", set(6, 0xff)},
	}
	for _, tt := range tests {
		_, err := NewReader(bytes.NewReader(tt.blob), int64(len(tt.blob)), key)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", tt.name, err)
		}
	}
}

func TestShortSource(t *testing.T) {
	// The claimed stored size is larger than what the source holds.
	key := testKey(AES256GCM, 1)
	blob := seal(t, AES256GCM, key, 16, pattern(40, 1), 0)
	r, err := NewReader(bytes.NewReader(blob[:len(blob)-5]), int64(len(blob)), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r.NewRangeReader(0, r.Size())); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestPartKey(t *testing.T) {
	oek := pattern(32, 7)
	seen := map[string]string{}
	for _, alg := range algs {
		for _, part := range []int{0, 1, 2, 10000, 1<<32 - 1} {
			k := PartKey(alg, oek, part)
			if len(k) != alg.KeySize() {
				t.Fatalf("%v: key of %d bytes", alg, len(k))
			}
			if !bytes.Equal(k, PartKey(alg, oek, part)) {
				t.Fatal("PartKey is not deterministic")
			}
			id := fmt.Sprintf("%v/%d", alg, part)
			if prev, dup := seen[string(k[:16])]; dup {
				t.Fatalf("%s and %s derive the same key", prev, id)
			}
			seen[string(k[:16])] = id
		}
	}
	for _, bad := range []func(){
		func() { PartKey(0, oek, 1) },
		func() { PartKey(AES256GCM, oek[:16], 1) },
		func() { PartKey(SM4GCM, oek, -1) },
		func() { PartKey(SM4GCM, oek, 1<<32) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("PartKey accepted invalid input")
				}
			}()
			bad()
		}()
	}
}

// refHKDF is RFC 5869 written out with crypto/hmac, to check that the SM3
// and SHA-256 derivations really are HKDF over the intended hash.
func refHKDF(h func() hash.Hash, ikm, salt, info []byte, n int) []byte {
	if salt == nil {
		salt = make([]byte, h().Size())
	}
	m := hmac.New(h, salt)
	m.Write(ikm)
	prk := m.Sum(nil)
	var out, t []byte
	for c := byte(1); len(out) < n; c++ {
		m = hmac.New(h, prk)
		m.Write(t)
		m.Write(info)
		m.Write([]byte{c})
		t = m.Sum(nil)
		out = append(out, t...)
	}
	return out[:n]
}

func TestKeyDerivationIsHKDF(t *testing.T) {
	oek := pattern(32, 11)
	for _, tt := range []struct {
		alg Algorithm
		h   func() hash.Hash
	}{{AES256GCM, sha256.New}, {SM4GCM, sm3.New}} {
		info := append([]byte(partKeyLabel+tt.alg.String()), 0, 0, 0, 5)
		want := refHKDF(tt.h, oek, nil, info, tt.alg.KeySize())
		if got := PartKey(tt.alg, oek, 5); !bytes.Equal(got, want) {
			t.Errorf("%v: PartKey = %x, reference HKDF = %x", tt.alg, got, want)
		}
	}
}

func TestAlgorithm(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Algorithm
	}{{"AES-256-GCM", AES256GCM}, {"aes256gcm", AES256GCM}, {"SM4-GCM", SM4GCM}, {"sm4gcm", SM4GCM}} {
		if got, err := ParseAlgorithm(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", tt.in, got, err)
		}
	}
	if _, err := ParseAlgorithm("AES128GCM"); !errors.Is(err, ErrFormat) {
		t.Errorf("ParseAlgorithm(AES128GCM): %v", err)
	}
	for _, a := range algs {
		if b, err := ParseAlgorithm(a.String()); err != nil || b != a {
			t.Errorf("String/ParseAlgorithm do not round-trip %d", a)
		}
	}
	if s := Algorithm(9).String(); s != "Algorithm(9)" {
		t.Errorf("Algorithm(9).String() = %q", s)
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, 0, make([]byte, 32), 0); err == nil {
		t.Error("unknown algorithm accepted")
	}
	if _, err := NewWriter(io.Discard, AES256GCM, make([]byte, 16), 0); err == nil {
		t.Error("16-byte key accepted for AES-256-GCM")
	}
	if _, err := NewWriter(io.Discard, SM4GCM, make([]byte, 32), 0); err == nil {
		t.Error("32-byte key accepted for SM4-GCM")
	}
	for _, s := range []int{-1, 1, MinSegmentSize - 1, MaxSegmentSize + 1} {
		if _, err := NewWriter(io.Discard, AES256GCM, make([]byte, 32), s); err == nil {
			t.Errorf("segment size %d accepted", s)
		}
	}

	w, err := NewWriter(io.Discard, AES256GCM, make([]byte, 32), 16)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}

	// A failing destination makes the Writer fail, and stay failed.
	fw := &failWriter{after: HeaderSize}
	w, err = NewWriter(fw, AES256GCM, make([]byte, 32), 16)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 40)); err == nil {
		t.Error("Write to failing destination succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after failed Write succeeded")
	}
}

type failWriter struct{ n, after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.after {
		return 0, errors.New("disk full")
	}
	f.n += len(p)
	return len(p), nil
}

// TestNoAllocs checks the steady state: sealing and opening whole segments
// does not allocate.
func TestNoAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, alg := range algs {
		key := testKey(alg, 1)
		w, err := NewWriter(io.Discard, alg, key, 1024)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		if a := testing.AllocsPerRun(100, func() { w.Write(buf) }); a != 0 {
			t.Errorf("%v: Writer.Write allocates %.1f times per call", alg, a)
		}
		blob := seal(t, alg, key, 1024, make([]byte, 8*1024), 0)
		r, err := NewReader(bytes.NewReader(blob), int64(len(blob)), key)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 1500)
		if a := testing.AllocsPerRun(100, func() { r.ReadAt(p, 100) }); a != 0 {
			t.Errorf("%v: ReadAt allocates %.1f times per call", alg, a)
		}
		rr := r.NewRangeReader(0, r.Size())
		rr.Read(p) // first Read allocates the range reader's buffer
		if a := testing.AllocsPerRun(5, func() { rr.Read(p) }); a != 0 {
			t.Errorf("%v: range reader Read allocates %.1f times per call", alg, a)
		}
	}
}

func TestConcurrentReadAt(t *testing.T) {
	key := testKey(SM4GCM, 1)
	pt := pattern(20000, 5)
	blob := seal(t, SM4GCM, key, 1000, pt, 0)
	r, err := NewReader(bytes.NewReader(blob), int64(len(blob)), key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			p := make([]byte, 3000)
			for range 200 {
				off := rng.IntN(len(pt))
				n, err := r.ReadAt(p, int64(off))
				if err != nil && err != io.EOF {
					t.Error(err)
					return
				}
				if !bytes.Equal(p[:n], pt[off:off+n]) {
					t.Errorf("ReadAt(%d) returned wrong bytes", off)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestUnclosedWriter: a blob whose Writer was never closed lacks its last
// segment and must not open.
func TestUnclosedWriter(t *testing.T) {
	for _, alg := range algs {
		key := testKey(alg, 1)
		var buf bytes.Buffer
		w, err := NewWriter(&buf, alg, key, 16)
		if err != nil {
			t.Fatal(err)
		}
		pt := pattern(40, 1)
		w.Write(pt)
		if buf.Len() != HeaderSize+2*(16+TagSize) {
			t.Fatalf("%v: %d bytes out before Close, want the header and two segments", alg, buf.Len())
		}
		if _, err := openAll(t, buf.Bytes(), key, pt); !errors.Is(err, ErrAuth) {
			t.Fatalf("%v: unclosed blob: error %v, want ErrAuth", alg, err)
		}
	}
}
