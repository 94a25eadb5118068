package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"io"
	"testing"

	"github.com/emmansun/gmsm/sm4"
)

// The benchmarks compare the format's steady-state throughput with a bare
// GCM Seal over the same 64 KiB buffer, so the cost of the format itself
// (buffering, nonce building, I/O plumbing) is visible as a ratio.

const benchSeg = DefaultSegmentSize

func benchBare(b *testing.B, block cipher.Block) {
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	pt := make([]byte, benchSeg)
	out := make([]byte, 0, benchSeg+TagSize)
	var n [nonceSize]byte
	b.SetBytes(benchSeg)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nonce(&n, uint64(i), false)
		out = aead.Seal(out[:0], n[:], pt, nil)
	}
}

// benchBareOpen is benchBare's mirror: GCM Open of one 64 KiB segment. Some
// implementations decrypt faster than they encrypt (gmsm's SM4-GCM does, by
// a wide margin), so Open is also compared with a bare Open.
func benchBareOpen(b *testing.B, block cipher.Block) {
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	var n [nonceSize]byte
	sealed := aead.Seal(nil, n[:], make([]byte, benchSeg), nil)
	out := make([]byte, benchSeg)
	b.SetBytes(benchSeg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aead.Open(out[:0], n[:], sealed, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareAESGCMOpen(b *testing.B) {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	benchBareOpen(b, block)
}

func BenchmarkBareSM4GCMOpen(b *testing.B) {
	block, err := sm4.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	benchBareOpen(b, block)
}

func BenchmarkBareAESGCM(b *testing.B) {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	benchBare(b, block)
}

func BenchmarkBareSM4GCM(b *testing.B) {
	block, err := sm4.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	benchBare(b, block)
}

// benchSeal streams 64 KiB writes through one Writer: the per-blob key
// derivation is paid once, as it is for a large object.
func benchSeal(b *testing.B, alg Algorithm) {
	w, err := NewWriter(io.Discard, alg, make([]byte, alg.KeySize()), benchSeg)
	if err != nil {
		b.Fatal(err)
	}
	pt := make([]byte, benchSeg)
	b.SetBytes(benchSeg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(pt); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// benchOpen reads whole 64 KiB segments of an in-memory blob with ReadAt.
func benchOpen(b *testing.B, alg Algorithm) {
	const nseg = 8
	key := make([]byte, alg.KeySize())
	var blob bytes.Buffer
	w, err := NewWriter(&blob, alg, key, benchSeg)
	if err != nil {
		b.Fatal(err)
	}
	w.Write(make([]byte, nseg*benchSeg))
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(blob.Bytes()), int64(blob.Len()), key)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, benchSeg)
	b.SetBytes(benchSeg)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := r.ReadAt(p, int64(i%nseg)*benchSeg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealAES256GCM(b *testing.B) { benchSeal(b, AES256GCM) }
func BenchmarkOpenAES256GCM(b *testing.B) { benchOpen(b, AES256GCM) }
func BenchmarkSealSM4GCM(b *testing.B)    { benchSeal(b, SM4GCM) }
func BenchmarkOpenSM4GCM(b *testing.B)    { benchOpen(b, SM4GCM) }
