package service

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

	"strongroom/internal/blob"
	"strongroom/internal/checksum"
	"strongroom/internal/errs"
	"strongroom/internal/meta"
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
	part   meta.Part
	md5    []byte
	hashes *checksum.Set
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// writeBlob streams a body into a new blob, hashing it in the same pass,
// and commits the blob only if every size and integrity check passes.
// needMD5 asks for the MD5 even without Content-MD5 (plaintext ETags).
func (s *Service) writeBlob(ctx context.Context, body Body, needMD5 bool) (*written, error) {
	if body.Size > MaxPutSize {
		return nil, errs.EntityTooLarge
	}
	algs := append([]string(nil), body.Extra...)
	if body.Checksum.Algorithm != "" {
		algs = append(algs, body.Checksum.Algorithm)
	}
	hs := checksum.NewSet(needMD5 || body.ContentMD5 != nil, algs...)

	w, err := s.blobs.Create(ctx)
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
	var dst io.Writer = w
	if !hs.Empty() {
		dst = io.MultiWriter(hs, w)
	}
	src := body.Reader
	if body.Size >= 0 {
		// Read one byte past the declared size to catch overlong bodies.
		src = io.LimitReader(src, body.Size+1)
	}
	n, err := io.CopyBuffer(dst, src, *bufp)
	if err != nil {
		if e := errs.As(err); e != nil {
			return nil, e
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errs.IncompleteBody
		}
		return nil, storageErr(err)
	}
	if body.Size >= 0 && n != body.Size {
		return nil, errs.IncompleteBody
	}
	if n > MaxPutSize {
		return nil, errs.EntityTooLarge
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
	return &written{
		part:   meta.Part{BlobID: id, Size: n, StoredSize: n, Checksums: hs.Values()},
		md5:    sum,
		hashes: hs,
	}, nil
}

// storageErr classifies a data-tier failure without leaking paths.
func storageErr(err error) error {
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
	ctx    context.Context
	s      *Service
	parts  []meta.Part
	off    int64 // object offset of the next byte
	remain int64
	cur    io.Reader
	curBlb blob.Reader
}

func (s *Service) newObjectReader(ctx context.Context, o *meta.Object, off, n int64) *objectReader {
	return &objectReader{ctx: ctx, s: s, parts: o.Parts, off: off, remain: n}
}

func (r *objectReader) Read(p []byte) (int, error) {
	for {
		if r.remain <= 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			if err := r.openNext(); err != nil {
				return 0, err
			}
		}
		if int64(len(p)) > r.remain {
			p = p[:r.remain]
		}
		n, err := r.cur.Read(p)
		r.off += int64(n)
		r.remain -= int64(n)
		if err == io.EOF {
			r.closeCur()
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// openNext positions cur at r.off.
func (r *objectReader) openNext() error {
	var start int64
	for _, p := range r.parts {
		if r.off < start+p.Size {
			b, err := r.s.blobs.Open(r.ctx, p.BlobID)
			if err != nil {
				return fmt.Errorf("opening part %d: %w", p.Number, err)
			}
			within := r.off - start
			n := min(p.Size-within, r.remain)
			r.curBlb = b
			r.cur = io.NewSectionReader(b, within, n)
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
	r.cur, r.curBlb = nil, nil
}

func (r *objectReader) Close() error {
	r.closeCur()
	r.remain = 0
	return nil
}
