package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/metrics"
)

// Access log destinations (Config.AccessLog); anything else is a file.
const (
	AccessLogOff    = "off"
	AccessLogStderr = "stderr"
)

// openAccessLog returns the access logger dest asks for: none ("" or
// "off"), the node's own logger ("stderr": same handler and format as the
// rest of the log), or JSON lines appended to a file (closed by the
// returned closer).
func openAccessLog(dest string, log *slog.Logger) (*slog.Logger, io.Closer, error) {
	switch dest {
	case "", AccessLogOff:
		return nil, nil, nil
	case AccessLogStderr:
		return log, nil, nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("access log: %w", err)
	}
	return slog.New(slog.NewJSONHandler(f, nil)), f, nil
}

// observability is what a node records about itself: metrics, access
// log and audit log.
type observability struct {
	metrics   *metrics.Registry
	accessLog *slog.Logger
	audit     audit.Logger
	denials   *audit.Ring // the last refusals, for the console
	closers   []io.Closer
}

func openObservability(cfg Config, log *slog.Logger) (*observability, error) {
	o := &observability{metrics: metrics.New()}
	access, c, err := openAccessLog(cfg.AccessLog, log)
	if err != nil {
		return nil, err
	}
	o.accessLog = access
	if c != nil {
		o.closers = append(o.closers, c)
	}
	if cfg.AuditLog != "" {
		w, err := audit.OpenFile(cfg.AuditLog)
		if err != nil {
			o.close()
			return nil, err
		}
		o.audit = w
		o.closers = append(o.closers, w)
	}
	o.denials = audit.NewRing(consoleDenials)
	o.audit = audit.Tee(o.audit, o.denials)
	return o, nil
}

func (o *observability) close() error {
	if o == nil {
		return nil
	}
	var err error
	for _, c := range o.closers {
		err = errors.Join(err, c.Close())
	}
	o.closers = nil
	return err
}

// watch registers the metrics read from the node's stores at scrape time.
func (n *Node) watch() error {
	r := n.Metrics
	var err error
	if src, ok := n.meta.(meta.ObjectStats); ok {
		err = r.WatchObjects(src)
	}
	return errors.Join(err,
		r.WatchObjectKeyCache(n.sealer),
		r.WatchJobs(n.Jobs),
		r.CounterFunc("integrity_failures_total",
			"Object reads that found stored data damaged (a segment failing authentication or its checksum, a short or unreadable part).",
			func() float64 { return float64(n.Service.Stats().IntegrityFailures.Load()) }),
	)
}

// Readiness probe timing: each dependency gets probeTimeout; an answer is
// reused for probeCache, so a probe storm costs the stores little.
const (
	probeTimeout = 2 * time.Second
	probeCache   = time.Second
)

// readiness answers ReadyPath: 200 when the metadata store and the key
// provider answer, else 503 with the reason.
type readiness struct {
	meta meta.Store
	kms  kms.Provider
	log  *slog.Logger

	mu      sync.Mutex
	checked time.Time
	reason  string
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reason := rd.check(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	status, body := http.StatusOK, map[string]string{"status": "ready"}
	if reason != "" {
		status, body = http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason}
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(body)
	}
}

// check returns why the node is not ready ("" when it is). The reason
// names the dependency and the canonical error code, never a path or a
// key: the probe is unauthenticated. The detail goes to the log.
func (rd *readiness) check(ctx context.Context) string {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.checked.IsZero() && time.Since(rd.checked) < probeCache {
		return rd.reason
	}
	rd.reason = rd.probe(context.WithoutCancel(ctx))
	rd.checked = time.Now()
	return rd.reason
}

func (rd *readiness) probe(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var err error
	if p, ok := rd.meta.(meta.Pinger); ok {
		err = p.Ping(ctx)
	} else if _, err = rd.meta.GetBucket(ctx, "_strongroom-ready-probe"); errors.Is(err, meta.ErrNoSuchBucket) {
		err = nil
	}
	if err != nil {
		rd.log.Warn("not ready: metadata store", "err", err)
		return "metadata store not answering"
	}
	info, err := rd.kms.DescribeKey(ctx, "")
	if err != nil {
		rd.log.Warn("not ready: key provider", "err", err)
		code := "unavailable"
		if e := errs.As(err); e != nil {
			code = e.Code
		}
		return "key provider not answering (" + code + ")"
	}
	if !info.Enabled {
		return "the default KMS key is disabled"
	}
	return ""
}

// AuditAdmin records a key or user management action (typ audit.TypeKey
// or audit.TypeUser) and its outcome. source is the client's address, or
// "cli" for a command run on a stopped node; accessKey is the user access
// key acted on, if any (never a secret: the response's secret is not
// passed here).
func AuditAdmin(ctx context.Context, l audit.Logger, typ, op, target, accessKey, source string, err error) {
	if op == "list" || op == "info" {
		return // reads change nothing
	}
	e := audit.Event{Type: typ, Action: op, Outcome: audit.OK, Principal: "root", Target: target, AccessKey: accessKey, Source: source}
	if err != nil {
		e.Outcome, e.Reason = audit.Failed, err.Error()
	}
	audit.Record(ctx, l, e)
}
