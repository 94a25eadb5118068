package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom-dev/strongroom/internal/bench"
	"github.com/strongroom-dev/strongroom/internal/server"
)

const benchUsage = `usage: strongroom bench [flags]

Load-benchmarks a strongroom server and, in the same run, two yardsticks:
a bare net/http server (a process of its own) moving the same bodies with
the same client, and a bare durable-file-create loop (write 4 KiB, fsync,
rename, fsync dir).
By default it starts its own server as a child process on a temporary data
directory (so it can read the server's peak RSS); --endpoint targets a
running server instead.

flags:
`

func benchCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "load" {
		return benchLoadCmd(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "scaleout" {
		return benchScaleOutCmd(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "yardstick" {
		return bench.ServeYardstick(args[1:], stdout) // the bench's own child
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var cfg bench.Config
	var kmsCfg server.KMSConfig
	quick := fs.Bool("quick", false, "short run for CI (~25s): 1.5s per phase")
	fs.DurationVar(&cfg.Duration, "duration", 6*time.Second, "duration of each phase")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrent requests for 4 KiB objects")
	fs.IntVar(&cfg.Streams, "streams", 4, "concurrent requests for 1 MiB and 64 MiB objects")
	sse := fs.String("sse", "none", "encryption modes to run, comma-separated: "+strings.Join(bench.ModeNames, ", "))
	fs.BoolVar(&cfg.Big, "big", false, "also upload (and read back) one --big-size object and report the server's peak RSS during it")
	bigSize := fs.String("big-size", "4GiB", "size of the --big object")
	small := fs.String("small", "4KiB", "small object size")
	medium := fs.String("medium", "1MiB", "medium object size")
	large := fs.String("large", "64MiB", "large object size")
	only := fs.String("only", "", "run only these object sizes or named phases (kms, keyjobs), comma-separated (e.g. 4KiB, to profile one figure)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	check := fs.Bool("check", false, "exit non-zero when a target is missed or a request failed")
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "URL of a running server (default: start a child server)")
	fs.StringVar(&cfg.AccessKey, "access-key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key for --endpoint")
	fs.StringVar(&cfg.SecretKey, "secret-key", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret key for --endpoint")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "signing region")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "with --endpoint: pid of the server, to report its peak RSS")
	fs.StringVar(&cfg.ServerCPUProfile, "server-cpuprofile", "", "write the child server's CPU profile to this `file`, each request labelled op=METHOD and path=/BUCKET/MODE[-rROUND] (see docs/ARCHITECTURE.md, Performance choices)")
	serverBin := fs.String("server", "", "strongroom binary for the child server (default: this executable)")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "directory for the child's data and the durable-create yardstick (default: $TMPDIR)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the work directory")
	fs.BoolVar(&cfg.Verify, "verify", false, "check the bytes of every GET (costs client CPU)")
	fs.BoolVar(&cfg.Versioned, "versioned", false, "also run each PUT and GET phase on a versioned bucket and report the ratio")
	fs.BoolVar(&cfg.TLS, "tls", false, "serve the child server and the net/http yardstick over HTTPS (a self-signed certificate made for the run), so 4 KiB GET is compared with its TLS yardstick")
	bindKMSFlags(fs, &kmsCfg)
	bindRoundFlags(fs, &cfg)
	bindBenchPhaseFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Endpoint != "" && cfg.ServerCPUProfile != "" {
		return errors.New("bench: --server-cpuprofile profiles the child server; with --endpoint there is none")
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			cfg.Duration = 1500 * time.Millisecond
		}
	}
	for _, p := range []struct {
		s   string
		dst *int
	}{{*small, &cfg.SmallSize}, {*medium, &cfg.MediumSize}, {*large, &cfg.LargeSize}} {
		n, err := parseSize(p.s)
		if err != nil {
			return err
		}
		*p.dst = int(n)
	}
	n, err := parseSize(*bigSize)
	if err != nil {
		return err
	}
	cfg.BigSize = n
	for _, name := range strings.Split(*sse, ",") {
		m, err := bench.LookupMode(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		cfg.Modes = append(cfg.Modes, m)
	}
	if *serverBin != "" {
		cfg.ServerCmd = []string{*serverBin}
	}
	switch {
	case kmsCfg.KMS != server.KMSBuiltin:
		// An external key provider: the SSE-KMS modes also run on a second
		// child server using it, reported as ratios to the builtin keyring.
		cfg.Providers = append(cfg.Providers, bench.ProviderRun{Name: kmsCfg.KMS, ServeArgs: kmsServeArgs(kmsCfg)})
	case kmsCfg != (server.KMSConfig{KMS: server.KMSBuiltin}):
		return errors.New("bench: the --pkcs11-* and --kmip-* flags need --kms pkcs11 or --kms kmip")
	}
	if err := benchOnly(*only, fs, &cfg); err != nil {
		return err
	}
	cfg.Progress = stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if rep != nil && len(rep.Figures) > 0 || err == nil {
		if *asJSON {
			rep.WriteJSON(stdout)
		} else {
			fmt.Fprintln(stderr)
			rep.WriteTable(stdout)
		}
	}
	if err != nil {
		return err
	}
	if *check && !rep.Passed() {
		return errors.New("bench: a target was missed")
	}
	return nil
}

// parseSize parses "4KiB", "64MiB", "4GiB", "1000" (bytes), also KB/MB/GB
// and K/M/G as binary units.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
