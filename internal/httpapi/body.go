package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// The request body's lifecycle. net/http alone gets three things wrong for
// an object store:
//
//   - A body that stops arriving holds the connection and its goroutine
//     forever (http.Server has no per-read timeout). Every read of the body
//     re-arms the connection's read deadline, so data must keep coming:
//     BodyReadTimeout without a byte ends the request with S3's
//     RequestTimeout. The first deadline is armed before the handler runs,
//     so net/http's own reads of an unread body are bounded too.
//   - Closing an unread body reads up to 256 KiB of it, and a client that
//     sent "Expect: 100-continue" holds that body back until it sees
//     "100 Continue", which net/http only sends on the first Read. A handler
//     refusing such a request before reading would wait for the client's
//     timeout. Close here never reads; after the answer the deadline is set
//     to now, so net/http's own Close returns at once.
//   - An answer sent before the body was read reaches a client that writes
//     its whole body before reading (Python's http.client) only if the
//     server keeps reading: closing with unread data resets the connection,
//     and the client sees a broken pipe or an SSL EOF instead of the error.
//     A body of up to 256 KiB is read before the refusal (as net/http
//     does), bounded by drainTime; a larger one is refused at once, marked
//     Connection: close, then up to drainMax bytes are read for at most
//     drainTime, then the connection closes.
const (
	// DefaultBodyReadTimeout is S3's: it answers RequestTimeout after
	// about 20 s without data.
	DefaultBodyReadTimeout = 20 * time.Second
	drainMax               = 64 << 20
	settleMax              = 256 << 10
	drainTime              = 5 * time.Second
	// MaxHeaderSection is S3's limit on the request's header section
	// (names, values and line framing, not the request line).
	MaxHeaderSection = 8 << 10
)

// watchedBody stands in for http.Request.Body during a request.
type watchedBody struct {
	rc      io.ReadCloser // the server's body
	ctl     *http.ResponseController
	timeout time.Duration
	size    int64 // declared length; -1 chunked
	expect  bool  // Expect: 100-continue
	head    bool
	read    bool // a read reached the connection (100 Continue was sent)
	n       int64
	eof     bool
	err     error // sticky: EOF or the first read error
}

// watchBody replaces r.Body (when there is one) and arms the first read
// deadline; nil when the request declares no body.
func (s *Server) watchBody(w http.ResponseWriter, r *http.Request) *watchedBody {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &watchedBody{
		rc:      r.Body,
		ctl:     http.NewResponseController(w),
		timeout: s.bodyReadTimeout(),
		size:    r.ContentLength,
		expect:  strings.EqualFold(r.Header.Get("Expect"), "100-continue"),
		head:    r.Method == http.MethodHead,
	}
	b.arm()
	r.Body = b
	return b
}

func (s *Server) bodyReadTimeout() time.Duration {
	if s.cfg.BodyReadTimeout > 0 {
		return s.cfg.BodyReadTimeout
	}
	return DefaultBodyReadTimeout
}

func (b *watchedBody) arm() {
	b.ctl.SetReadDeadline(time.Now().Add(b.timeout))
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		// Past the end no deadline is armed: net/http's background read of
		// the connection now runs, and a deadline would cancel the request.
		return 0, b.err
	}
	b.arm()
	b.read = true
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err != nil {
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			err = fmt.Errorf("no body data for %v after %d bytes: %w", b.timeout, b.n, errs.RequestTimeout)
		}
		b.eof, b.err = err == io.EOF, err
	}
	return n, err
}

// Close never reads (see above); net/http closes the real body after the
// answer.
func (b *watchedBody) Close() error { return nil }

// unfinished reports whether body bytes may remain on the connection.
func (b *watchedBody) unfinished() bool { return b != nil && !b.eof }

// settle runs before an error answer: a small body (<= settleMax) that
// the client is sending is read to its end first, as net/http does, so the
// answer follows the whole request (some clients cannot take an answer
// while still writing) and the connection stays usable. Reading stops
// after drainTime; then the answer goes out and the connection closes.
func (b *watchedBody) settle() {
	if !b.unfinished() || b.err != nil || b.expect && !b.read || b.size < 0 || b.size-b.n > settleMax {
		return
	}
	b.ctl.SetReadDeadline(time.Now().Add(min(drainTime, b.timeout)))
	n, err := io.CopyN(io.Discard, b.rc, settleMax+1)
	b.n += n
	if err == io.EOF {
		b.eof = true // net/http's background read cleared the deadline
	}
	b.err = err
}

// finish runs after the answer is written. failed: the answer was an
// error, sent with Connection: close if the body was unfinished.
func (b *watchedBody) finish(failed bool) {
	if !b.unfinished() {
		return
	}
	// A client waiting for "100 Continue" sends nothing more once it has
	// the answer, and closes; but one whose wait timed out (botocore and
	// Go wait a second), or that never waits (aws-sdk-go-v2 sends the
	// header and the body at once), is sending its body: drain it too.
	// After a HEAD's bodiless answer a read would still send the 100.
	waiting := b.expect && !b.read
	if failed && b.err == nil && (b.size < 0 || b.size-b.n <= drainMax) && !(waiting && b.head) {
		b.ctl.Flush()
		b.ctl.SetReadDeadline(time.Now().Add(min(drainTime, b.timeout)))
		io.CopyN(io.Discard, b.rc, drainMax)
	} else if !failed && !waiting {
		// A success that left body unread: net/http reads up to 256 KiB
		// of it (under the armed deadline) or closes the connection.
		return
	}
	b.ctl.SetReadDeadline(time.Now())
}

// headerSection is the size of the request's header section as sent:
// each "Name: value\r\n" line, Host included.
func headerSection(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	return n
}
