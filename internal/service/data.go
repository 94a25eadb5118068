package service

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"syscall"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sealed"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// ChecksumInput is a flexible checksum the client sent with a body.
type ChecksumInput struct {
	Algorithm string // canonical name (checksum.CRC32, ...); "" for none
	Value     string // expected value from a header; "" when sent as a trailer
	// Trailer returns the expected value once the body has been read to
	// EOF (aws-chunked trailers); nil when there is none.
	Trailer func() string
}

// Body is a request payload with the integrity values it must match.
type Body struct {
	Reader     io.Reader
	Size       int64  // declared length; -1 when unknown
	ContentMD5 []byte // raw MD5 from Content-MD5; nil when absent
	Checksum   ChecksumInput
	// Extra lists more checksums to compute and store (e.g. CRC64ECMA for
	// dialects that return it).
	Extra []string
}

// written is the outcome of storing a body as one blob.
type written struct {
	part meta.Part
	etag string // MD5 of the plaintext, or opaque for SSE-KMS and SSE-C
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// writeBlob streams a body into a new blob, hashing the plaintext in the
// same pass and sealing it (when sl says so) as part `part` of its object.
// The blob is committed only if every size and integrity check passes.
// MD5 is computed only when the ETag or Content-MD5 needs it.
func (s *Service) writeBlob(ctx context.Context, body Body, sl *sealing, part int) (*written, error) {
	needMD5 := sl.plaintextETag()
	if body.Size > MaxPutSize {
		return nil, errs.EntityTooLarge
	}
	algs := append([]string(nil), body.Extra...)
	if body.Checksum.Algorithm != "" {
		algs = append(algs, body.Checksum.Algorithm)
	}
	// Hash on a second goroutine only when it pays: MD5 is slower than
	// AES-GCM and the disk together, but a goroutine hop costs more than
	// hashing a small body.
	large := body.Size < 0 || body.Size > parallelHashMin
	var md5h hash.Hash
	if needMD5 || body.ContentMD5 != nil {
		if large {
			h, release := s.md5s.New()
			defer release()
			md5h = h
		} else {
			md5h = md5.New()
		}
	}
	hs := checksum.NewSet(md5h, algs...)

	w, err := s.newDest(ctx, body.Size, sl)
	if err != nil {
		return nil, storageErr(err)
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()

	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	counted := &countingWriter{w: w}
	// Every part is framed: sealed when encrypted, else cut into
	// checksummed segments, so no read ever serves damaged bytes.
	var sealer *sealed.Writer
	format := meta.FormatRaw
	if sl.encrypted() {
		sealer, err = sl.kept.NewWriter(counted, sl.enc, sl.oek, part)
	} else {
		sealer, err = sealed.NewPlainWriter(counted, 0)
		format = meta.FormatPlainV1
	}
	if err != nil {
		return nil, storageErr(err)
	}
	src := body.Reader
	if body.Size >= 0 {
		// Read one byte past the declared size to catch overlong bodies.
		src = io.LimitReader(src, body.Size+1)
	}
	parallel := !hs.Empty() && large
	n, rerr, werr := copyHashed(sealer, hs, src, *bufp, parallel)
	if werr != nil {
		return nil, storageErr(werr)
	}
	if rerr != nil {
		if e := errs.As(rerr); e != nil {
			return nil, e // a failed signature or payload check
		}
		if errors.Is(rerr, context.Canceled) {
			return nil, rerr
		}
		return nil, errs.IncompleteBody
	}
	if body.Size >= 0 && n != body.Size {
		return nil, errs.IncompleteBody
	}
	if n > MaxPutSize {
		return nil, errs.EntityTooLarge
	}
	if err := sealer.Close(); err != nil {
		return nil, storageErr(err)
	}
	sum := hs.MD5()
	if body.ContentMD5 != nil && !bytes.Equal(sum, body.ContentMD5) {
		return nil, errs.BadDigest
	}
	if a := body.Checksum.Algorithm; a != "" {
		want := body.Checksum.Value
		if want == "" && body.Checksum.Trailer != nil {
			want = body.Checksum.Trailer()
		}
		if want == "" {
			return nil, errs.InvalidRequest.WithMessage("x-amz-checksum-" + a + " was announced but not sent")
		}
		if got := checksum.Encode(a, hs.Sum(a)); got != want {
			return nil, errs.BadDigest.WithMessage(fmt.Sprintf("The %s you specified did not match the calculated checksum.", a))
		}
	}
	id, err := w.Commit(ctx)
	if err != nil {
		return nil, storageErr(err)
	}
	committed = true
	var inline []byte
	if in, ok := w.(*inlineDest); ok {
		inline = in.buf.Bytes()
	}
	etag := opaqueETag()
	if needMD5 {
		etag = hex.EncodeToString(sum)
	}
	return &written{
		etag: etag,
		part: meta.Part{Number: part, BlobID: id, Inline: inline, Size: n, StoredSize: counted.n, Checksums: hs.Values(), Format: format},
	}, nil
}

// InlineMax is the largest stored part kept inside its metadata record
// rather than as a blob: a small PUT then costs one (group-)committed
// metadata write instead of a file create, two fsyncs and a rename.
const InlineMax = 32 << 10

// newDest picks where a part's stored bytes go: inline for a small body of
// known size, else a new blob.
func (s *Service) newDest(ctx context.Context, size int64, sl *sealing) (blob.Writer, error) {
	if size >= 0 {
		stored := sealed.PlainSize(size, 0)
		if sl.encrypted() {
			stored = sse.SealedSize(sl.enc, size)
		}
		if stored <= InlineMax {
			d := &inlineDest{}
			d.buf.Grow(int(stored))
			return d, nil
		}
	}
	return s.blobs.Create(ctx)
}

// inlineDest collects a small part's stored bytes in memory; the metadata
// commit makes them durable.
type inlineDest struct{ buf bytes.Buffer }

func (d *inlineDest) Write(p []byte) (int, error) {
	if d.buf.Len()+len(p) > InlineMax {
		return 0, errs.IncompleteBody // more than the declared size
	}
	return d.buf.Write(p)
}
func (d *inlineDest) Commit(context.Context) (string, error) { return "", nil }
func (d *inlineDest) Abort() error                           { return nil }

// parallelHashMin is the body size above which hashing overlaps writing.
const parallelHashMin = 256 << 10

// copyHashed streams src into sink, feeding every byte to hs once. With
// parallel, each chunk is hashed on a second goroutine while the caller
// seals and writes the same chunk (both only read it), so a PUT costs the
// slower of the two rather than their sum. Read and write errors are kept
// apart: the first is the client's, the second the storage's.
func copyHashed(sink io.Writer, hs *checksum.Set, src io.Reader, buf []byte, parallel bool) (n int64, readErr, writeErr error) {
	var in chan []byte
	var done chan struct{}
	if parallel {
		in, done = make(chan []byte), make(chan struct{})
		go func() {
			for p := range in {
				hs.Write(p)
				done <- struct{}{}
			}
		}()
		defer close(in)
	}
	for {
		m, err := io.ReadFull(src, buf)
		if m > 0 {
			chunk := buf[:m]
			switch {
			case parallel:
				in <- chunk
				_, writeErr = sink.Write(chunk)
				<-done
			case hs.Empty():
				_, writeErr = sink.Write(chunk)
			default:
				hs.Write(chunk)
				_, writeErr = sink.Write(chunk)
			}
			n += int64(m)
			if writeErr != nil {
				return n, nil, writeErr
			}
		}
		switch {
		case err == io.EOF, err == io.ErrUnexpectedEOF:
			// A short final chunk. A body cut short by the client is
			// caught by the caller's length check.
			return n, nil, nil
		case err != nil:
			return n, err, nil
		}
	}
}

// countingWriter counts the bytes that reach the blob.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// storageErr classifies a data-tier failure without leaking paths.
func storageErr(err error) error {
	if errors.Is(err, blob.ErrUnavailable) {
		return tierErr(err)
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return errs.InsufficientStorage
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("data store: %w", err)
}

// DecodeContentMD5 parses a Content-MD5 header value.
func DecodeContentMD5(v string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 16 {
		return nil, errs.InvalidDigest
	}
	return b, nil
}

// objectReader streams a plaintext range of an object across its parts,
// opening each part's blob only when the read reaches it.
type objectReader struct {
	ctx     context.Context
	s       *Service
	sl      *sealing
	obj     *meta.Object
	parts   []meta.Part
	off     int64 // object offset of the next byte
	remain  int64
	damaged error
	cur     io.Reader
	curLeft int64 // bytes cur must still deliver
	curPart *meta.Part
	curBlb  blob.Reader
	hold    *readHold   // keeps the parts' blobs until Close; nil: none
	done    func()      // ends the read's client count (Service.client); nil: none
	loan    *inlineLoan // lent the inline parts' buffers, taken back at Close; nil: none
}

func (s *Service) newObjectReader(ctx context.Context, o *meta.Object, sl *sealing, off, n int64) *objectReader {
	return &objectReader{ctx: ctx, s: s, sl: sl, obj: o, parts: o.Parts, off: off, remain: n}
}

// errShortPart reports stored data shorter than its metadata.
var errShortPart = fmt.Errorf("stored part shorter than its metadata: %w", io.ErrUnexpectedEOF)

// Read returns only bytes that passed their segment's check. Damaged
// stored data is logged, counted and reported as errs.DataDamaged.
func (r *objectReader) Read(p []byte) (int, error) {
	if r.damaged != nil {
		return 0, r.damaged
	}
	n, err := r.read(p)
	// A blob shorter than its metadata says is damaged too.
	if err != nil && (sealed.IsDamaged(err) || errors.Is(err, io.ErrUnexpectedEOF)) {
		err = r.reportDamage(err)
	}
	if err != nil {
		err = tierErr(err)
	}
	return n, err
}

// reportDamage logs and counts damaged stored data (never the data
// itself) and returns the error a client gets for it; r.damaged keeps it
// for every later Read.
func (r *objectReader) reportDamage(err error) error {
	r.s.stats.IntegrityFailures.Add(1)
	args := []any{"bucket", r.obj.Bucket, "key", r.obj.Key, "offset", r.off, "err", err}
	if p := r.curPart; p != nil {
		args = append(args, "part", p.Number, "blob", p.BlobID)
	}
	var se *sealed.SegmentError
	if errors.As(err, &se) {
		args = append(args, "segment", se.Index)
	}
	r.s.log.Error("stored object data is damaged", args...)
	r.damaged = fmt.Errorf("%w (%w)", errs.DataDamaged, err)
	return r.damaged
}

func (r *objectReader) read(p []byte) (int, error) {
	for {
		if r.remain <= 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			if err := r.openNext(); err != nil {
				return 0, err
			}
		}
		p = p[:min(int64(len(p)), r.curLeft)]
		n, err := r.cur.Read(p)
		r.advance(int64(n))
		if err == io.EOF || r.curLeft == 0 {
			if r.curLeft > 0 {
				return n, errShortPart
			}
			r.closeCur()
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (r *objectReader) advance(n int64) {
	r.off += n
	r.remain -= n
	r.curLeft -= n
}

// WriteTo streams the rest of the object to w through 1 MiB buffers: this
// goroutine fills one (reading a plaintext part, or reading and decrypting a
// sealed one straight into it) while a second goroutine writes the previous
// one to w, so reading, decryption and the socket overlap. Measured on
// loopback, this beats sendfile for plaintext too (about 10%: the kernel
// splices page-cache pages into the socket 64 KiB at a time), and it is the
// one path every blob store and every mode shares.
func (r *objectReader) WriteTo(w io.Writer) (int64, error) {
	if r.remain <= asyncWriteMin {
		bp := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(bp)
		return io.CopyBuffer(onlyWriter{w}, onlyReader{r}, *bp)
	}
	aw := newAsyncWriter(w)
	var total int64
	for r.remain > 0 {
		buf := aw.next()
		if buf == nil {
			break // the writer failed; Close reports why
		}
		n, err := io.ReadFull(r, *buf)
		*buf = (*buf)[:n]
		aw.send(buf)
		total += int64(n)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			aw.Close()
			return total, err
		}
	}
	return total, aw.Close()
}

// onlyReader and onlyWriter hide ReadFrom and WriteTo, so io.CopyBuffer
// uses the buffer it is given.
type onlyReader struct{ io.Reader }
type onlyWriter struct{ io.Writer }

// openNext positions cur at r.off.
func (r *objectReader) openNext() error {
	var start int64
	for _, p := range r.parts {
		if r.off < start+p.Size {
			b, err := r.s.openPart(r.ctx, &p)
			if err != nil {
				return fmt.Errorf("opening part %d: %w", p.Number, err)
			}
			within := r.off - start
			n := min(p.Size-within, r.remain)
			r.curBlb, r.curLeft, r.curPart = b, n, &p
			var sr *sealed.Reader
			switch {
			case r.sl.encrypted():
				sr, err = r.sl.kept.NewReader(b, p.StoredSize, r.sl.enc, r.sl.oek, p.Number)
			case p.Format == meta.FormatPlainV1:
				sr, err = sealed.NewPlainReader(b, p.StoredSize)
			case p.Format == meta.FormatRaw:
				// Written before plain parts were checksummed.
				r.cur = io.NewSectionReader(b, within, n)
				return nil
			default:
				err = fmt.Errorf("unknown part format %d: %w", p.Format, sealed.ErrFormat)
			}
			if err == nil && sr.Size() != p.Size {
				err = fmt.Errorf("part %d: stored size %d, metadata says %d: %w", p.Number, sr.Size(), p.Size, sealed.ErrFormat)
			}
			if err != nil {
				b.Close()
				r.curBlb = nil // r.curPart stays, for reportDamage
				return fmt.Errorf("opening part %d: %w", p.Number, err)
			}
			r.cur = sr.NewRangeReader(within, n)
			return nil
		}
		start += p.Size
	}
	return fmt.Errorf("object shorter than its metadata (offset %d)", r.off)
}

func (r *objectReader) closeCur() {
	if r.curBlb != nil {
		r.curBlb.Close()
	}
	r.cur, r.curBlb, r.curPart, r.curLeft = nil, nil, nil, 0
}

func (r *objectReader) Close() error {
	r.closeCur()
	r.remain = 0
	if r.loan != nil {
		r.loan.giveBack(r.obj) // after closeCur: no reader left on the bytes
		r.loan = nil
	}
	r.hold.release()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return nil
}

// openPart opens a part's stored bytes: its blob, or its inline data.
func (s *Service) openPart(ctx context.Context, p *meta.Part) (blob.Reader, error) {
	if p.BlobID == "" {
		if len(p.Inline) == 0 && p.StoredSize > 0 {
			// A version from a listing: the store loads inline bytes
			// only for GetObject/GetObjectVersion.
			return nil, fmt.Errorf("service: inline data of part %d not loaded", p.Number)
		}
		return inlineReader{bytes.NewReader(p.Inline), p.Inline}, nil
	}
	return s.blobs.Open(ctx, p.BlobID)
}

// inlineReader is a blob.Reader over inline part data. It is a
// sealed.InMemory, so a sealed part is decrypted where it lies.
type inlineReader struct {
	*bytes.Reader
	b []byte
}

func (inlineReader) Close() error          { return nil }
func (r inlineReader) StoredBytes() []byte { return r.b }

// asyncWriteMin is the stretch above which reading and writing are
// overlapped (below it a goroutine hop costs more than it saves).
const asyncWriteMin = 256 << 10

// asyncDepth buffers of asyncBufSize circulate between producer and writer.
const (
	asyncDepth   = 3
	asyncBufSize = 1 << 20
)

var asyncBufs = sync.Pool{New: func() any { b := make([]byte, asyncBufSize); return &b }}

// asyncWriter writes buffers to w on a second goroutine: the producer
// fills the next buffer while the previous one is written.
type asyncWriter struct {
	w      io.Writer
	ch     chan *[]byte
	free   chan *[]byte
	failed chan struct{} // closed at the first failed write
	done   chan struct{}
	err    error // set by the writer goroutine before failed closes
}

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{
		w:      w,
		ch:     make(chan *[]byte, asyncDepth),
		free:   make(chan *[]byte, asyncDepth),
		failed: make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range asyncDepth {
		a.free <- asyncBufs.Get().(*[]byte)
	}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			if a.err == nil && len(*b) > 0 {
				if _, err := a.w.Write(*b); err != nil {
					a.err = err
					close(a.failed)
				}
			}
			*b = (*b)[:cap(*b)]
			if a.err != nil {
				asyncBufs.Put(b)
				continue
			}
			a.free <- b
		}
	}()
	return a
}

// next returns an empty buffer of full length to fill, or nil once a
// write has failed.
func (a *asyncWriter) next() *[]byte {
	select {
	case b := <-a.free:
		return b
	case <-a.failed:
		return nil
	}
}

// send queues b (from next, cut to what was filled) for writing.
func (a *asyncWriter) send(b *[]byte) { a.ch <- b }

// Close waits for every queued write and returns the first error.
func (a *asyncWriter) Close() error {
	close(a.ch)
	<-a.done
	for len(a.free) > 0 {
		asyncBufs.Put(<-a.free)
	}
	return a.err
}
