// Package audit records security-relevant events as JSON lines: access
// denials and authentication failures, key management, user management,
// and changes to buckets' configuration. A record names who did what to
// which resource, and the request it came with; it never holds a secret
// (no secret key, no SSE-C key, no key material, no document bodies).
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strongroom-dev/strongroom/internal/reqid"
)

// Event types.
const (
	TypeDenied       = "access-denied" // an authenticated (or anonymous) request refused by authorization
	TypeAuthFailure  = "auth-failure"  // a request whose credentials did not verify
	TypeKey          = "key"           // a KMS master key was created, rotated, disabled, enabled ...
	TypeUser         = "user"          // a user or its access keys or policies changed
	TypeBucketConfig = "bucket-config" // a bucket was created, deleted or reconfigured
	TypeObjectConfig = "object-config" // an object's ACL, retention or legal hold changed
)

// Event is one audit record. Empty fields are left out.
type Event struct {
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	Action    string    `json:"action"` // the operation or policy action
	Outcome   string    `json:"outcome,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Principal string    `json:"principal,omitempty"`  // user name; "anonymous"; "root"
	AccessKey string    `json:"access_key,omitempty"` // the access key ID used or tried
	Source    string    `json:"source,omitempty"`     // client address, or "cli" for offline commands
	Dialect   string    `json:"dialect,omitempty"`
	Bucket    string    `json:"bucket,omitempty"`
	Key       string    `json:"key,omitempty"`
	Resource  string    `json:"resource,omitempty"` // ARN of what was judged
	Target    string    `json:"target,omitempty"`   // the user or KMS key acted on
	Reason    string    `json:"reason,omitempty"`   // why it was refused, or the error code
}

// Outcomes.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Logger receives audit events. Implementations must be safe for
// concurrent use.
type Logger interface {
	Audit(ctx context.Context, e Event)
}

// Record sends e to l, filling its time and, from ctx, its request id; a
// nil l records nothing, so callers need not check.
func Record(ctx context.Context, l Logger, e Event) {
	// Tracked even with no logger: the front end's check is the same.
	if t, ok := ctx.Value(trackKey{}).(*tracker); ok && e.Type == TypeDenied {
		t.denied.Store(true)
	}
	if l == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.RequestID == "" {
		e.RequestID = reqid.From(ctx)
	}
	l.Audit(ctx, e)
}

type trackKey struct{}

type tracker struct{ denied atomic.Bool }

// Track returns ctx marked so that the returned function tells whether a
// denial was recorded with it (or a context derived from it): the HTTP
// front end records a refusal itself only when the code that refused did
// not, so each denial is audited once, with the most detail.
func Track(ctx context.Context) (context.Context, func() bool) {
	t := new(tracker)
	return context.WithValue(ctx, trackKey{}, t), t.denied.Load
}

// Writer writes events as JSON lines, one Write per line.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	err error // the first write error, reported by Close
}

// NewWriter returns a Logger writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// OpenFile appends to the audit file at path (created 0600). Lines are
// not fsynced one by one: a flood of refused requests must not become a
// flood of disk flushes.
func OpenFile(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &Writer{w: f, c: f}, nil
}

// Audit implements Logger.
func (w *Writer) Audit(_ context.Context, e Event) {
	line, err := json.Marshal(e)
	if err != nil {
		return // every field is a string or a time
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.w.Write(line); err != nil && w.err == nil {
		w.err = err
	}
}

// Close closes the file (if OpenFile opened it) and reports the first
// write error.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.c != nil {
		if err := w.c.Close(); err != nil && w.err == nil {
			w.err = err
		}
		w.c = nil
	}
	return w.err
}
