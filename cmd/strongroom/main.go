// Command strongroom is an S3-compatible object storage server that
// encrypts objects at rest.
//
//	strongroom serve [--addr :9000] [--data ./data] [--config FILE] ...
//	strongroom user create NAME [--data ./data]
//	strongroom bench [--endpoint URL] ...
package main

import (
	"context"
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

	"strongroom/internal/server"
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
  strongroom key create|rotate|disable|enable NAME, key list
                                  manage the KMS master keys (--kms builtin|pkcs11)
  strongroom jobs list, jobs run NAME
                                  show or run now the background jobs (lifecycle)
  strongroom bench [flags]        load-benchmark a server
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "user":
		return userCmd(args[1:], stdout, stderr)
	case "key":
		return keyCmd(args[1:], stdout, stderr)
	case "jobs":
		return jobsCmd(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "-h", "--help", "help":
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
	return server.Config{Addr: ":9000", DataDir: "./data", Region: "us-east-1"}
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
	fs.StringVar(&cfg.RootKeyFile, "root-key-file", cfg.RootKeyFile, "file holding the root key (base64 or 32 raw bytes); default: $STRONGROOM_ROOT_KEY, else DATA/root.key")
	fs.BoolVar(&cfg.TrustedTLSProxy, "trusted-tls-proxy", cfg.TrustedTLSProxy, "a TLS-terminating proxy is in front: accept SSE-C over plain HTTP")
	fs.BoolVar(&cfg.InsecureSSEC, "insecure-sse-c", cfg.InsecureSSEC, "accept SSE-C keys over plain HTTP (unsafe)")
	fs.DurationVar(&cfg.LifecycleEvery, "lifecycle-every", cfg.LifecycleEvery, "time between lifecycle passes (default 1h)")
	fs.Float64Var(&cfg.LifecycleRate, "lifecycle-rate", cfg.LifecycleRate, "objects a lifecycle pass looks at per second (default 2000; negative: no cap)")
	fs.DurationVar(&cfg.BodyReadTimeout, "body-read-timeout", cfg.BodyReadTimeout, "a request body sending nothing this long fails with RequestTimeout (default 20s)")
	fs.IntVar(&cfg.MaxConnsPerClient, "max-conns-per-client", cfg.MaxConnsPerClient, "open connections allowed per client IP address (default 256; none behind --trusted-tls-proxy; -1: no cap)")
	bindKMSFlags(fs, &cfg.KMS)
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	cfg.Logger = log

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := node.Listen()
	if err != nil {
		node.Close(context.Background())
		return err
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "strongroom serving %s://%s\n  data directory: %s\n", scheme, ln.Addr(), cfg.DataDir)
	printRootBanner(stdout, node, cfg)
	errc := make(chan error, 4)
	go func() { errc <- node.Serve(ln) }()
	for name, addr := range node.DialectListeners() {
		dl, err := net.Listen("tcp", addr)
		if err != nil {
			node.Close(context.Background())
			return err
		}
		fmt.Fprintf(stdout, "  %s dialect: %s://%s\n", name, scheme, dl.Addr())
		go func() { errc <- node.ServeDialect(dl, name) }()
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
