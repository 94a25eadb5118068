package sealed

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
)

// Writer seals a plaintext stream into a blob. It holds back at most one
// segment: a full segment can only be sealed once the Writer knows whether
// more data follows, because the last segment's nonce differs. Close seals the
// final segment and must be called; a blob without its last segment does not
// authenticate.
//
// A Writer is not safe for concurrent use.
//
// A plain Writer (NewPlainWriter) cuts the same segments and follows each
// with its checksum instead of sealing it.
type Writer struct {
	dst      io.Writer
	key      *BlobKey              // nil for a plain blob
	plainHdr [PlainHeaderSize]byte // plain blobs: the header, bound into every checksum
	sum      [SumSize]byte
	segSize  int
	// buf holds the pending plaintext (len(buf) <= segSize) and has room for
	// the tag, so segments are sealed in place without allocating; it
	// grows up to a segment as data comes (ensure).
	buf   []byte
	index uint64
	nonce [nonceSize]byte
	err   error // sticky; errClosed after Close
}

var errClosed = errors.New("sealed: write to closed Writer")

// NewWriter writes a fresh header to dst and returns a Writer that seals what
// is written to it with a key derived from partKey (alg.KeySize() bytes, see
// PartKey) and a random salt. segmentSize 0 means DefaultSegmentSize.
func NewWriter(dst io.Writer, alg Algorithm, partKey []byte, segmentSize int) (*Writer, error) {
	var salt [SaltSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, err
	}
	return newWriter(dst, alg, partKey, segmentSize, salt)
}

// newWriter is NewWriter with a chosen salt; tests use it for golden vectors.
// Production code must never reuse a salt with the same part key.
func newWriter(dst io.Writer, alg Algorithm, partKey []byte, segmentSize int, salt [SaltSize]byte) (*Writer, error) {
	if !alg.Valid() {
		return nil, errors.New("sealed: unknown algorithm " + alg.String())
	}
	s, err := normSegmentSize(segmentSize)
	if err != nil {
		return nil, err
	}
	h := header{alg: alg, segSize: s, salt: salt}
	key, err := newBlobKey(&h, partKey)
	if err != nil {
		return nil, err
	}
	hb := h.marshal()
	if _, err := dst.Write(hb[:]); err != nil {
		return nil, err
	}
	return &Writer{
		dst:     dst,
		key:     key,
		segSize: s,
	}, nil
}

// Key returns the key of the blob w writes, for NewReaderKept (nil for a
// plain blob).
func (w *Writer) Key() *BlobKey { return w.key }

// Write buffers p and writes out every segment that is known not to be the
// last one.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == w.segSize {
			// More data follows, so the buffered segment is not the last.
			if err := w.seal(w.buf, false); err != nil {
				return n - len(p), err
			}
			continue
		}
		if len(w.buf) == 0 && len(p) > w.segSize {
			// Fast path: a whole non-last segment is available in p; seal
			// it straight from p without copying it into buf first.
			if err := w.seal(p[:w.segSize], false); err != nil {
				return n - len(p), err
			}
			p = p[w.segSize:]
			continue
		}
		want := min(len(w.buf)+len(p), w.segSize)
		w.ensure(want)
		c := copy(w.buf[len(w.buf):want], p)
		w.buf = w.buf[:len(w.buf)+c]
		p = p[c:]
	}
	return n, nil
}

// seal seals plaintext (either buf itself or a segment-sized slice of the
// caller's data) as the next segment into buf and writes it out.
func (w *Writer) seal(plaintext []byte, last bool) error {
	if w.key == nil {
		return w.checksum(plaintext, last)
	}
	nonce(&w.nonce, w.index, last)
	w.ensure(len(plaintext))
	out := w.key.aead.Seal(w.buf[:0], w.nonce[:], plaintext, nil)
	w.index++
	w.buf = w.buf[:0]
	if _, err := w.dst.Write(out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close seals the buffered data as the last segment (an empty one if nothing
// was written at all). It does not close the underlying writer. Calling Close
// again returns the first Close's result.
func (w *Writer) Close() error {
	if w.err != nil {
		if w.err == errClosed {
			return nil
		}
		return w.err
	}
	if err := w.seal(w.buf, true); err != nil {
		return err
	}
	w.err = errClosed
	return nil
}

// checksum writes plaintext (buf, or a segment-sized slice of the caller's
// data) as the next segment of a plain blob, followed by its checksum.
func (w *Writer) checksum(plaintext []byte, last bool) error {
	c := segmentSum(&w.plainHdr, w.index, last, plaintext)
	w.index++
	w.buf = w.buf[:0]
	binary.BigEndian.PutUint64(w.sum[:], c)
	if _, err := w.dst.Write(plaintext); err != nil {
		w.err = err
		return err
	}
	if _, err := w.dst.Write(w.sum[:]); err != nil {
		w.err = err
		return err
	}
	return nil
}

// ensure gives buf room for n bytes of plaintext (n <= segSize) and a
// tag, keeping what it holds. The buffer grows with the data rather than
// being a whole segment from the start: a 4 KiB object does not allocate
// and clear a 64 KiB segment.
func (w *Writer) ensure(n int) {
	if n+TagSize <= cap(w.buf) {
		return
	}
	c := min(max(n, 2*cap(w.buf)), w.segSize)
	nb := make([]byte, len(w.buf), c+TagSize)
	copy(nb, w.buf)
	w.buf = nb
}
