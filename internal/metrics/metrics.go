// Package metrics exports a node's metrics in the Prometheus exposition
// format. Each node has its own Registry (no process-global registry), fed
// by the HTTP front end (requests), the KMS wrapper (calls), and read at
// scrape time from the stores (object counters per encryption class, job
// state). Every metric name starts with "strongroom_". Labels never carry
// bucket names or object keys, so the number of series stays bounded.
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// Namespace prefixes every metric name.
const Namespace = "strongroom"

// scrapeTimeout bounds what one scrape may spend reading the stores.
const scrapeTimeout = 5 * time.Second

// Registry holds a node's metrics. The methods that record are safe on a
// nil *Registry (they do nothing), so code paths need not check.
type Registry struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	received     *prometheus.CounterVec
	sent         *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	denied       *prometheus.CounterVec
	storageFull  prometheus.Counter

	kmsCalls    *prometheus.CounterVec
	kmsDuration *prometheus.HistogramVec
	kmsErrors   *prometheus.CounterVec

	// ops caches each (dialect, operation)'s series, so a request costs
	// one map lookup rather than a label hash per metric.
	ops sync.Map // opKey -> *opSeries
}

type opKey struct{ dialect, operation string }

// opSeries are the series of one (dialect, operation).
type opSeries struct {
	duration       prometheus.Observer
	received, sent prometheus.Counter
	codes          sync.Map // int -> prometheus.Counter
}

func (r *Registry) series(dialect, operation string) *opSeries {
	k := opKey{dialect, operation}
	if s, ok := r.ops.Load(k); ok {
		return s.(*opSeries)
	}
	s, _ := r.ops.LoadOrStore(k, &opSeries{
		duration: r.duration.WithLabelValues(dialect, operation),
		received: r.received.WithLabelValues(dialect, operation),
		sent:     r.sent.WithLabelValues(dialect, operation),
	})
	return s.(*opSeries)
}

func (r *Registry) requestCounter(s *opSeries, q *Request) prometheus.Counter {
	if c, ok := s.codes.Load(q.Status); ok {
		return c.(prometheus.Counter)
	}
	c, _ := s.codes.LoadOrStore(q.Status, r.requests.WithLabelValues(q.Dialect, q.Operation, strconv.Itoa(q.Status)))
	return c.(prometheus.Counter)
}

// Latency buckets (seconds): requests run from sub-millisecond metadata
// reads to minutes-long uploads; KMS calls from microseconds (the builtin
// keyring) to seconds (a remote HSM).
var (
	requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	kmsBuckets     = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
)

// New returns a registry with the request, error and KMS metrics
// registered; the store-backed ones are added by WatchObjects, WatchJobs
// and CounterFunc, anything else by Register.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Name: name, Help: help}
	}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts(opts("requests_total",
		"Requests answered, by dialect, operation and HTTP status code.")), []string{"dialect", "operation", "code"})
	r.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds",
		Help: "Time from a request's arrival to the end of its answer, by dialect and operation.", Buckets: requestBuckets},
		[]string{"dialect", "operation"})
	r.received = prometheus.NewCounterVec(prometheus.CounterOpts(opts("received_bytes_total",
		"Request body bytes received, by dialect and operation.")), []string{"dialect", "operation"})
	r.sent = prometheus.NewCounterVec(prometheus.CounterOpts(opts("sent_bytes_total",
		"Response body bytes sent, by dialect and operation.")), []string{"dialect", "operation"})
	r.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts(opts("auth_failures_total",
		"Requests whose credentials did not verify, by dialect and reason (the S3 error code).")), []string{"dialect", "reason"})
	r.denied = prometheus.NewCounterVec(prometheus.CounterOpts(opts("access_denied_total",
		"Authenticated or anonymous requests refused with AccessDenied, by dialect and operation.")), []string{"dialect", "operation"})
	r.storageFull = prometheus.NewCounter(prometheus.CounterOpts(opts("storage_full_total",
		"Requests refused because the data or metadata disk is full (InsufficientStorage).")))
	r.kmsCalls = prometheus.NewCounterVec(prometheus.CounterOpts(opts("kms_calls_total",
		"Calls to the key provider, by provider and operation.")), []string{"provider", "operation"})
	r.kmsDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "kms_call_duration_seconds",
		Help: "Latency of calls to the key provider, by provider and operation.", Buckets: kmsBuckets},
		[]string{"provider", "operation"})
	r.kmsErrors = prometheus.NewCounterVec(prometheus.CounterOpts(opts("kms_errors_total",
		"Failed calls to the key provider, by provider, operation and error kind.")), []string{"provider", "operation", "error"})
	r.reg.MustRegister(r.requests, r.duration, r.received, r.sent, r.authFailures, r.denied, r.storageFull,
		r.kmsCalls, r.kmsDuration, r.kmsErrors)
	return r
}

// Register adds collectors (other subsystems' metrics; their names should
// start with Namespace too).
func (r *Registry) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Gatherer is the underlying registry, for tests and other exporters.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// CounterFunc exports a counter the code keeps itself (an atomic), read
// at scrape time; name gets the Namespace prefix.
func (r *Registry) CounterFunc(name, help string, read func() float64) error {
	return r.LabeledCounterFunc(name, help, nil, read)
}

// LabeledCounterFunc is CounterFunc for one series of a labelled counter:
// call it once per label set, with the same name and help.
func (r *Registry) LabeledCounterFunc(name, help string, labels map[string]string, read func() float64) error {
	return r.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help, ConstLabels: labels}, read))
}

// Request is what a finished request tells the metrics.
type Request struct {
	Dialect   string
	Operation string
	Status    int    // HTTP status sent
	Code      string // canonical error code, "" on success
	// AuthFailed: the credentials did not verify (Code says why).
	AuthFailed bool
	Received   int64 // body bytes read
	Sent       int64 // body bytes written
	Duration   time.Duration
}

// ObserveRequest records one request.
func (r *Registry) ObserveRequest(q Request) {
	if r == nil {
		return
	}
	s := r.series(q.Dialect, q.Operation)
	r.requestCounter(s, &q).Inc()
	s.duration.Observe(q.Duration.Seconds())
	if q.Received > 0 {
		s.received.Add(float64(q.Received))
	}
	if q.Sent > 0 {
		s.sent.Add(float64(q.Sent))
	}
	switch {
	case q.AuthFailed:
		r.authFailures.WithLabelValues(q.Dialect, q.Code).Inc()
	case q.Code == "AccessDenied":
		r.denied.WithLabelValues(q.Dialect, q.Operation).Inc()
	case q.Code == "InsufficientStorage":
		r.storageFull.Inc()
	}
}

// KMSObserver returns the observer to install on the node's
// kms.Counting, labelling its calls with the provider's name.
func (r *Registry) KMSObserver(provider string) kms.Observer {
	return func(op string, took time.Duration, err error) {
		r.kmsCalls.WithLabelValues(provider, op).Inc()
		r.kmsDuration.WithLabelValues(provider, op).Observe(took.Seconds())
		if err != nil {
			r.kmsErrors.WithLabelValues(provider, op, kmsErrorKind(err)).Inc()
		}
	}
}

// kmsErrorKind is a bounded name for a provider error.
func kmsErrorKind(err error) string {
	switch {
	case errors.Is(err, kms.ErrNotFound):
		return "not_found"
	case errors.Is(err, kms.ErrDisabled):
		return "disabled"
	case errors.Is(err, kms.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, kms.ErrDecrypt):
		return "decrypt"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.Is(err, errors.ErrUnsupported):
		return "unsupported"
	}
	return "other"
}

// Handler serves the registry in the exposition format. With a token,
// a request must carry "Authorization: Bearer TOKEN" (compared in
// constant time) or is answered 401.
func (r *Registry) Handler(token string, log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	if log != nil {
		opts.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	h := promhttp.HandlerFor(r.reg, opts)
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		// Hashing first makes the comparison independent of the length.
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="strongroom metrics"`)
			http.Error(w, "metrics need a bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, req)
	})
}
