package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/metrics"
	"github.com/strongroom-dev/strongroom/internal/reqid"
)

// Operator endpoints beside HealthPath. Neither is a valid bucket request
// a client could mean: "/_strongroom/..." names no bucket, and "/metrics"
// is served only to a path-style GET or HEAD that carries no S3
// credentials (an unsigned request, or a bearer token); a signed request
// for a bucket named "metrics" is routed as usual.
const (
	ReadyPath   = "/_strongroom/ready"
	MetricsPath = "/metrics"
)

// exchange stands in for the ResponseWriter during a request to see what
// was sent: the status, the body bytes, and whether writing failed (the
// client went away).
type exchange struct {
	http.ResponseWriter
	status   int
	sent     int64
	writeErr error
}

func (x *exchange) WriteHeader(code int) {
	if x.status == 0 && code >= 200 {
		x.status = code
	}
	x.ResponseWriter.WriteHeader(code)
}

func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	n, err := x.ResponseWriter.Write(p)
	x.sent += int64(n)
	if err != nil && x.writeErr == nil {
		x.writeErr = err
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// operatorEndpoint serves /metrics and the readiness probe; it reports
// whether r was one.
func (s *Server) operatorEndpoint(w http.ResponseWriter, r *http.Request, vhost string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch {
	case r.URL.Path == ReadyPath && s.cfg.Ready != nil:
		s.cfg.Ready.ServeHTTP(w, r)
		return true
	case r.URL.Path == MetricsPath && s.metricsHandler != nil && vhost == "" && !carriesCredentials(r):
		s.metricsHandler.ServeHTTP(w, r)
		return true
	}
	return false
}

// carriesCredentials reports whether r is signed or presigned for the
// object API (a bearer token is not).
func carriesCredentials(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); a != "" && !strings.HasPrefix(a, "Bearer ") {
		return true
	}
	for k := range r.URL.Query() {
		if auth.IsQueryParam(k) {
			return true
		}
	}
	return false
}

// withRequestContext gives the request's context its id (for log lines and
// audit records made far from HTTP) and the audit's denial tracking.
func withRequestContext(r *http.Request, id string) (*http.Request, func() bool) {
	ctx, denied := audit.Track(reqid.With(r.Context(), id))
	return r.WithContext(ctx), denied
}

// authFailed marks err as a failure to authenticate (metrics, audit).
func (q *request) authFailed(err error) error {
	q.authErr = err
	return err
}

// clientGone reports whether err is the client going away: the request
// canceled, a write to it failed, or its body broke off.
func clientGone(q *request, err error) bool {
	if q.r.Context().Err() != nil || errors.Is(err, context.Canceled) {
		return true
	}
	if x, ok := q.w.(*exchange); ok && x.writeErr != nil {
		return true
	}
	if b, ok := q.r.Body.(*watchedBody); ok && b.err != nil && b.err != io.EOF && errors.Is(err, b.err) {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// logFailure logs an unexpected failure at ERROR, unless it is the client
// leaving, which is no fault of the node (INFO).
func (s *Server) logFailure(q *request, msg string, err error) {
	level := slog.LevelError
	if clientGone(q, err) {
		level, msg = slog.LevelInfo, msg+" (client went away)"
	}
	s.log.Log(context.Background(), level, msg, "id", q.id, "method", q.r.Method, "bucket", q.bucket, "key", q.key, "err", err)
}

// finished is what ServeHTTP knows of a request once it is answered.
type finished struct {
	q        *request
	x        *exchange
	body     *watchedBody
	err      error
	answered bool
	start    time.Time
	denied   func() bool // a denial was audited by the code that refused
}

// finish records a request: metrics, the access log, and the audit
// records the front end owns (authentication failures, configuration
// changes, refusals the service did not audit itself).
func (s *Server) finish(f finished) {
	q := f.q
	dur := time.Since(f.start)
	status := f.x.status
	switch {
	case f.err != nil && !f.answered:
		status = 499 // the client left before an answer (nginx's convention)
	case status == 0:
		status = http.StatusOK
	}
	code := ""
	if e := errs.As(f.err); e != nil {
		code = e.Code
	} else if f.err != nil {
		code = errs.InternalError.Code
	}
	dialectName, op := "admin", "Admin"
	if q.d != nil {
		dialectName, op = q.d.Name(), operation(q)
	}
	authFailed := q.authErr != nil || code == errs.SignatureDoesNotMatch.Code
	var received int64
	if f.body != nil {
		received = f.body.n
	}
	s.cfg.Metrics.ObserveRequest(metrics.Request{Dialect: dialectName, Operation: op, Status: status, Code: code,
		AuthFailed: authFailed, Received: received, Sent: f.x.sent, Duration: dur})

	accessKey, principal := "", ""
	if q.auth != nil {
		accessKey = q.auth.AccessKeyID
	}
	if (authFailed || q.d == nil) && accessKey == "" {
		accessKey = auth.ClaimedAccessKey(q.r) // the admin API verifies its own requests
	}
	if !authFailed && q.d != nil {
		principal = principalName(q.principal)
	}
	remote, _, _ := net.SplitHostPort(q.r.RemoteAddr)
	ctx := q.r.Context()
	if authFailed {
		// Failed signatures are logged whatever the access log's setting,
		// with the access key tried: repeated failures for one key are
		// someone guessing, or a client with a stale secret.
		s.log.Info("authentication failed", "id", q.id, "dialect", dialectName, "access_key", accessKey, "reason", code, "remote", remote)
		audit.Record(ctx, s.cfg.Audit, audit.Event{Type: audit.TypeAuthFailure, Action: op, Outcome: audit.Failed, AccessKey: accessKey,
			Source: remote, Dialect: dialectName, Bucket: q.bucket, Key: q.key, Reason: code})
	} else if code == errs.AccessDenied.Code && f.denied != nil && !f.denied() {
		e := errs.As(f.err)
		s.log.Info("access denied", "id", q.id, "principal", principal, "op", op, "bucket", q.bucket, "key", q.key, "reason", e.Message)
		audit.Record(ctx, s.cfg.Audit, audit.Event{Type: audit.TypeDenied, Action: op, Outcome: audit.Denied, Principal: principal,
			AccessKey: accessKey, Source: remote, Dialect: dialectName, Bucket: q.bucket, Key: q.key, Reason: e.Message})
	}
	if kind, ok := configChange(op); ok && f.err == nil && status < 300 {
		audit.Record(ctx, s.cfg.Audit, audit.Event{Type: kind, Action: op, Outcome: audit.OK, Principal: principal,
			AccessKey: accessKey, Source: remote, Dialect: dialectName, Bucket: q.bucket, Key: q.key})
	}
	if s.cfg.AccessLog == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("id", q.id), slog.String("remote", remote), slog.String("dialect", dialectName),
		slog.String("principal", principal), slog.String("access_key", accessKey), slog.String("op", op),
		slog.String("method", q.r.Method), slog.String("bucket", q.bucket), slog.String("key", q.key),
		slog.Int("status", status), slog.Int64("in", received), slog.Int64("out", f.x.sent),
		slog.Float64("ms", float64(dur.Microseconds())/1000),
	}
	if code != "" {
		attrs = append(attrs, slog.String("code", code))
	}
	s.cfg.AccessLog.LogAttrs(context.Background(), slog.LevelInfo, "access", attrs...)
}
