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
	"time"

	"github.com/strongroom-dev/strongroom/internal/bench"
)

const benchScaleOutUsage = `usage: strongroom bench scaleout [flags]

The scale-out comparison, all in this process on loopback: small-object
PUT/GET ops/s and big-object PUT/GET MB/s on one node with the embedded
default, then on nodes sharing a private PostgreSQL instance (started from
the installed server binaries, fsync off) and an S3 data tier (another
node), as ratios; the aggregate small-object rates of 1..--nodes such
nodes; and the PostgreSQL round trips of one PUT and one GET, counted on
the wire by a proxy in front of the database.

flags:
`

func benchScaleOutCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench scaleout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchScaleOutUsage); fs.PrintDefaults() }
	var cfg bench.ScaleOutConfig
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "parent of the run's directories (default: $TMPDIR)")
	small := fs.String("small-size", "4KiB", "size of the small objects")
	big := fs.String("big-size", "64MiB", "size of the big objects")
	fs.IntVar(&cfg.BigCount, "big-count", 3, "big objects PUT then GET, one at a time, per store")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrent small requests per node")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "duration of each small phase")
	fs.IntVar(&cfg.Nodes, "nodes", 3, "the aggregate runs 1..nodes nodes")
	fs.IntVar(&cfg.Serial, "serial", 200, "serial PUTs and GETs over which round trips are counted")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench scaleout: unexpected argument %q", fs.Arg(0))
	}
	for _, p := range []struct {
		s   string
		dst *int
	}{{*small, &cfg.SmallSize}, {*big, &cfg.BigSize}} {
		n, err := parseSize(p.s)
		if err != nil {
			return err
		}
		*p.dst = int(n)
	}
	cfg.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.ScaleOut(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	rep.WriteTable(stdout)
	return nil
}
