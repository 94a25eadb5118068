package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

const (
	// firstWindow is the span the first GET of a reader asks for, and of
	// each GET after a jump; sequential reads grow it by growWindow up to
	// maxWindow.
	firstWindow = 256 << 10
	growWindow  = 4
	maxWindow   = 64 << 20
	// skipMax is the largest gap a forward ReadAt reads through (and
	// drops) instead of starting a new GET; drainMax the most a reader
	// drains from a response it abandons so its connection is reused
	// (closing it unread costs a new connection, and a TLS handshake).
	skipMax  = 256 << 10
	drainMax = 256 << 10
)

// reader serves ReadAt from one streamed ranged GET at a time: a read at
// the response's position continues it, any other starts a new one.
type reader struct {
	s   *Store
	ctx context.Context // Open's: bounds every GET of this reader
	id  string

	mu     sync.Mutex
	size   int64         // -1 until the first response
	body   io.ReadCloser // the open response, or nil
	pos    int64         // blob offset of body's next byte
	end    int64         // offset just past the response's last byte
	window int64         // span of the last GET
}

// Size implements blob.Reader.
func (r *reader) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt. Concurrent calls are served one at a
// time.
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blob/s3: negative offset")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if off >= r.size {
		return 0, io.EOF
	}
	want := p[:min(int64(len(p)), r.size-off)]
	n := 0
	for n < len(want) {
		at := off + int64(n)
		if r.body == nil || at < r.pos || at-r.pos > skipMax || at >= r.end {
			r.drop()
			if err := r.fetch(at); err != nil {
				return n, err
			}
		}
		if gap := at - r.pos; gap > 0 {
			if _, err := io.CopyN(io.Discard, r.body, gap); err != nil {
				r.closeBody()
				return n, r.s.readErr(r.id, err)
			}
			r.pos = at
		}
		c := int(min(int64(len(want)-n), r.end-r.pos))
		m, err := io.ReadFull(r.body, want[n:n+c])
		n += m
		r.pos += int64(m)
		if err != nil {
			r.closeBody()
			return n, r.s.readErr(r.id, err)
		}
		if r.pos == r.end {
			r.drop() // read to EOF: the connection goes back to the pool
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fetch opens a GET of the window starting at off: firstWindow after a
// jump, growWindow times the last one when it continues it.
func (r *reader) fetch(off int64) error {
	w := int64(firstWindow)
	if r.window > 0 && off == r.end {
		w = min(r.window*growWindow, maxWindow)
	}
	key := r.s.key(r.id)
	out, err := r.s.c.GetObject(r.ctx, &awss3.GetObjectInput{
		Bucket: &r.s.bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+w-1)),
	})
	if err != nil {
		var re interface{ HTTPStatusCode() int }
		if off == 0 && errors.As(err, &re) && re.HTTPStatusCode() == 416 {
			return r.empty()
		}
		return r.s.fail("read", r.id, err)
	}
	size, end, err := contentRange(out, off)
	if err != nil {
		out.Body.Close()
		return fmt.Errorf("blob/s3: read %s: %w", r.id, err)
	}
	if r.size < 0 {
		r.size = size
	} else if size != r.size {
		out.Body.Close()
		return fmt.Errorf("blob/s3: read %s: size changed from %d to %d", r.id, r.size, size)
	}
	r.body, r.pos, r.end, r.window = out.Body, off, end, w
	return nil
}

// empty handles a first GET refused as unsatisfiable: the object exists
// if HEAD finds it, and is then empty.
func (r *reader) empty() error {
	key := r.s.key(r.id)
	h, err := r.s.c.HeadObject(r.ctx, &awss3.HeadObjectInput{Bucket: &r.s.bucket, Key: &key})
	if err != nil {
		return r.s.fail("read", r.id, err)
	}
	if n := aws.ToInt64(h.ContentLength); n != 0 {
		return fmt.Errorf("blob/s3: read %s: range refused for a blob of %d bytes", r.id, n)
	}
	r.size = 0
	return nil
}

// contentRange returns the object size and the end of the returned span
// from a ranged GET's answer: 206 with Content-Range, or (servers that
// ignore ranges) 200 with the whole object, which only works from 0.
func contentRange(out *awss3.GetObjectOutput, off int64) (size, end int64, err error) {
	cr := aws.ToString(out.ContentRange)
	if cr == "" {
		if off != 0 {
			return 0, 0, errors.New("the server ignored the range")
		}
		n := aws.ToInt64(out.ContentLength)
		return n, n, nil
	}
	// bytes FIRST-LAST/SIZE
	span, total, ok := strings.Cut(strings.TrimPrefix(cr, "bytes "), "/")
	first, last, ok2 := strings.Cut(span, "-")
	f, err1 := strconv.ParseInt(first, 10, 64)
	l, err2 := strconv.ParseInt(last, 10, 64)
	t, err3 := strconv.ParseInt(total, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || err3 != nil || f != off || l < f || l >= t {
		return 0, 0, fmt.Errorf("unexpected Content-Range %q", cr)
	}
	return t, l + 1, nil
}

// drop ends the open response: drained when little is left, so its
// connection is reused, else closed.
func (r *reader) drop() {
	if r.body == nil {
		return
	}
	if r.end-r.pos <= drainMax {
		io.Copy(io.Discard, r.body)
	}
	r.closeBody()
}

func (r *reader) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// readErr classifies a failure while streaming a response's body: the
// server or the network went away mid-response.
func (s *Store) readErr(id string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("blob/s3: read %s: %w", id, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// Cut short by the server or the network, not a short blob (the
		// size came from the server).
		return fmt.Errorf("blob/s3: read %s: %w: response cut short", id, blob.ErrUnavailable)
	}
	return fmt.Errorf("blob/s3: read %s: %w: %w", id, blob.ErrUnavailable, err)
}

// Close implements io.Closer.
func (r *reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drop()
	return nil
}
