// Package httpapi serves the object API over HTTP: it authenticates a
// request, routes it to a service operation and writes the response in the
// request's dialect. It holds no storage logic of its own.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/metrics"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// HealthPath answers 200 while the node serves (no bucket name can start
// with '_', so it never shadows a bucket).
const HealthPath = "/_strongroom/health"

// Identities resolves authenticated access keys to principals.
type Identities interface {
	auth.Credentials
	Principal(ctx context.Context, accessKeyID string) (service.Principal, error)
}

// Domain is a base domain for virtual-hosted-style requests
// (bucket.Name). A Host equal to a domain, or matching none, is path-style.
// Dialect, when set, pins the dialect of requests to that domain.
type Domain struct {
	Name    string
	Dialect string
}

// Config configures the HTTP front end.
type Config struct {
	Domains []Domain
	// Dialect pins the dialect of every request (a per-dialect listener);
	// empty: by domain, else detected from the request, else S3.
	Dialect string
	// Dialects are the dialects served, by name; "s3" is required.
	Dialects []dialect.Dialect
	// Admin, when set, serves the admin API under /_strongroom/admin/.
	Admin http.Handler
	// AllowInsecureSSEC accepts SSE-C keys over plain HTTP: for a
	// TLS-terminating proxy in front, or an explicit operator choice.
	AllowInsecureSSEC bool
	// BodyReadTimeout is how long a request body may send nothing before
	// the request fails with RequestTimeout; DefaultBodyReadTimeout if 0.
	BodyReadTimeout time.Duration
	// Metrics records every request and is served at MetricsPath (nil:
	// neither); MetricsToken, when set, is the bearer token a scrape
	// must present.
	Metrics      *metrics.Registry
	MetricsToken string
	// Ready, when set, answers the readiness probe at ReadyPath.
	Ready http.Handler
	// AccessLog gets one INFO line per request (nil: none).
	AccessLog *slog.Logger
	// Audit records authentication failures, refusals and configuration
	// changes (nil: none).
	Audit audit.Logger
}

// Server is the HTTP handler of the object API.
type Server struct {
	svc      *service.Service
	ids      Identities
	verifier *auth.Verifier
	cfg      Config
	log      *slog.Logger
	dialects map[string]dialect.Dialect
	// metricsHandler serves cfg.Metrics (nil without).
	metricsHandler http.Handler
}

// New returns a Server.
func New(svc *service.Service, ids Identities, cfg Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		svc:      svc,
		ids:      ids,
		verifier: &auth.Verifier{Creds: ids},
		cfg:      cfg,
		log:      log,
		dialects: map[string]dialect.Dialect{},
	}
	for _, d := range cfg.Dialects {
		s.dialects[d.Name()] = d
	}
	if s.dialects["s3"] == nil {
		s.dialects["s3"] = s3.Dialect{}
	}
	if cfg.Metrics != nil {
		s.metricsHandler = cfg.Metrics.Handler(cfg.MetricsToken, log)
	}
	return s
}

// request is the per-request state handlers work with.
type request struct {
	w         http.ResponseWriter
	r         *http.Request
	id        string
	bucket    string
	key       string
	query     url.Values
	principal service.Principal
	auth      *auth.Result
	d         dialect.Dialect
	authErr   error // the request failed to authenticate (see authFailed)
}

// header reads a vendor request header (name without prefix).
func (q *request) header(name string) string {
	return q.d.Header(q.r.Header, name)
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := &exchange{ResponseWriter: rw}
	w := http.ResponseWriter(x)
	body := s.watchBody(w, r)
	// net/http sends "100 Continue" on the first read of a body, so never
	// for an empty one. Answer the expectation anyway, as S3 does: botocore
	// (aws CLI v1) keeps the status of a non-100 answer on the connection
	// and misreads the next response on it, stalling until its timeout.
	if r.ContentLength == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		w.WriteHeader(http.StatusContinue)
	}
	if r.URL.Path == HealthPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// Liveness for load balancers: unauthenticated, reveals nothing.
		w.WriteHeader(http.StatusOK)
		return
	}
	vhost, pinned := s.vhostBucket(r.Host)
	if s.operatorEndpoint(w, r, vhost) {
		return
	}
	id := newRequestID()
	r, denied := withRequestContext(r, id)
	if s.cfg.Admin != nil && strings.HasPrefix(r.URL.Path, "/_strongroom/admin/") {
		s.cfg.Admin.ServeHTTP(w, r)
		s.finish(finished{q: &request{w: w, r: r, id: id}, x: x, body: body, answered: true, start: start})
		return
	}
	q := &request{w: w, r: r, id: id, d: s.dialectFor(r, pinned), query: r.URL.Query()}
	// No Server header: it told a client nothing it needs, and told a
	// scanner what to probe for. It was also the entry that took an SSE-S3
	// GET's header map past 8 entries, where Go's map turns from one group
	// into a table: net/http grows it, clones it and sorts it, about 1.5 µs
	// and 1.4 KiB of garbage more per response.
	h := w.Header()
	q.d.SetRequestID(h, q.id)

	q.bucket, q.key = splitPath(r.URL.Path, vhost)
	var err error
	switch {
	case headerSection(r) > MaxHeaderSection:
		err = errs.RequestHeaderTooLarge
	case r.Method == http.MethodOptions:
		err = s.preflight(q) // CORS preflights are never signed
	default:
		s.addCORSHeaders(q)
		err = s.serve(q, vhost)
	}
	answered := false
	if err != nil {
		body.settle()
		if body.unfinished() {
			h.Set("Connection", "close")
		}
		answered = s.writeError(q, err)
	}
	body.finish(answered)
	s.finish(finished{q: q, x: x, body: body, err: err, answered: answered, start: start, denied: denied})
}

func (s *Server) serve(q *request, vhost string) error {
	res, err := s.verifier.Verify(q.r, vhost)
	if err != nil {
		return q.authFailed(err)
	}
	q.auth = res
	if res.Body != nil {
		defer res.Body.Close()
	}
	if err := res.CheckTolerated(func(name string) bool { return dialectReads(q.d, name) }); err != nil {
		return q.authFailed(err)
	}
	if q.d.Name() == "s3" && res.Region != "" {
		// Vendors' SigV4 modes sign for their own region names (the OBS
		// SDK: "region"); S3 insists on the bucket's.
		if err := auth.CheckRegion(res, s.svc.SigningRegions(q.r.Context(), q.bucket, res.Region)...); err != nil {
			return q.authFailed(err)
		}
	}
	if res.AccessKeyID != "" {
		p, err := s.ids.Principal(q.r.Context(), res.AccessKeyID)
		if err != nil {
			return q.authFailed(err)
		}
		q.principal = p
	}
	r, p := q.r, q.principal
	q.principal.LazyConditions = sync.OnceValue(func() map[string][]string { return requestConditions(r, p) })
	return s.route(q)
}

// requestConditions are the global policy condition keys of a request.
func requestConditions(r *http.Request, p service.Principal) map[string][]string {
	now := time.Now().UTC()
	m := map[string][]string{
		"aws:securetransport": {strconv.FormatBool(r.TLS != nil)},
		"aws:currenttime":     {now.Format(time.RFC3339)},
		"aws:epochtime":       {strconv.FormatInt(now.Unix(), 10)},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		m["aws:sourceip"] = []string{host}
	}
	if p.User != "" {
		m["aws:username"] = []string{p.User}
	}
	if ua := r.UserAgent(); ua != "" {
		m["aws:useragent"] = []string{ua}
	}
	return m
}

// writeError maps err to the dialect's error response. Unexpected errors
// are logged with the request id and reported as InternalError without
// detail, so nothing internal (paths, keys) reaches the client. It reports
// whether it answered: a canceled request (the client left) gets nothing.
func (s *Server) writeError(q *request, err error) bool {
	e := errs.As(err)
	if e == nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		s.logFailure(q, "request failed", err)
		e = errs.InternalError
	} else if err != error(e) {
		// The client gets the canonical error; the detail wrapped around
		// it (which check failed, for which access key) is for operators.
		s.log.Debug("request refused", "id", q.id, "code", e.Code, "err", err)
	}
	resource := "/" + q.bucket
	if q.key != "" {
		resource += "/" + q.key
	}
	if e.Status == http.StatusServiceUnavailable {
		// A KMS outage (or overload) is temporary: every dialect answers
		// 503, and well-behaved clients wait this long before retrying.
		q.w.Header().Set("Retry-After", retryAfter)
	}
	q.d.WriteError(q.w, q.r, e, resource, q.id)
	return true
}

// retryAfter is the Retry-After (seconds) sent with a 503.
const retryAfter = "2"

// vhostBucket returns the bucket named by a virtual-hosted-style Host, and
// the dialect its domain pins, if any.
func (s *Server) vhostBucket(host string) (bucket, dialectName string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, d := range s.cfg.Domains {
		if host == d.Name {
			return "", d.Dialect
		}
		if strings.HasSuffix(host, "."+d.Name) {
			return strings.TrimSuffix(host, "."+d.Name), d.Dialect
		}
	}
	return "", ""
}

// dialectFor picks a request's dialect: the listener's, else its domain's,
// else the one its credentials or vendor headers name, else S3.
func (s *Server) dialectFor(r *http.Request, domainDialect string) dialect.Dialect {
	for _, name := range []string{s.cfg.Dialect, domainDialect} {
		if d := s.dialects[name]; d != nil {
			return d // no need to sniff
		}
	}
	if d := s.dialects[sniff(r)]; d != nil {
		return d
	}
	return s.dialects["s3"]
}

// sniff guesses the dialect from the signature scheme or vendor headers.
func sniff(r *http.Request) string {
	authz := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(authz, "OSS"):
		return "oss"
	case strings.HasPrefix(authz, "q-sign-algorithm="):
		return "cos"
	case strings.HasPrefix(authz, "OBS "):
		return "obs"
	case authz != "":
		break
	default:
		q := r.URL.Query()
		switch {
		case q.Has("OSSAccessKeyId") || q.Has("x-oss-signature"):
			return "oss"
		case q.Has("q-signature"):
			return "cos"
		case q.Has("AccessKeyId") && q.Has("Signature"):
			return "obs"
		}
	}
	var unsigned func(string) bool
	for k := range r.Header {
		// Only a vendor header can name a dialect: look at the prefix
		// before lowercasing (which allocates) the whole name.
		if len(k) < 6 {
			continue
		}
		var d string
		switch p := k[:6]; {
		case strings.EqualFold(p, "x-oss-"):
			d = "oss"
		case strings.EqualFold(p, "x-cos-"):
			d = "cos"
		case strings.EqualFold(p, "x-obs-"):
			d = "obs"
		default:
			continue
		}
		if unsigned == nil {
			unsigned = auth.MayGoUnsigned(r)
		}
		if !unsigned(strings.ToLower(k)) {
			return d
		}
	}
	return "s3"
}

// dialectReads reports whether dialect d takes vendor header name
// (lowercase) on input.
func dialectReads(d dialect.Dialect, name string) bool {
	for _, p := range dialect.Prefixes(d) {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// splitPath returns bucket and key from the decoded URL path.
func splitPath(path, vhost string) (bucket, key string) {
	path = strings.TrimPrefix(path, "/")
	if vhost != "" {
		return vhost, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

func principalName(p service.Principal) string {
	if p.Anonymous() {
		return "anonymous"
	}
	return p.User
}
