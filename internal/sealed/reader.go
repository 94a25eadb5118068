package sealed

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Reader gives authenticated random access to the plaintext of a blob.
// ReadAt and NewRangeReader may be used concurrently.
//
// Bytes are only ever returned after their segment authenticated. Size is
// computed from the stored size, and for a non-empty blob it is only
// authenticated once the last segment is read: a blob cut short at a segment
// boundary reports a smaller Size (reading its apparent last segment fails
// with ErrAuth, reads before it succeed with correct bytes). Callers that
// serve a range without reading to the end should compare Size with the size
// recorded in their metadata. An empty blob is fully authenticated by
// NewReader.
//
// A Reader of a plain blob (NewPlainReader) works the same way, with each
// segment checked against its XXH3-64 checksum instead of authenticated.
type Reader struct {
	src       io.ReaderAt
	mem       []byte                // src's bytes when it is InMemory, else nil
	alg       Algorithm             // 0 for a plain blob
	key       *BlobKey              // nil for a plain blob
	plainHdr  [PlainHeaderSize]byte // plain blobs: the header, bound into every checksum
	hdr       int                   // header size
	overhead  int                   // per-segment overhead: TagSize or SumSize
	segSize   int
	size      int64 // plaintext size
	nseg      int64
	maxSealed int // stored size of the largest segment of this blob
	opened    atomic.Int64
	scratch   sync.Pool // *scratch for ReadAt
}

// readerLayout is what a header and the stored size say about a blob.
type readerLayout struct {
	alg           Algorithm
	key           *BlobKey
	plainHdr      [PlainHeaderSize]byte
	hdr, overhead int
	segSize       int
	size          int64
}

// newReader builds a Reader and, for an empty plaintext, checks its one
// segment at once.
func newReader(src io.ReaderAt, l readerLayout) (*Reader, error) {
	r := &Reader{
		src:       src,
		mem:       storedBytes(src),
		alg:       l.alg,
		key:       l.key,
		plainHdr:  l.plainHdr,
		hdr:       l.hdr,
		overhead:  l.overhead,
		segSize:   l.segSize,
		size:      l.size,
		nseg:      segments(l.size, l.segSize),
		maxSealed: int(min(int64(l.segSize), l.size)) + l.overhead,
	}
	r.scratch.New = func() any { return &scratch{buf: make([]byte, r.maxSealed)} }
	if l.size == 0 {
		// No read of an empty plaintext would ever open its one (empty, last)
		// segment, so check it now: otherwise any blob cut down to its
		// header and one segment's overhead would pass for an empty object.
		s := r.scratch.Get().(*scratch)
		defer r.scratch.Put(s)
		if _, err := r.open(s.buf, s, 0); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// InMemory is implemented by a source that already holds its stored bytes
// in memory (an inline part). A Reader then authenticates and decrypts a
// sealed segment where it lies instead of first copying it into a buffer of
// its own. The bytes must not change while the Reader is in use.
type InMemory interface {
	StoredBytes() []byte
}

func storedBytes(src io.ReaderAt) []byte {
	if m, ok := src.(InMemory); ok {
		return m.StoredBytes()
	}
	return nil
}

// scratch is the per-reader working memory: one sealed segment and a nonce
// (kept here because a nonce passed to an interface method escapes, which
// would cost an allocation per segment).
type scratch struct {
	buf   []byte // len maxSealed
	nonce [nonceSize]byte
}

// NewReader reads and validates the header of the blob of storedSize bytes in
// src and derives its key from partKey. The algorithm comes from the header;
// callers that know which one to expect should compare it with Algorithm.
//
// A header that cannot be parsed gives ErrFormat. A part key of the wrong size
// for the header's algorithm, or a stored size no sealed blob can have, gives
// ErrAuth (as a wrong key of the right size would, on the first read).
func NewReader(src io.ReaderAt, storedSize int64, partKey []byte) (*Reader, error) {
	return NewReaderKept(src, storedSize, nil, func() []byte { return partKey })
}

// NewReaderKept is NewReader for a caller that keeps blob keys (Reader.Key)
// to open the same blob again: when kept was made for exactly this blob's
// header, it opens the blob and nothing is derived. Otherwise (kept is nil,
// or belongs to another blob) the key is derived from partKey(), as
// NewReader derives it. partKey is called at most once; its caller owns (and
// zeroes) the bytes it returns.
//
// The caller must only offer a kept key derived from the same part key: the
// header names the blob, not the key it was derived from.
func NewReaderKept(src io.ReaderAt, storedSize int64, kept *BlobKey, partKey func() []byte) (*Reader, error) {
	var hb [HeaderSize]byte
	if storedSize < HeaderSize {
		return nil, fmt.Errorf("sealed: stored size %d is shorter than the header: %w", storedSize, ErrFormat)
	}
	if err := readHeader(src, hb[:]); err != nil {
		return nil, fmt.Errorf("sealed: reading header: %w", err)
	}
	h, err := parseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	size, ok := plaintextSize(storedSize, h.segSize, HeaderSize, TagSize)
	if !ok {
		return nil, fmt.Errorf("sealed: stored size %d is not a possible sealed size (truncated or extended): %w", storedSize, ErrAuth)
	}
	key := kept
	if key == nil || key.hdr != hb {
		key, err = newBlobKey(&h, partKey())
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, ErrAuth)
		}
	}
	return newReader(src, readerLayout{
		alg: h.alg, key: key, hdr: HeaderSize, overhead: TagSize,
		segSize: h.segSize, size: size,
	})
}

// Key returns the key r opens its blob with, for NewReaderKept (nil for a
// plain blob).
func (r *Reader) Key() *BlobKey { return r.key }

// Algorithm returns the algorithm named in the header (0 for a plain blob).
func (r *Reader) Algorithm() Algorithm { return r.alg }

// SegmentSize returns the plaintext segment size named in the header.
func (r *Reader) SegmentSize() int { return r.segSize }

// Size returns the plaintext size.
func (r *Reader) Size() int64 { return r.size }

// SegmentsOpened returns how many segment decryptions this Reader has
// attempted so far, across ReadAt and all range readers. It exists so tests
// and metrics can check that range reads only touch the segments they need.
func (r *Reader) SegmentsOpened() int64 { return r.opened.Load() }

// segment returns the plaintext length of segment i and its stored offset.
func (r *Reader) segment(i int64) (plainLen int, off int64) {
	start := i * int64(r.segSize)
	plainLen = int(min(int64(r.segSize), r.size-start))
	return plainLen, int64(r.hdr) + i*int64(r.segSize+r.overhead)
}

// open reads segment i with one ReadAt into s.buf (or, from an InMemory
// source, takes it where it lies) and authenticates and decrypts it into
// dst[:0], which is either s.buf itself (in place) or must not overlap it
// and have room for the segment. It returns the plaintext.
//
// For a plain blob the segment is checked against its checksum instead.
func (r *Reader) open(dst []byte, s *scratch, i int64) ([]byte, error) {
	n, off := r.segment(i)
	if r.key == nil {
		return r.openPlain(dst, s, i, n, off)
	}
	var sealed []byte
	if r.mem != nil {
		if end := off + int64(n+TagSize); end <= int64(len(r.mem)) {
			sealed = r.mem[off:end]
		} else {
			return nil, fmt.Errorf("sealed: reading segment %d: %w", i, io.ErrUnexpectedEOF)
		}
	} else {
		sealed = s.buf[:n+TagSize]
		if err := readFull(r.src, sealed, off); err != nil {
			return nil, fmt.Errorf("sealed: reading segment %d: %w", i, err)
		}
	}
	nonce(&s.nonce, uint64(i), i == r.nseg-1)
	r.opened.Add(1)
	pt, err := r.key.aead.Open(dst[:0], s.nonce[:], sealed, nil)
	if err != nil {
		clear(dst[:n]) // defence in depth: never leave unauthenticated bytes behind
		return nil, &SegmentError{Index: i, Count: r.nseg, Err: ErrAuth}
	}
	return pt, nil
}

// ReadAt reads len(p) plaintext bytes starting at off. As io.ReaderAt
// requires, it returns io.EOF when fewer bytes remain. p[:n] only ever holds
// authenticated plaintext.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("sealed: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := p
	if rem := r.size - off; int64(len(p)) > rem {
		want = p[:rem]
	}
	s := r.scratch.Get().(*scratch)
	defer r.scratch.Put(s)
	n := 0
	for n < len(want) {
		pos := off + int64(n)
		i := pos / int64(r.segSize)
		skip := int(pos - i*int64(r.segSize))
		plainLen, _ := r.segment(i)
		if skip == 0 && len(want)-n >= plainLen {
			// The whole segment is wanted: decrypt straight into p.
			if _, err := r.open(want[n:], s, i); err != nil {
				return n, err
			}
			n += plainLen
			continue
		}
		pt, err := r.open(s.buf, s, i)
		if err != nil {
			return n, err
		}
		n += copy(want[n:], pt[skip:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// NewRangeReader returns a reader of the plaintext bytes [off, off+length),
// clipped to Size. It reads and decrypts only the segments the range
// touches, each with a single ReadAt, reusing one buffer. A negative off or
// length gives a reader that only returns an error.
func (r *Reader) NewRangeReader(off, length int64) io.Reader {
	if off < 0 || length < 0 {
		return &rangeReader{err: errors.New("sealed: negative range")}
	}
	end := r.size
	if off < end && length < end-off {
		end = off + length
	}
	return &rangeReader{r: r, pos: off, end: end}
}

// rangeReader streams a plaintext range. pending holds decrypted bytes of the
// current segment that have not been returned yet.
type rangeReader struct {
	r        *Reader
	pos, end int64    // next plaintext offset to decrypt-or-return, end of range
	s        *scratch // allocated on first use, then reused for every segment (buf only once needed)
	pending  []byte
	err      error
}

// fill decrypts the segment holding rr.pos in place and sets pending.
func (rr *rangeReader) fill() error {
	r := rr.r
	rr.alloc(true)
	i := rr.pos / int64(r.segSize)
	skip := rr.pos - i*int64(r.segSize)
	pt, err := r.open(rr.s.buf, rr.s, i)
	if err != nil {
		return err
	}
	pt = pt[skip:]
	if rem := rr.end - rr.pos; int64(len(pt)) > rem {
		pt = pt[:rem]
	}
	rr.pending = pt
	rr.pos += int64(len(pt))
	return nil
}

// alloc makes rr.s, with a segment buffer if buf (a segment decrypted
// from an InMemory source, or checked straight in the caller's buffer,
// needs none).
func (rr *rangeReader) alloc(buf bool) {
	if rr.s == nil {
		rr.s = &scratch{}
	}
	if buf && rr.s.buf == nil {
		rr.s.buf = make([]byte, rr.r.maxSealed)
	}
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	if rr.err != nil {
		return 0, rr.err
	}
	if len(rr.pending) == 0 {
		if rr.pos >= rr.end {
			rr.err = io.EOF
			return 0, io.EOF
		}
		// Whole segment wanted and p can take it: decrypt straight into p.
		r := rr.r
		i := rr.pos / int64(r.segSize)
		if r.key == nil && rr.pos == i*int64(r.segSize) {
			if n := r.readPlainRun(p, i, rr.end); n > 0 {
				rr.pos += int64(n)
				return n, nil
			}
		}
		if plainLen, _ := r.segment(i); rr.pos == i*int64(r.segSize) &&
			rr.end-rr.pos >= int64(plainLen) && len(p) >= plainLen {
			// open needs s.buf unless the segment is in memory, or a
			// plain one can be checked in p (see openPlain).
			rr.alloc(r.mem == nil && (r.key != nil || len(p) < plainLen+SumSize))
			if _, err := r.open(p, rr.s, i); err != nil {
				rr.err = err
				return 0, err
			}
			rr.pos += int64(plainLen)
			return plainLen, nil
		}
		if err := rr.fill(); err != nil {
			rr.err = err
			return 0, err
		}
	}
	n := copy(p, rr.pending)
	rr.pending = rr.pending[n:]
	return n, nil
}

// WriteTo lets io.Copy hand each decrypted segment straight to w instead of
// copying it through an intermediate buffer.
func (rr *rangeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if rr.err != nil {
			if rr.err == io.EOF {
				return total, nil
			}
			return total, rr.err
		}
		if len(rr.pending) == 0 {
			if rr.pos >= rr.end {
				rr.err = io.EOF
				continue
			}
			if err := rr.fill(); err != nil {
				rr.err = err
				continue
			}
		}
		n, err := w.Write(rr.pending)
		total += int64(n)
		rr.pending = rr.pending[n:]
		if err != nil {
			return total, err
		}
		if len(rr.pending) > 0 {
			return total, io.ErrShortWrite
		}
	}
}

// readHeader fills hdr, an array on the caller's stack, from the start of
// src. Handing the array to src.ReadAt would move it to the heap on every
// open, so an in-memory source is copied from directly and any other is
// read into a buffer of its own.
func readHeader(src io.ReaderAt, hdr []byte) error {
	if m := storedBytes(src); m != nil {
		if len(m) < len(hdr) {
			return io.ErrUnexpectedEOF
		}
		copy(hdr, m)
		return nil
	}
	buf := make([]byte, len(hdr))
	if err := readFull(src, buf, 0); err != nil {
		return err
	}
	copy(hdr, buf)
	return nil
}

// readFull reads exactly len(b) bytes at off. A short read is reported as
// io.ErrUnexpectedEOF: the stored blob is shorter than its claimed size.
func readFull(src io.ReaderAt, b []byte, off int64) error {
	n, err := src.ReadAt(b, off)
	if n == len(b) {
		return nil // io.ReaderAt may return io.EOF with a full read
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
