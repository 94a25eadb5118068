// Package server assembles a strongroom node from its configuration: the
// stores, the service, identities and the HTTP front end. cmd/strongroom
// and the end-to-end tests both start nodes through it.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
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

	"strongroom/internal/blob/fs"
	"strongroom/internal/checksum"
	"strongroom/internal/httpapi"
	"strongroom/internal/httpapi/dialect/all"
	"strongroom/internal/iam"
	"strongroom/internal/kms"
	"strongroom/internal/meta"
	"strongroom/internal/meta/bolt"
	"strongroom/internal/service"
	"strongroom/internal/sse"
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
	// Root credentials; generated once and kept in the data directory when
	// empty.
	RootAccessKey string `yaml:"root-access-key"`
	RootSecretKey string `yaml:"root-secret-key"`
	// RootKey (32 bytes) protects the keyring; else RootKeyFile, else the
	// STRONGROOM_ROOT_KEY environment, else a key file generated in the
	// data directory on first start.
	RootKey     []byte `yaml:"-"`
	RootKeyFile string `yaml:"root-key-file"`
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
}

// Files in the data directory.
const (
	metaFile    = "meta.db"
	blobDir     = "blobs"
	rootFile    = "root-credentials.json"
	rootKeyFile = "root.key"
	keyringFile = "keyring"
	AddrFile    = "strongroom.addr" // where a running node is listening
)

// Node is an assembled, not yet serving, strongroom node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	meta    meta.Store
	md5s    *checksum.MD5s
	Service *service.Service
	IAM     *iam.IAM
	Root    iam.Credentials
	Keyring *kms.Keyring
	// KMS counts the calls made to the key provider (tests and metrics).
	KMS     *kms.Counting
	cfg2    httpapi.Config
	handler http.Handler
	mu      sync.Mutex
	servers []*http.Server
	closed  bool
}

// Open opens the stores in the data directory and sweeps orphaned blobs
// left by a crash. The node does not listen until Serve.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	root, err := rootCredentials(cfg)
	if err != nil {
		return nil, err
	}
	rootKey := cfg.RootKey
	if rootKey == nil {
		if rootKey, err = LoadRootKey(cfg.DataDir, cfg.RootKeyFile, log); err != nil {
			return nil, err
		}
	}
	keyring, err := kms.OpenKeyring(filepath.Join(cfg.DataDir, keyringFile), rootKey)
	if err != nil {
		return nil, fmt.Errorf("opening keyring: %w", err)
	}
	m, err := bolt.Open(filepath.Join(cfg.DataDir, metaFile))
	if err != nil {
		keyring.Close()
		return nil, fmt.Errorf("opening metadata: %w", err)
	}
	blobs, err := fs.Open(filepath.Join(cfg.DataDir, blobDir))
	if err != nil {
		m.Close()
		keyring.Close()
		return nil, fmt.Errorf("opening data store: %w", err)
	}
	counting := kms.NewCounting(keyring)
	md5s := checksum.NewMD5s()
	closeStores := func() {
		md5s.Close()
		m.Close()
		keyring.Close()
	}
	svc := service.New(m, blobs, service.Options{Logger: log, Region: cfg.Region, Sealer: sse.NewSealer(counting), Policies: newPolicies(), MD5s: md5s})
	n, err := svc.SweepOrphans(ctx)
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
	node := &Node{cfg: cfg, log: log, meta: m, md5s: md5s, Service: svc, IAM: ids, Root: root, Keyring: keyring, KMS: counting}
	domains, err := parseDomains(cfg.Domains)
	if err != nil {
		node.Close(ctx)
		return nil, err
	}
	node.cfg2 = httpapi.Config{
		Domains:           domains,
		Dialects:          all.Dialects(),
		Admin:             newAdmin(ids, keyring, counting),
		AllowInsecureSSEC: cfg.TrustedTLSProxy || cfg.InsecureSSEC,
		BodyReadTimeout:   cfg.BodyReadTimeout,
	}
	node.handler = httpapi.New(svc, ids, node.cfg2, log)
	return node, nil
}

// Handler is the node's HTTP handler (dialect detected per request).
func (n *Node) Handler() http.Handler { return n.handler }

// DialectHandler is a handler whose requests all speak one dialect.
func (n *Node) DialectHandler(name string) http.Handler {
	c := n.cfg2
	c.Dialect = name
	return httpapi.New(n.Service, n.IAM, c, n.log)
}

// DialectListeners are the configured per-dialect listen addresses.
func (n *Node) DialectListeners() map[string]string {
	m := map[string]string{}
	for name, addr := range map[string]string{"oss": n.cfg.OSSAddr, "cos": n.cfg.COSAddr, "obs": n.cfg.OBSAddr} {
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
	n.md5s.Close()
	return errors.Join(err, n.meta.Close(), n.Keyring.Close())
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
// in the data directory, generating them on first start.
func rootCredentials(cfg Config) (iam.Credentials, error) {
	if cfg.RootAccessKey != "" || cfg.RootSecretKey != "" {
		if len(cfg.RootAccessKey) < 3 || len(cfg.RootSecretKey) < 8 {
			return iam.Credentials{}, errors.New("root access key must be at least 3 and secret key at least 8 characters")
		}
		return iam.Credentials{User: iam.RootUser, AccessKey: cfg.RootAccessKey, SecretKey: cfg.RootSecretKey}, nil
	}
	return LoadRootCredentials(cfg.DataDir, true)
}

// LoadRootCredentials reads the root credentials kept in a data directory,
// creating them if create is set and there are none.
func LoadRootCredentials(dir string, create bool) (iam.Credentials, error) {
	path := filepath.Join(dir, rootFile)
	var c iam.Credentials
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("reading %s: %w", path, err)
		}
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return c, err
	}
	c = *iam.NewCredentials()
	c.User = iam.RootUser
	b, _ = json.MarshalIndent(c, "", "  ")
	return c, writeFileDurable(path, b, 0o600)
}

// writeFileDurable writes a file so that it survives a crash once this
// returns: temp file, fsync, rename, fsync directory.
func writeFileDurable(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
