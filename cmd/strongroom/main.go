// Command strongroom is an S3-compatible object storage server that
// encrypts objects at rest.
//
//	strongroom serve [--addr :9000] [--data ./data] [--config FILE] ...
//	strongroom user create NAME [--data ./data]
//	strongroom bench [--endpoint URL] ...
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/strongroom-dev/strongroom/internal/server"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "strongroom:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  strongroom serve [flags]        run the server (see strongroom serve -h)
  strongroom user create NAME     create a user and print its access keys
  strongroom user root-credentials
                                  show the root credentials (needs the root key)
  strongroom replication status BUCKET
                                  a bucket's replication backlog, lag and last error per rule
  strongroom key create|rotate|disable|enable NAME, key list
                                  manage the KMS master keys (--kms builtin|pkcs11|kmip)
  strongroom key grant|revoke KEY USER, key schedule-deletion KEY --days N, key cancel-deletion KEY
                                  who may use a key; crypto-shred a key (see strongroom key list -h)
  strongroom jobs list, jobs run NAME
                                  show or run now the background jobs (lifecycle, inventory)
  strongroom remote add NAME URL --access-key AK --secret-key SK [--insecure], remote list, remote remove NAME
                                  the other deployments replication rules may name
  strongroom inventory run BUCKET ID
                                  deliver one inventory report now
  strongroom bench [flags]        load-benchmark a server
  strongroom bench load --objects N
                                  the scale run: N small objects in one node, then its figures
  strongroom bench scaleout       PostgreSQL + S3 tier vs embedded; 1, 2, 3 nodes
  strongroom fsck --data DIR      delete unreferenced blobs by walking every blob (node stopped)
  strongroom version              the version, commit and Go version of this binary
  strongroom backup --data DIR --out PATH
                                  back up a deployment (running or not), without its root key
  strongroom restore --from PATH --data DIR
                                  restore a backup into an empty data directory
  strongroom migrate --data DIR --to postgres://… --blobs s3://…|file:///…
                                  copy a stopped embedded deployment into a scale-out one (resumable)
Every command takes --help.
Admin commands (user, key, jobs, remote, replication, inventory, backup) take
--endpoint URL [--insecure] to ask a running server by URL; list commands print
a table, or JSON with --json.
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	if helpRequested(args) {
		// Help goes to standard output and succeeds, whichever way the
		// command shows its usage (the flag package's ErrHelp, or a usage
		// error for an incomplete command line).
		err := dispatch(args, stdout, stdout)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return nil
		case strings.HasPrefix(err.Error(), "usage:"):
			fmt.Fprintln(stdout, err)
			return nil
		}
		return err
	}
	return dispatch(args, stdout, stderr)
}

// helpRequested reports whether a -h/-help/--help flag comes before any
// "--".
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "user":
		return userCmd(args[1:], stdout, stderr)
	case "key":
		return keyCmd(args[1:], stdout, stderr)
	case "replication":
		return replicationCmd(args[1:], stdout, stderr)
	case "jobs":
		return jobsCmd(args[1:], stdout, stderr)
	case "remote":
		return remoteCmd(args[1:], stdout, stderr)
	case "inventory":
		return inventoryCmd(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "fsck":
		return fsckCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "backup":
		return backupCmd(args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(args[1:], stdout, stderr) // scalemigrate.go
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// printRootBanner names the root access key. The secret is shown once,
// when this start generated it; afterwards it stays sealed in the data
// directory and "strongroom user root-credentials" (which needs the root
// key) shows it again. Configured credentials are the operator's own.
func printRootBanner(w io.Writer, node *server.Node, cfg server.Config) {
	fmt.Fprintf(w, "  root access key: %s\n", node.Root.AccessKey)
	switch {
	case node.RootCreated:
		fmt.Fprintf(w, "  root secret key: %s\n  (generated now and shown only this once; it is kept sealed under the root key:\n   strongroom user root-credentials --data %s shows it again)\n", node.Root.SecretKey, cfg.DataDir)
	case cfg.RootAccessKey == "":
		fmt.Fprintf(w, "  root secret key: sealed; strongroom user root-credentials --data %s shows it\n", cfg.DataDir)
	}
}

// stringList is a repeatable (or comma-separated) flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// loadConfig builds the configuration: defaults, then the config file,
// then the environment, then flags set on the command line.
func loadConfig(fs *flag.FlagSet, args []string) (server.Config, error) {
	var file string
	fs.StringVar(&file, "config", "", "YAML configuration file (keys as the flag names)")
	bindServeFlags(fs, new(server.Config))
	if err := fs.Parse(args); err != nil {
		return server.Config{}, err
	}
	cfg := defaultConfig()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return cfg, err
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("%s: %w", file, err)
		}
	}
	if v := os.Getenv("STRONGROOM_ROOT_ACCESS_KEY"); v != "" {
		cfg.RootAccessKey = v
	}
	if v := os.Getenv("STRONGROOM_ROOT_SECRET_KEY"); v != "" {
		cfg.RootSecretKey = v
	}
	// Replay the flags given on the command line onto the loaded
	// configuration: they win over the file and the environment.
	over := flag.NewFlagSet("", flag.ContinueOnError)
	bindServeFlags(over, &cfg)
	var err error
	fs.Visit(func(f *flag.Flag) {
		if over.Lookup(f.Name) == nil || err != nil {
			return
		}
		if f.Name == "domain" {
			cfg.Domains = nil // the flag replaces the file's list
		}
		if f.Name == "origin-allow" {
			cfg.OriginAllow = nil
		}
		err = over.Set(f.Name, f.Value.String())
	})
	if err != nil {
		return cfg, err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, errors.New("--tls-cert and --tls-key go together")
	}
	return cfg, nil
}

func defaultConfig() server.Config {
	return server.Config{Addr: ":9000", DataDir: "./data", Region: "us-east-1", AccessLog: server.AccessLogStderr}
}

// bindServeFlags defines the server's flags onto cfg, defaulting to the
// values cfg already holds (the defaults, or a loaded configuration).
func bindServeFlags(fs *flag.FlagSet, cfg *server.Config) {
	if cfg.Addr == "" {
		*cfg = defaultConfig()
	}
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory")
	fs.Var((*stringList)(&cfg.Domains), "domain", "base domain for virtual-hosted-style requests, `[DIALECT=]NAME` (repeatable; DIALECT pins s3, oss, cos or obs)")
	fs.StringVar(&cfg.OSSAddr, "oss-addr", cfg.OSSAddr, "extra listener speaking the Alibaba OSS dialect")
	fs.StringVar(&cfg.COSAddr, "cos-addr", cfg.COSAddr, "extra listener speaking the Tencent COS dialect")
	fs.StringVar(&cfg.OBSAddr, "obs-addr", cfg.OBSAddr, "extra listener speaking the Huawei OBS dialect")
	fs.StringVar(&cfg.Region, "region", cfg.Region, "region reported for buckets")
	fs.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert, "TLS certificate file (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey, "TLS private key file (PEM)")
	fs.BoolVar(&cfg.TLSSelfSigned, "tls-self-signed", cfg.TLSSelfSigned, "serve HTTPS with a self-signed certificate kept in DATA/tls (made on first use; its fingerprint is printed)")
	fs.StringVar(&cfg.RootKeyFile, "root-key-file", cfg.RootKeyFile, "file holding the root key (base64 or 32 raw bytes); default: $STRONGROOM_ROOT_KEY, else DATA/root.key")
	fs.BoolVar(&cfg.TrustedTLSProxy, "trusted-tls-proxy", cfg.TrustedTLSProxy, "a TLS-terminating proxy is in front: accept SSE-C over plain HTTP")
	fs.BoolVar(&cfg.InsecureSSEC, "insecure-sse-c", cfg.InsecureSSEC, "accept SSE-C keys over plain HTTP (unsafe)")
	fs.DurationVar(&cfg.LifecycleEvery, "lifecycle-every", cfg.LifecycleEvery, "time between lifecycle passes (default 1h)")
	fs.Float64Var(&cfg.LifecycleRate, "lifecycle-rate", cfg.LifecycleRate, "objects a lifecycle pass looks at per second (default 2000; negative: no cap)")
	fs.IntVar(&cfg.ReplicationWorkers, "replication-workers", cfg.ReplicationWorkers, "replica transfers in flight (default 8)")
	fs.DurationVar(&cfg.BodyReadTimeout, "body-read-timeout", cfg.BodyReadTimeout, "a request body sending nothing this long fails with RequestTimeout (default 20s)")
	fs.Var((*stringList)(&cfg.OriginAllow), "origin-allow", "let origin pulls (back-to-source) reach this otherwise refused `CIDR|HOST` (loopback, private, link-local, metadata service; repeatable)")
	fs.DurationVar(&cfg.OriginTimeout, "origin-timeout", cfg.OriginTimeout, "bound on a whole origin pull (default 30m)")
	fs.Int64Var(&cfg.OriginMaxSize, "origin-max-size", cfg.OriginMaxSize, "largest object an origin pull stores, in bytes (default 5 GiB)")
	fs.IntVar(&cfg.MaxConnsPerClient, "max-conns-per-client", cfg.MaxConnsPerClient, "open connections allowed per client IP address (default 256; none behind --trusted-tls-proxy; -1: no cap)")
	fs.StringVar(&cfg.AccessLog, "access-log", cfg.AccessLog, "access log, one line per request: off, stderr (with the server's log) or FILE (JSON lines)")
	fs.StringVar(&cfg.AuditLog, "audit-log", cfg.AuditLog, "audit log FILE (JSON lines): denials, key, user and bucket configuration changes")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", cfg.MetricsToken, "bearer token GET /metrics requires (default: none, metrics are open)")
	bindKMSFlags(fs, &cfg.KMSConfig)
	bindConsoleFlags(fs, cfg)
	bindBlobsFlags(fs, &cfg.BlobsConfig)
	bindKMSCacheFlags(fs, &cfg.KMSCache) // kmscacheflags.go
	bindMetaFlags(fs, &cfg.MetaConfig)
}

// listenAll binds the main listener (key "") and each dialect's.
func listenAll(cfg server.Config) (map[string]net.Listener, error) {
	addrs := server.DialectAddrs(cfg)
	addrs[""] = cfg.Addr
	if cfg.ConsoleAddr != "" {
		addrs[consoleListener] = cfg.ConsoleAddr
	}
	if addrs[""] == "" {
		addrs[""] = ":9000"
	}
	lns := map[string]net.Listener{}
	for name, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns[name] = ln
	}
	return lns, nil
}

func serve(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntil(ctx, args, stdout, stderr)
}

// serveUntil serves until ctx ends (SIGINT/SIGTERM for the command).
func serveUntil(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this `file`, each request labelled with its method and path (for profiling; costs a little CPU)")
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
		cfg.ProfileLabels = true
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	cfg.Logger = log

	// Every listener is bound before anything is written: a start that
	// cannot bind leaves a new data directory (and its root key) uncreated.
	lns, err := listenAll(cfg)
	if err != nil {
		return err
	}
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	fingerprint := ""
	if cfg.TLSSelfSigned {
		if cfg.TLSCert != "" {
			closeAll()
			return errors.New("--tls-self-signed and --tls-cert/--tls-key exclude each other")
		}
		host, _, _ := net.SplitHostPort(cfg.Addr)
		if cfg.TLSCert, cfg.TLSKey, fingerprint, err = server.SelfSignedCert(cfg.DataDir, host); err != nil {
			closeAll()
			return err
		}
	}
	if cfg.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			closeAll()
			return fmt.Errorf("loading TLS key pair: %w", err)
		}
	}
	node, err := server.Open(ctx, cfg)
	if err != nil {
		closeAll()
		return err
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	// The banner comes once every listener is bound and the stores are open.
	fmt.Fprintf(stdout, "strongroom serving %s://%s\n  data directory: %s\n", scheme, lns[""].Addr(), cfg.DataDir)
	if fingerprint != "" {
		fmt.Fprintf(stdout, "  self-signed certificate: %s\n  SHA-256 fingerprint: %s\n", cfg.TLSCert, fingerprint)
	}
	for name, ln := range lns {
		if name != "" && name != consoleListener {
			fmt.Fprintf(stdout, "  %s dialect: %s://%s\n", name, scheme, ln.Addr())
		}
	}
	printConsoleBanner(stdout, scheme, lns[consoleListener])
	printRootBanner(stdout, node, cfg)
	errc := make(chan error, len(lns))
	for name, ln := range lns {
		switch name {
		case "":
			go func() { errc <- node.Serve(ln) }()
		case consoleListener:
			go func() { errc <- node.ServeConsole(ln) }()
		default:
			go func() { errc <- node.ServeDialect(ln, name) }()
		}
	}
	select {
	case err := <-errc:
		node.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return node.Close(sctx)
}
