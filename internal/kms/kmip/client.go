package kmip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/kmip/ttlv"
)

// maxMessage bounds a response (strongroom's responses are small; a larger
// one is a broken or hostile server).
const maxMessage = 1 << 20

// client speaks KMIP 1.4 to one server over a pool of mutual-TLS
// connections. One request is in flight per connection at a time.
type client struct {
	addr    string
	tls     *tls.Config
	timeout time.Duration // per request: dial, write and read
	idle    chan *tls.Conn
	sem     chan struct{} // bounds the open connections

	mu     sync.Mutex
	closed bool
}

func newClient(addr string, cfg *tls.Config, poolSize int, timeout time.Duration) *client {
	return &client{addr: addr, tls: cfg, timeout: timeout, idle: make(chan *tls.Conn, poolSize), sem: make(chan struct{}, poolSize)}
}

// resultError is an operation the server answered with a failure.
type resultError struct {
	op      uint32
	status  int64
	reason  int64
	message string
}

// Unwrap makes a refusal the KMS being unavailable, unless the caller
// knows better from the reason (a missing or revoked key, a ciphertext
// that does not authenticate): it is the server's or its operator's
// business, never the S3 client's.
func (e *resultError) Unwrap() error { return kms.ErrUnavailable }

func (e *resultError) Error() string {
	return fmt.Sprintf("kmip: operation %#x failed: status %d, reason %#x: %s", e.op, e.status, e.reason, e.message)
}

func reasonOf(err error) int64 {
	var re *resultError
	if errors.As(err, &re) {
		return re.reason
	}
	return -1
}

// unavailable reports a transport failure as kms.ErrUnavailable. Clients
// see only the canonical message; the server's address and the cause (a
// network error, no key material) are in the wrapping text, for the log.
func (c *client) unavailable(err error) error {
	return fmt.Errorf("%w: KMIP server at %s: %v", kms.ErrUnavailable, c.addr, err)
}

// do sends one operation and returns its response payload.
func (c *client) do(ctx context.Context, op uint32, payload ...ttlv.Item) (ttlv.Item, error) {
	req, err := ttlv.Encode(ttlv.Struct(tagRequestMessage,
		ttlv.Struct(tagRequestHeader,
			ttlv.Struct(tagProtocolVersion, ttlv.Int(tagProtocolVersionMajor, 1), ttlv.Int(tagProtocolVersionMinor, 4)),
			ttlv.Int(tagBatchCount, 1)),
		ttlv.Struct(tagBatchItem,
			ttlv.Enum(tagOperation, op),
			ttlv.Struct(tagRequestPayload, payload...))))
	if err != nil {
		return ttlv.Item{}, err
	}
	resp, err := c.roundTrip(ctx, req)
	clear(req) // may hold a data key being wrapped
	if err != nil {
		return ttlv.Item{}, err
	}
	msg, err := ttlv.Decode(resp) // copies what it keeps
	clear(resp)                   // may hold an unwrapped data key
	if err != nil || msg.Tag != tagResponseMessage {
		return ttlv.Item{}, c.unavailable(fmt.Errorf("bad response: %w", ttlv.ErrMalformed))
	}
	item, ok := msg.Find(tagBatchItem)
	if !ok {
		return ttlv.Item{}, c.unavailable(errors.New("response without batch item"))
	}
	status, _ := item.Int(tagResultStatus)
	if status != resultSuccess {
		reason, _ := item.Int(tagResultReason)
		return ttlv.Item{}, &resultError{op: op, status: status, reason: reason, message: item.Text(tagResultMessage)}
	}
	p, _ := item.Find(tagResponsePayload)
	return p, nil
}

// roundTrip writes a request and reads its response on a pooled
// connection. A pooled connection the server has closed meanwhile fails at
// once; the request is then sent again, once, on a new connection.
func (c *client) roundTrip(ctx context.Context, req []byte) ([]byte, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.sem }()
	for attempt := 0; ; attempt++ {
		conn, reused, err := c.conn(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.exchange(ctx, conn, req)
		if err == nil {
			c.put(conn)
			return resp, nil
		}
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !reused || attempt > 0 {
			return nil, c.unavailable(err)
		}
	}
}

func (c *client) exchange(ctx context.Context, conn *tls.Conn, req []byte) ([]byte, error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(req); err != nil {
		return nil, err
	}
	hdr := make([]byte, ttlv.HeaderLen)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		return nil, err
	}
	n, err := ttlv.Length(hdr)
	if err != nil || n > maxMessage {
		return nil, fmt.Errorf("response of %d bytes: %w", n, ttlv.ErrMalformed)
	}
	resp := make([]byte, n)
	copy(resp, hdr)
	if _, err := io.ReadFull(conn, resp[ttlv.HeaderLen:]); err != nil {
		return nil, err
	}
	return resp, nil
}

func (c *client) conn(ctx context.Context) (*tls.Conn, bool, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, false, kms.ErrUnavailable.WithMessage("The KMIP provider is closed.")
	}
	select {
	case conn := <-c.idle:
		return conn, true, nil
	default:
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: c.tls}
	conn, err := d.DialContext(dctx, "tcp", c.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, c.unavailable(err)
	}
	return conn.(*tls.Conn), false, nil
}

func (c *client) put(conn *tls.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return
	}
	select {
	case c.idle <- conn:
	default:
		conn.Close()
	}
}

func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	for {
		select {
		case conn := <-c.idle:
			conn.Close()
		default:
			return
		}
	}
}
