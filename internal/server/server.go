// Package server assembles a strongroom node from its configuration: the
// stores, the service, identities and the HTTP front end. cmd/strongroom
// and the end-to-end tests both start nodes through it.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/httpapi"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/all"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/metrics"
	"github.com/strongroom-dev/strongroom/internal/origin"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/reqid"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Config is a node's configuration.
type Config struct {
	Addr    string `yaml:"addr"`
	DataDir string `yaml:"data"`
	// Domains are base domains for virtual-hosted-style requests, each
	// "name" or "dialect=name" (e.g. "oss=oss.example.com").
	Domains []string `yaml:"domains"`
	// Listeners pinned to one dialect, besides the auto-detecting Addr.
	OSSAddr string `yaml:"oss-addr"`
	COSAddr string `yaml:"cos-addr"`
	OBSAddr string `yaml:"obs-addr"`
	Region  string `yaml:"region"`
	TLSCert string `yaml:"tls-cert"`
	TLSKey  string `yaml:"tls-key"`
	// TLSSelfSigned serves HTTPS with the data directory's self-signed
	// certificate (see SelfSignedCert); the command resolves it into
	// TLSCert and TLSKey.
	TLSSelfSigned bool `yaml:"tls-self-signed"`
	// Root credentials; generated once and kept in the data directory when
	// empty.
	RootAccessKey string `yaml:"root-access-key"`
	RootSecretKey string `yaml:"root-secret-key"`
	// RootKey (32 bytes) protects the keyring; else RootKeyFile, else the
	// STRONGROOM_ROOT_KEY environment, else a key file generated in the
	// data directory on first start.
	RootKey     []byte `yaml:"-"`
	RootKeyFile string `yaml:"root-key-file"`
	// WrapKMS, if set, wraps the key provider (tests observe its calls).
	WrapKMS func(kms.Provider) kms.Provider `yaml:"-"`
	// TrustedTLSProxy declares a TLS-terminating proxy in front, so SSE-C
	// keys arriving over plain HTTP were encrypted on the wire.
	TrustedTLSProxy bool `yaml:"trusted-tls-proxy"`
	// InsecureSSEC accepts SSE-C over plain HTTP without such a proxy.
	InsecureSSEC bool `yaml:"insecure-sse-c"`
	// BodyReadTimeout: a request body sending nothing for this long fails
	// with RequestTimeout (default 20 s, as S3).
	BodyReadTimeout time.Duration `yaml:"body-read-timeout"`
	// MaxConnsPerClient caps the open connections per client IP address
	// (default DefaultMaxConnsPerClient, none with TrustedTLSProxy;
	// negative: no cap).
	MaxConnsPerClient int          `yaml:"max-conns-per-client"`
	Logger            *slog.Logger `yaml:"-"`
	// LifecycleEvery is the time between lifecycle passes (default 1h);
	// LifecycleRate caps the objects a pass looks at per second (default
	// 2000; negative: no cap), bounding the load it puts on the node.
	LifecycleEvery time.Duration `yaml:"lifecycle-every"`
	LifecycleRate  float64       `yaml:"lifecycle-rate"`
	// ReplicationWorkers bounds the replica transfers in flight (default
	// 8). The replication queue is drained when a write queues a version,
	// when a retry falls due, and every minute.
	ReplicationWorkers int `yaml:"replication-workers"`
	// NoBackgroundJobs leaves the background jobs to Node.Jobs.RunPass
	// (tests drive passes with their own clock).
	NoBackgroundJobs bool `yaml:"-"`
	// ProfileLabels labels each request's goroutine for a CPU profile
	// (profilelabels.go): the command's --cpuprofile sets it.
	ProfileLabels bool `yaml:"-"`
	// Now is the node's clock for objects and jobs (tests); default
	// time.Now.
	Now func() time.Time `yaml:"-"`
	// KMSConfig selects the key provider (builtin keyring by default);
	// an external one seals the root key too (kmsprovider.go).
	KMSConfig `yaml:",inline"`
	// BlobsConfig selects the data tier (blobs.go); default the data
	// directory.
	BlobsConfig `yaml:",inline"`
	// KMSCache bounds the cache of unwrapped keys (kmscache.go).
	KMSCache `yaml:",inline"`
	// MetaConfig selects the metadata store (metastore.go).
	MetaConfig `yaml:",inline"`
	// OriginAllow lets origin pulls (back-to-source) reach addresses
	// otherwise refused (loopback, link-local, private, metadata
	// service): CIDR prefixes, addresses or host names.
	OriginAllow []string `yaml:"origin-allow"`
	// OriginHeaderTimeout bounds the wait for an origin's response
	// headers (default 10 s); OriginTimeout a whole pull (default 30 min);
	// OriginMaxSize a pulled object (default 5 GiB).
	OriginHeaderTimeout time.Duration `yaml:"origin-header-timeout"`
	OriginTimeout       time.Duration `yaml:"origin-timeout"`
	OriginMaxSize       int64         `yaml:"origin-max-size"`
	// MetricsToken, when set, is the bearer token GET /metrics needs.
	MetricsToken string `yaml:"metrics-token"`
	// AccessLog is where the access log goes: "off" (or ""), "stderr"
	// (the node's log), or a file of JSON lines.
	AccessLog string `yaml:"access-log"`
	// AuditLog, when set, is a file the audit records are appended to
	// (JSON lines).
	AuditLog string `yaml:"audit-log"`
	// ConsoleAddr, when set, is where the operator console listens
	// (console.go).
	ConsoleAddr string `yaml:"console-addr"`
}

// Files in the data directory.
const (
	metaFile    = "meta.db"
	blobDir     = "blobs"
	rootFile    = "root-credentials.json" // root access key, secret sealed under the root key
	rootKeyFile = "root.key"
	keyringFile = "keyring"
	AddrFile    = "strongroom.addr" // where a running node is listening
	nodeIDFile  = "node-id"         // the node's name as a job lease holder
)

// Node is an assembled, not yet serving, strongroom node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	meta    meta.Store
	blobs   blob.Store
	md5s    *checksum.MD5s
	Service *service.Service
	IAM     *iam.IAM
	Root    iam.Credentials
	// RootCreated: this start generated the root credentials, the one
	// time their secret may be shown (the file keeps it sealed).
	RootCreated bool
	Keyring     *kms.Keyring
	// Keys is the key provider in use: Keyring, or an external one.
	Keys     kms.KeyAdmin
	closeKMS func() error
	// KMS counts the calls made to the key provider (tests and metrics).
	KMS *kms.Counting
	// sealer is the service's: its object-key cache is counted (watch).
	sealer *sse.Sealer
	// Jobs runs the background work (lifecycle); see internal/jobs.
	Jobs *jobs.Engine
	// Metrics is the node's metrics registry (served at GET /metrics);
	// subsystems add their collectors with Metrics.Register.
	Metrics  *metrics.Registry
	obs      *observability
	stopJobs context.CancelFunc
	jobsDone chan struct{}
	cfg2     httpapi.Config
	handler  http.Handler
	mu       sync.Mutex
	servers  []*http.Server
	closed   bool

	keyJobs   *keyJobRunner // key jobs started through the admin API
	migration *migrating    // the provider, with a key migration's target

	// Replication is the replication job's task (its Drive loop runs with
	// the background jobs).
	Replication *service.ReplicationTask

	// stopInvalidations ends the cache-invalidation listener (invalidate.go).
	stopInvalidations func()
}

// Open opens the stores in the data directory and sweeps orphaned blobs
// left by a crash. The node does not listen until Serve.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	// Lines logged with a request's context name the request.
	log = slog.New(reqid.Handler(log.Handler()))
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	// An external key provider first: it may hold the root key too.
	ext, closeKMS, err := openKMS(ctx, cfg.KMSConfig, log)
	if err != nil {
		return nil, err
	}
	rootKey := cfg.RootKey
	if rootKey == nil {
		if rootKey, err = loadRootKey(ctx, cfg, ext, log); err != nil {
			closeKMS()
			return nil, err
		}
	}
	// The metadata before the keyring: a store shared by nodes holds it.
	m, err := openMeta(ctx, cfg)
	if err != nil {
		closeKMS()
		return nil, fmt.Errorf("opening metadata: %w", err)
	}
	keyring, err := openKeyring(ctx, cfg.DataDir, m, rootKey, log) // sharedkeys.go
	if err != nil {
		m.Close()
		closeKMS()
		return nil, fmt.Errorf("opening keyring: %w", err)
	}
	closeKeys := func() {
		keyring.Close()
		closeKMS()
	}
	// After the keyring: its lock makes this process the data directory's
	// only owner, and the root key is proven before anything is sealed.
	root, rootCreated, err := rootCredentials(cfg, rootKey, log)
	if err != nil {
		m.Close()
		closeKeys()
		return nil, err
	}
	blobs, err := openBlobs(ctx, cfg, log)
	if err != nil {
		m.Close()
		closeKeys()
		return nil, fmt.Errorf("opening data store: %w", err)
	}
	obs, err := openObservability(cfg, log)
	if err != nil {
		m.Close()
		closeKeys()
		return nil, err
	}
	keys, kmsProvider := nodeKeys(keyring, ext)
	mig := &migrating{Provider: kmsProvider} // key migrate's target beside it (migrate.go)
	if ext != nil {
		mig.reseal = rootResealer(cfg.DataDir, rootKey) // migrateroot.go
	}
	kmsProvider = mig
	if cfg.WrapKMS != nil {
		kmsProvider = cfg.WrapKMS(kmsProvider)
	}
	counting := kms.NewCounting(kmsProvider)
	provider := cfg.KMS
	if provider == "" {
		provider = KMSBuiltin
	}
	counting.SetObserver(obs.metrics.KMSObserver(provider))
	md5s := checksum.NewMD5s()
	closeStores := func() {
		md5s.Close()
		m.Close()
		closeKeys()
		obs.close()
	}
	remotes := remote.New(m, rootKey)
	fetcher, err := origin.NewFetcher(origin.Options{Allow: cfg.OriginAllow, HeaderTimeout: cfg.OriginHeaderTimeout, Timeout: cfg.OriginTimeout, MaxSize: cfg.OriginMaxSize})
	if err != nil {
		closeStores()
		return nil, err
	}
	sealer := newSealer(cfg, counting)
	svc := service.New(m, blobs, service.Options{Logger: log, Now: cfg.Now, Region: cfg.Region, Sealer: sealer, Policies: newPolicies(), MD5s: md5s, Remotes: remotes, Origin: fetcher, Audit: obs.audit})
	n, err := svc.SweepPending(ctx)
	if err != nil {
		closeStores()
		return nil, fmt.Errorf("sweeping orphans: %w", err)
	}
	if n > 0 {
		log.Info("swept orphaned blobs", "count", n)
	}
	ids, err := iam.New(m, root.AccessKey, root.SecretKey, rootKey)
	if err != nil {
		closeStores()
		return nil, err
	}
	node := &Node{cfg: cfg, log: log, meta: m, blobs: blobs, md5s: md5s, Service: svc, IAM: ids, Root: root, RootCreated: rootCreated, Keyring: keyring, Keys: keys, closeKMS: closeKMS, KMS: counting, sealer: sealer}
	domains, err := parseDomains(cfg.Domains)
	if err != nil {
		node.Close(ctx)
		obs.close()
		return nil, err
	}
	node.Metrics, node.obs = obs.metrics, obs
	if node.Jobs, node.Replication, err = newJobs(cfg, m, svc, log); err != nil {
		node.Close(ctx)
		return nil, err
	}
	node.Jobs.Register(keyDeletionSpec(keys, m, obs.audit, log))
	node.migration = mig
	if err := node.newKeyJobs(ctx, cfg); err != nil {
		node.Close(ctx)
		return nil, err
	}
	if err := node.watch(); err != nil {
		node.Close(ctx)
		return nil, err
	}
	node.cfg2 = httpapi.Config{
		Domains:           domains,
		Dialects:          all.Dialects(),
		Admin:             newAdmin(ids, keys, counting, node.Jobs, m, remotes, node.backupHandler).withInventory(svc).withKeyJobs(svc, node.keyJobs).withMigrate(node.keyJobs, providerName(cfg.KMSConfig)).withMigrateFinish(svc, node.keyJobs, providerName(cfg.KMSConfig)).withKeyRetire(svc, node.keyJobs, providerName(cfg.KMSConfig)),
		AllowInsecureSSEC: cfg.TrustedTLSProxy || cfg.InsecureSSEC,
		BodyReadTimeout:   cfg.BodyReadTimeout,
		Metrics:           obs.metrics,
		MetricsToken:      cfg.MetricsToken,
		Ready:             &readiness{meta: m, kms: counting, log: log},
		AccessLog:         obs.accessLog,
		Audit:             obs.audit,
	}
	node.cfg2.Admin.(*admin).audit = obs.audit // key and user changes
	node.cfg2.Admin.(*admin).clock = cfg.Now
	node.handler = httpapi.New(svc, ids, node.cfg2, log)
	node.stopInvalidations = watchInvalidations(m, ids, sealer, log) // invalidate.go
	node.startJobs()
	return node, nil
}

// newJobs registers the node's background jobs.
func newJobs(cfg Config, m meta.Store, svc *service.Service, log *slog.Logger) (*jobs.Engine, *service.ReplicationTask, error) {
	id, err := nodeID(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	e := jobs.New(jobs.Options{Store: m, Node: id, Now: cfg.Now, Logger: log})
	every, rate := cfg.LifecycleEvery, cfg.LifecycleRate
	if every <= 0 {
		every = time.Hour
	}
	switch {
	case rate == 0:
		rate = 2000
	case rate < 0:
		rate = 0
	}
	e.Register(jobs.Spec{Name: service.LifecycleJob, Task: svc.LifecycleTask(), Every: every, Rate: rate})
	// Inventories are due daily or weekly; each pass looks which are.
	e.Register(jobs.Spec{Name: service.InventoryJob, Task: svc.InventoryTask(), Every: every})
	repl := svc.ReplicationTask(service.ReplicationOptions{Workers: cfg.ReplicationWorkers})
	e.Register(jobs.Spec{Name: service.ReplicationJob, Task: repl, Every: time.Minute})
	if err := registerKeyJobs(e, m, svc, cfg); err != nil {
		return nil, nil, err
	}
	return e, repl, nil
}

// nodeID is the node's name as a holder of job leases: random, made once
// and kept in the data directory. A node restarted after a crash is the same
// holder, so it resumes its interrupted passes at once instead of waiting
// out its own lease; two live processes never share a data directory (the
// keyring and metadata files are locked), so they never share an ID.
func nodeID(dir string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	var b [12]byte
	rand.Read(b[:])
	err := durable.CreateFile(path, []byte(hex.EncodeToString(b[:])+"\n"), 0o600)
	if err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("node id: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	id := strings.TrimSpace(string(data))
	if id == "" {
		return "", fmt.Errorf("node id: %s is empty", path)
	}
	return id, nil
}

// startJobs runs the background jobs until Close.
func (n *Node) startJobs() {
	n.jobsDone = make(chan struct{})
	if n.cfg.NoBackgroundJobs {
		close(n.jobsDone)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.stopJobs = cancel
	replDone := make(chan struct{})
	go func() {
		defer close(replDone)
		n.Replication.Drive(ctx, func(ctx context.Context) error {
			_, err := n.Jobs.RunPass(ctx, service.ReplicationJob)
			return err
		})
	}()
	go func() {
		defer close(n.jobsDone)
		n.Jobs.Run(ctx)
		<-replDone
	}()
}

// Handler is the node's HTTP handler (dialect detected per request).
func (n *Node) Handler() http.Handler { return n.handler }

// Meta is the node's metadata store (tests set configurations through it
// that no handler sets yet).
func (n *Node) Meta() meta.Store { return n.meta }

// DialectHandler is a handler whose requests all speak one dialect.
func (n *Node) DialectHandler(name string) http.Handler {
	c := n.cfg2
	c.Dialect = name
	return httpapi.New(n.Service, n.IAM, c, n.log)
}

// DialectListeners are the configured per-dialect listen addresses.
func (n *Node) DialectListeners() map[string]string { return DialectAddrs(n.cfg) }

// DialectAddrs maps the dialects given their own listener to its address.
func DialectAddrs(cfg Config) map[string]string {
	m := map[string]string{}
	for name, addr := range map[string]string{"oss": cfg.OSSAddr, "cos": cfg.COSAddr, "obs": cfg.OBSAddr} {
		if addr != "" {
			m[name] = addr
		}
	}
	return m
}

// parseDomains reads "name" and "dialect=name" entries.
func parseDomains(list []string) ([]httpapi.Domain, error) {
	var out []httpapi.Domain
	for _, d := range list {
		dia, name, ok := strings.Cut(d, "=")
		if !ok {
			dia, name = "", d
		}
		switch dia {
		case "", "s3", "oss", "cos", "obs":
		default:
			return nil, fmt.Errorf("domain %q: unknown dialect %q (s3, oss, cos, obs)", d, dia)
		}
		out = append(out, httpapi.Domain{Name: strings.ToLower(name), Dialect: dia})
	}
	return out, nil
}

// Listen binds the configured address (":9000" by default).
func (n *Node) Listen() (net.Listener, error) {
	addr := n.cfg.Addr
	if addr == "" {
		addr = ":9000"
	}
	return net.Listen("tcp", addr)
}

// Serve serves on ln until Close. It records the address in the data
// directory so the CLI can reach a running node.
func (n *Node) Serve(ln net.Listener) error {
	return n.serve(ln, n.handler, true)
}

// ServeDialect serves requests of one dialect on ln until Close.
func (n *Node) ServeDialect(ln net.Listener, dialect string) error {
	return n.serve(ln, n.DialectHandler(dialect), false)
}

func (n *Node) serve(ln net.Listener, h http.Handler, main bool) error {
	if n.cfg.ProfileLabels {
		h = labelRequests(h)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// The request line and headers together; the handler holds the
		// header section to S3's 8 KiB, and the rest leaves room for long
		// presigned URLs.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	maxConns := n.cfg.MaxConnsPerClient
	if maxConns == 0 && !n.cfg.TrustedTLSProxy {
		// Behind a proxy every connection comes from the proxy's address:
		// the proxy must cap its clients.
		maxConns = DefaultMaxConnsPerClient
	}
	ln = limitPerClient(ln, maxConns)
	scheme := "http"
	if n.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(n.cfg.TLSCert, n.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("loading TLS key pair: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	if main {
		if err := writeAddr(n.cfg.DataDir, scheme, ln.Addr()); err != nil {
			return err
		}
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		ln.Close()
		return nil
	}
	n.servers = append(n.servers, srv)
	n.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving (letting requests in flight finish for up to the
// context's deadline) and closes the stores.
func (n *Node) Close(ctx context.Context) error {
	var err error
	n.mu.Lock()
	servers := n.servers
	n.closed = true
	n.mu.Unlock()
	for _, srv := range servers {
		err = errors.Join(err, srv.Shutdown(ctx))
	}
	if len(servers) > 0 {
		os.Remove(filepath.Join(n.cfg.DataDir, AddrFile))
	}
	if n.stopJobs != nil {
		n.stopJobs()
	}
	if n.jobsDone != nil {
		<-n.jobsDone
	}
	n.keyJobs.stop()
	if n.stopInvalidations != nil {
		n.stopInvalidations()
	}
	n.md5s.Close()
	return errors.Join(err, n.meta.Close(), n.closeKMS(), n.Keyring.Close(), n.obs.close())
}

// LoadRootKey returns the root key: from STRONGROOM_ROOT_KEY, else from
// file, else from the data directory's root.key, generated (with a loud
// warning) on first start.
func LoadRootKey(dataDir, file string, log *slog.Logger) ([]byte, error) {
	env := os.Getenv(kms.RootKeyEnv)
	if env != "" || file != "" {
		return kms.LoadRootKey(env, file)
	}
	path := filepath.Join(dataDir, rootKeyFile)
	if _, err := os.Stat(path); err == nil {
		return kms.LoadRootKey("", path)
	}
	// A new key only for a new data directory: one whose keyring exists was
	// set up under a key kept elsewhere, and a fresh key here would seal
	// new secrets under the wrong key (and strand a root.key file).
	if _, err := os.Stat(filepath.Join(dataDir, sealedRootKeyFile)); err == nil {
		return nil, fmt.Errorf("the root key of %s is sealed by an external key provider (%s): give its --kms settings", dataDir, sealedRootKeyFile)
	}
	if _, err := os.Stat(filepath.Join(dataDir, keyringFile)); err == nil {
		return nil, fmt.Errorf("the data directory %s has a keyring but no %s: give its root key (%s or --root-key-file)", dataDir, rootKeyFile, kms.RootKeyEnv)
	}
	key, err := kms.GenerateRootKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("generating root key: %w", err)
	}
	if log != nil {
		log.Warn("GENERATED A NEW ROOT KEY: every encrypted object depends on it. Back it up, and keep it apart from the data (set STRONGROOM_ROOT_KEY or --root-key-file in production).", "file", path)
	}
	return key, nil
}

func writeAddr(dir, scheme string, a net.Addr) error {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	u := scheme + "://" + net.JoinHostPort(host, port)
	return os.WriteFile(filepath.Join(dir, AddrFile), []byte(u), 0o600)
}

// rootCredentials takes the configured root credentials, or the ones kept
// in the data directory (created: generated by this call).
func rootCredentials(cfg Config, rootKey []byte, log *slog.Logger) (c iam.Credentials, created bool, err error) {
	if cfg.RootAccessKey != "" || cfg.RootSecretKey != "" {
		if len(cfg.RootAccessKey) < 3 || len(cfg.RootSecretKey) < 8 {
			return iam.Credentials{}, false, errors.New("root access key must be at least 3 and secret key at least 8 characters")
		}
		return iam.Credentials{User: iam.RootUser, AccessKey: cfg.RootAccessKey, SecretKey: cfg.RootSecretKey}, false, nil
	}
	return ensureRootCredentials(cfg.DataDir, rootKey, log)
}
