package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/strongroom-dev/strongroom/internal/bench"
)

const benchLoadUsage = `usage: strongroom bench load [--objects N] [flags]

The scale run: loads N small objects into one node (in this process,
through the service layer, --concurrency loaders) on a fresh data directory
under --work-dir, then reports metadata bytes per object, the start-up time
of the node reopened on that directory, this process's RSS (node and
loader) at rest and under load, 4 KiB PUT/GET rates at N as ratios to the
same run's rates on the empty store (over HTTP on loopback), and
ListObjectsV2 page latency deep in the keyspace. The data directory is
deleted afterwards unless --keep.

--objects 10000000 is the issue's scale run: it needs about 25 GB free in
--work-dir (see README). Every object is a PutObject with its own durable
commit; the group committer shares one fsync among as many as there are
loaders, so --concurrency sets the batch size. By default the keys come in
a scattered order, as from many independent clients; --sorted is the
bulk-import mode (ascending keys, as an import copying a sorted listing):
same API and durability, far fewer pages written per commit.
--sorted --concurrency 256 loads 10M in about 35 minutes on two shared
cores; the default order with 256 loaders about 4,000 objects/s at 200k
and falling as the tree grows.

flags:
`

func benchLoadCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchLoadUsage); fs.PrintDefaults() }
	var cfg bench.LoadConfig
	fs.IntVar(&cfg.Objects, "objects", 1_000_000, "objects to load (N)")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "parent of the data directory (default: $TMPDIR)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the data directory")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "concurrent loaders")
	fs.BoolVar(&cfg.Sorted, "sorted", false, "bulk-import mode: load the keys in ascending order (default: scattered, as many clients)")
	inline := fs.String("inline-size", "1KiB", "size of most objects (kept inline in the metadata)")
	blobSize := fs.String("blob-size", "40KiB", "size of every --blob-every-th object (a blob file)")
	fs.IntVar(&cfg.BlobEvery, "blob-every", 100, "one object in this many is --blob-size (negative: none)")
	probeSize := fs.String("probe-size", "4KiB", "object size of the PUT/GET rate phases")
	fs.IntVar(&cfg.ProbeConcurrency, "probe-concurrency", 8, "concurrent requests of the PUT/GET rate phases")
	fs.DurationVar(&cfg.ProbeDuration, "probe-duration", 0, "duration of each PUT/GET rate phase (default 5s)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load phase to this file")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	check := fs.Bool("check", false, "exit non-zero when a target is missed or a load request failed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench load: unexpected argument %q", fs.Arg(0))
	}
	for _, p := range []struct {
		s   string
		dst *int
	}{{*inline, &cfg.InlineSize}, {*blobSize, &cfg.BlobSize}, {*probeSize, &cfg.ProbeSize}} {
		n, err := parseSize(p.s)
		if err != nil {
			return err
		}
		*p.dst = int(n)
	}
	cfg.Progress = stderr
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.CPUProfile = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Load(ctx, cfg)
	if rep != nil {
		if *asJSON {
			rep.WriteJSON(stdout)
		} else {
			rep.WriteTable(stdout)
		}
	}
	if err != nil {
		return err
	}
	if *check && !rep.Passed() {
		return errors.New("bench load: a target was missed")
	}
	return nil
}
