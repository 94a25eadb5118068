package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// setBody fills res.Body, ContentLength and Trailer for the payload mode
// (the x-amz-content-sha256 value). seed is the signing context of a
// header-signed SigV4 request; signed streaming needs it.
func setBody(res *Result, r *http.Request, mode string, seed *chunkSigner) error {
	res.Trailer = http.Header{}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	switch mode {
	case unsignedPayload:
		res.Body, res.ContentLength = body, r.ContentLength
		return nil
	case streamingUnsignedTrailer, streamingSigned, streamingSignedTrailer:
		signed := mode != streamingUnsignedTrailer
		if signed && seed == nil {
			return detail(errBadSHA256, "%s needs SigV4 header authentication", mode)
		}
		n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return errDecodedLength
		}
		cr := &chunkReader{
			src:      bufio.NewReaderSize(body, chunkLineMax),
			body:     body,
			trailer:  mode != streamingSigned,
			want:     n,
			trailers: res.Trailer,
		}
		if signed {
			cr.sig, cr.h = seed, sha256.New()
		}
		for _, v := range r.Header.Values("X-Amz-Trailer") {
			for name := range strings.SplitSeq(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					cr.declared = append(cr.declared, name)
				}
			}
		}
		res.Body, res.ContentLength = cr, n
		return nil
	}
	var want [32]byte
	if !decodeSig(&want, mode) {
		return errBadSHA256
	}
	res.Body, res.ContentLength = &hashReader{src: body, h: sha256.New(), want: want}, r.ContentLength
	return nil
}

// hashReader passes the body through, hashing it, and turns io.EOF into
// errs.ContentSHA256Mismatch when the digest differs from the signed one.
type hashReader struct {
	src  io.ReadCloser
	h    hash.Hash
	want [32]byte
	err  error
}

func (r *hashReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.src.Read(p)
	r.h.Write(p[:n])
	switch {
	case err == io.EOF:
		var sum [32]byte
		if !bytes.Equal(r.h.Sum(sum[:0]), r.want[:]) {
			err = errs.ContentSHA256Mismatch
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = detail(errs.IncompleteBody, "body shorter than Content-Length")
	}
	r.err = err
	return n, err
}

func (r *hashReader) Close() error { return r.src.Close() }

const (
	chunkLineMax   = 4096     // longest chunk header or trailer line
	trailerMax     = 16 << 10 // whole trailer section
	epilogueMax    = 8        // stray CR/LF tolerated after the end
	chunkSigPrefix = "chunk-signature="
)

// chunkSigner carries the SigV4 chain of an aws-chunked body: each chunk's
// signature covers the previous one, starting from the request (seed)
// signature, so chunks can be neither altered, dropped nor reordered.
type chunkSigner struct {
	key   []byte
	tail  []byte // "\n" + timestamp + "\n" + scope + "\n", shared by both algorithms
	prev  [32]byte
	mac   hash.Hash // HMAC-SHA256 keyed with the signing key, made on first use
	block [64]byte  // scratch for hex encoding
}

func newChunkSigner(key []byte, amzDate, scope string, seed [32]byte) *chunkSigner {
	return &chunkSigner{key: key, tail: []byte("\n" + amzDate + "\n" + scope + "\n"), prev: seed}
}

var (
	chunkAlgorithm   = []byte("AWS4-HMAC-SHA256-PAYLOAD")
	trailerAlgorithm = []byte("AWS4-HMAC-SHA256-TRAILER")
	emptyHashLine    = []byte("\n" + emptySHA256 + "\n")
	newline          = []byte{'\n'}
)

// next computes the signature of a chunk (algorithm AWS4-HMAC-SHA256-PAYLOAD)
// or of the trailer section (AWS4-HMAC-SHA256-TRAILER) from its SHA-256,
// compares it in constant time with got, and advances the chain.
func (s *chunkSigner) next(trailer bool, sum []byte, got *[32]byte) bool {
	if s.mac == nil {
		s.mac = hmac.New(sha256.New, s.key)
	}
	m := s.mac
	m.Reset()
	if trailer {
		m.Write(trailerAlgorithm)
	} else {
		m.Write(chunkAlgorithm)
	}
	m.Write(s.tail)
	hex.Encode(s.block[:], s.prev[:])
	m.Write(s.block[:])
	if trailer {
		m.Write(newline)
	} else {
		m.Write(emptyHashLine) // "\n" + SHA-256 of "" + "\n"
	}
	hex.Encode(s.block[:], sum)
	m.Write(s.block[:])
	ok := hmac.Equal(m.Sum(s.block[:0]), got[:])
	s.prev = *got
	return ok
}

// chunkReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig] CRLF data CRLF ... 0[;chunk-signature=sig] CRLF
//	[trailer-name:value CRLF ... [x-amz-trailer-signature:sig CRLF]] CRLF
//
// Data is handed out as it arrives, hashed on the way (one pass); a chunk's
// signature is checked when its data is complete, before the next byte.
// Line ends may be bare LF and the final blank line may be missing, as some
// clients (minio-go) write them.
type chunkReader struct {
	src  *bufio.Reader
	body io.Closer

	sig     *chunkSigner // nil: unsigned chunks
	h       hash.Hash    // SHA-256 of the current chunk (signed only)
	trailer bool         // trailing headers may follow the final chunk

	want, got int64 // decoded length declared, and announced so far
	left      int64 // data bytes of the current chunk not yet read
	inChunk   bool  // a chunk's data is being read or its CRLF is pending
	chunkSig  [32]byte
	sum       [32]byte // scratch: SHA-256 of the chunk just read

	declared []string // names listed in X-Amz-Trailer
	trailers http.Header
	err      error // sticky: io.EOF or the failure
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left == 0 {
		if err := c.advance(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.src.Read(p)
	c.left -= int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	if err != nil {
		c.err = readErr(err)
		if n == 0 {
			return 0, c.err
		}
	}
	return n, nil
}

func (c *chunkReader) Close() error { return c.body.Close() }

// readErr maps a read failure of the underlying body: running out of bytes
// inside the framing means the client sent less than it declared.
func readErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return detail(errs.IncompleteBody, "aws-chunked body ended early")
	}
	return err
}

// advance finishes the current chunk and reads the next chunk header. It
// returns io.EOF once the final chunk and trailers have been verified.
func (c *chunkReader) advance() error {
	if c.inChunk {
		if err := c.crlf(); err != nil {
			return err
		}
		if c.sig != nil {
			if !c.sig.next(false, c.h.Sum(c.sum[:0]), &c.chunkSig) {
				return detail(errs.SignatureDoesNotMatch, "chunk signature")
			}
		}
		c.inChunk = false
	}
	line, err := c.line()
	if err != nil {
		return err
	}
	if line == nil {
		return detail(errs.IncompleteBody, "aws-chunked body ended before its final chunk")
	}
	size, err := c.parseHeader(line)
	if err != nil {
		return err
	}
	if size == 0 {
		return c.finish()
	}
	if size > c.want-c.got {
		return detail(errs.InvalidChunkedEncoding, "chunks exceed x-amz-decoded-content-length %d", c.want)
	}
	c.got += size
	c.left, c.inChunk = size, true
	if c.h != nil {
		c.h.Reset()
	}
	return nil
}

// parseHeader parses "hex-size[;chunk-signature=64hex]".
func (c *chunkReader) parseHeader(line []byte) (int64, error) {
	sizeHex, ext, hasExt := bytes.Cut(line, []byte{';'})
	if len(sizeHex) == 0 || len(sizeHex) > 15 {
		return 0, detail(errs.InvalidChunkedEncoding, "bad chunk size")
	}
	var size int64
	for _, b := range sizeHex {
		d := hexVal(b)
		if d < 0 {
			return 0, detail(errs.InvalidChunkedEncoding, "bad chunk size")
		}
		size = size<<4 | int64(d)
	}
	if c.sig == nil {
		return size, nil // extensions of unsigned chunks carry nothing we need
	}
	if !hasExt || !bytes.HasPrefix(ext, []byte(chunkSigPrefix)) || !decodeHex32(&c.chunkSig, ext[len(chunkSigPrefix):]) {
		return 0, detail(errs.InvalidChunkedEncoding, "missing or bad chunk-signature")
	}
	return size, nil
}

func hexVal(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// finish handles everything after the final chunk header, then returns io.EOF.
func (c *chunkReader) finish() error {
	if c.sig != nil {
		empty := sha256.Sum256(nil)
		if !c.sig.next(false, empty[:], &c.chunkSig) {
			return detail(errs.SignatureDoesNotMatch, "final chunk signature")
		}
	}
	if c.got < c.want {
		return detail(errs.IncompleteBody, "decoded %d of %d bytes", c.got, c.want)
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	for _, name := range c.declared {
		if c.trailers.Get(name) == "" {
			return detail(errs.InvalidChunkedEncoding, "declared trailer %s missing", name)
		}
	}
	// Nothing but a stray line end may follow: more data would be bytes the
	// signature does not cover.
	var buf [epilogueMax + 1]byte
	n, err := io.ReadFull(c.src, buf[:])
	switch {
	case err == nil:
		return detail(errs.InvalidChunkedEncoding, "data after the final chunk")
	case err != io.EOF && err != io.ErrUnexpectedEOF:
		return err
	case len(bytes.Trim(buf[:n], "\r\n")) > 0:
		return detail(errs.InvalidChunkedEncoding, "data after the final chunk")
	}
	return io.EOF
}

// readTrailers reads the trailer section up to its blank line (or the end of
// the body). With signed chunks, any trailer must be covered by
// x-amz-trailer-signature, chained from the final chunk's signature.
func (c *chunkReader) readTrailers() error {
	var canon []byte // "name:value\n" per trailer, what the signature covers
	var sig [32]byte
	haveSig, total := false, 0
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		if line == nil {
			break // end of body in place of the blank line
		}
		if total += len(line) + 1; total > trailerMax {
			return detail(errs.InvalidChunkedEncoding, "trailer section too large")
		}
		if len(line) == 0 {
			// minio-go writes a blank line between trailers and signature.
			if c.sig != nil && c.trailer && !haveSig && len(canon) > 0 {
				continue
			}
			break
		}
		if !c.trailer {
			return detail(errs.InvalidChunkedEncoding, "trailing headers not announced by x-amz-content-sha256")
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
		if !ok || len(name) == 0 {
			return detail(errs.InvalidChunkedEncoding, "bad trailer line")
		}
		if strings.EqualFold(string(name), "x-amz-trailer-signature") {
			if c.sig == nil {
				continue // unsigned mode: nothing to check it against
			}
			if haveSig || !decodeSig(&sig, string(value)) {
				return detail(errs.InvalidChunkedEncoding, "bad x-amz-trailer-signature")
			}
			haveSig = true
			continue
		}
		if haveSig {
			return detail(errs.InvalidChunkedEncoding, "trailer after x-amz-trailer-signature")
		}
		c.trailers.Add(string(name), string(value))
		canon = append(append(append(append(canon, name...), ':'), value...), '\n')
	}
	if c.sig == nil || len(canon) == 0 && !haveSig {
		return nil
	}
	sum := sha256.Sum256(canon)
	if !haveSig || !c.sig.next(true, sum[:], &sig) {
		return detail(errs.SignatureDoesNotMatch, "trailer signature")
	}
	return nil
}

// line reads one line without its CRLF (or LF). It returns nil, nil at the
// end of the body on a line boundary; a line cut short is IncompleteBody.
func (c *chunkReader) line() ([]byte, error) {
	b, err := c.src.ReadSlice('\n')
	switch {
	case err == nil:
		b = b[:len(b)-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		return b, nil
	case err == bufio.ErrBufferFull:
		return nil, detail(errs.InvalidChunkedEncoding, "line too long")
	case err == io.EOF && len(b) == 0:
		return nil, nil
	}
	return nil, readErr(err)
}

// crlf consumes the line end after a chunk's data.
func (c *chunkReader) crlf() error {
	b, err := c.src.ReadByte()
	if err == nil && b == '\r' {
		b, err = c.src.ReadByte()
	}
	if err != nil {
		return readErr(err)
	}
	if b != '\n' {
		return detail(errs.InvalidChunkedEncoding, "chunk data not followed by CRLF")
	}
	return nil
}
