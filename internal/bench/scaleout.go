package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgserver"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// ScaleOutConfig is a scale-out run (strongroom bench scaleout): the same
// PUT/GET phases on one embedded node and on nodes sharing a PostgreSQL
// database and an S3 data tier, all in this process on loopback, with a
// private PostgreSQL instance (pgserver: its binaries must be installed;
// fsync is off there, as in the tests, while bbolt fsyncs).
type ScaleOutConfig struct {
	WorkDir     string        // parent of the run's directories (default $TMPDIR)
	SmallSize   int           // default 4 KiB
	BigSize     int           // default 64 MiB
	BigCount    int           // big PUTs (then GETs) per store, one at a time (default 3)
	Concurrency int           // workers of the small phases (default 8)
	Duration    time.Duration // each small phase (default 5s)
	Nodes       int           // the aggregate runs 1..Nodes nodes (default 3)
	Serial      int           // serial PUTs counted for round trips (default 200)
	Progress    io.Writer
}

func (c *ScaleOutConfig) defaults() {
	if c.SmallSize <= 0 {
		c.SmallSize = 4 * KiB
	}
	if c.BigSize <= 0 {
		c.BigSize = 64 * MiB
	}
	if c.BigCount <= 0 {
		c.BigCount = 3
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Nodes <= 0 {
		c.Nodes = 3
	}
	if c.Serial <= 0 {
		c.Serial = 200
	}
}

// StoreFigures are one store's single-node figures.
type StoreFigures struct {
	SmallPUT  float64 `json:"small_put_ops_per_s"`
	SmallGET  float64 `json:"small_get_ops_per_s"`
	BigPUT    float64 `json:"big_put_mb_per_s"`
	BigGET    float64 `json:"big_get_mb_per_s"`
	CPUPerPUT float64 `json:"cpu_ms_per_small_put"` // this process (nodes, tier, client), not PostgreSQL
	// PGCPUPerPUT is PostgreSQL's CPU time (postmaster and backends) per
	// small PUT.
	PGCPUPerPUT float64 `json:"pg_cpu_ms_per_small_put,omitempty"`
	Errors      int     `json:"errors"`
}

// NodesFigure is the aggregate of the small phases over n nodes.
type NodesFigure struct {
	Nodes    int     `json:"nodes"`
	SmallPUT float64 `json:"small_put_ops_per_s"`
	SmallGET float64 `json:"small_get_ops_per_s"`
	// ProcessCores is this process's CPU time over wall time during the
	// PUT phase: with 2 cores, what is left is PostgreSQL's (and others').
	ProcessCores float64 `json:"process_cores_put"`
	PGCores      float64 `json:"pg_cores_put"` // PostgreSQL's, the same way
	Errors       int     `json:"errors"`
}

// ScaleOutReport is the outcome of a scale-out run.
type ScaleOutReport struct {
	SmallSize int          `json:"small_size"`
	BigSize   int          `json:"big_size"`
	Embedded  StoreFigures `json:"embedded"`
	ScaleOut  StoreFigures `json:"postgres_s3"`
	// Ratios are ScaleOut / Embedded.
	Ratios    StoreFigures  `json:"ratios"`
	Aggregate []NodesFigure `json:"aggregate"`
	// RoundTripsPerPUT and RoundTripsPerGET count the node's PostgreSQL
	// round trips (a request after an answer, on any connection) over
	// serial small PUTs and GETs.
	RoundTripsPerPUT float64 `json:"pg_round_trips_per_put"`
	RoundTripsPerGET float64 `json:"pg_round_trips_per_get"`
	CPUs             int     `json:"cpus"`
	LoadAvg          string  `json:"loadavg_at_start"` // other work on the machine
	Elapsed          float64 `json:"elapsed_s"`
}

const scaleBucket = "scaleout"

// ScaleOut runs a scale-out comparison.
func ScaleOut(ctx context.Context, cfg ScaleOutConfig) (*ScaleOutReport, error) {
	cfg.defaults()
	start := time.Now()
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp(cfg.WorkDir, "strongroom-scaleout-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rep := &ScaleOutReport{SmallSize: cfg.SmallSize, BigSize: cfg.BigSize, CPUs: runtime.NumCPU(), LoadAvg: loadAvg()}
	data := make([]byte, max(2*cfg.SmallSize*cfg.Concurrency, 8*MiB))
	rand.Read(data)
	cl := newClient(cfg.Concurrency*cfg.Nodes+2, data, "us-east-1")
	rootKey := make([]byte, 32)
	rand.Read(rootKey)
	nodeCfg := func(name string) server.Config {
		return server.Config{DataDir: filepath.Join(dir, name), RootKey: rootKey, Addr: "127.0.0.1:0",
			RootAccessKey: "benchscale", RootSecretKey: "benchscale-secret-" + randHex(8),
			Logger: slog.New(slog.DiscardHandler), NoBackgroundJobs: true}
	}
	var nodes []*loadNode
	defer func() {
		for _, n := range nodes {
			n.close()
		}
	}()
	open := func(c server.Config) (*loadNode, error) {
		n, err := openLoadNode(ctx, c, cl)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		n.ep.bucket = scaleBucket
		return n, n.ready(ctx)
	}

	// The embedded default.
	progress("embedded node: %s PUT/GET for %s, %d × %s", sizeName(int64(cfg.SmallSize)), cfg.Duration, cfg.BigCount, sizeName(int64(cfg.BigSize)))
	emb, err := open(nodeCfg("embedded"))
	if err != nil {
		return nil, err
	}
	if err := emb.ep.createBucket(ctx); err != nil {
		return nil, err
	}
	rep.Embedded = storeFigures(ctx, cfg, []*endpoint{emb.ep}, nil)
	emb.close()

	// PostgreSQL (behind a counting proxy) and the tier node.
	progress("starting PostgreSQL")
	pg, err := pgserver.Start()
	if err != nil {
		return nil, err
	}
	defer pg.Close()
	dbURL, err := pg.NewDB(ctx, "bench_scaleout")
	if err != nil {
		return nil, err
	}
	counter, err := pgserver.NewRoundTripProxy(fmt.Sprintf("127.0.0.1:%d", pg.Port()))
	if err != nil {
		return nil, err
	}
	defer counter.Close()
	u, _ := url.Parse(dbURL)
	u.Host = counter.Addr()
	dbURL = u.String()
	tierCfg := nodeCfg("tier")
	tier, err := open(tierCfg)
	if err != nil {
		return nil, err
	}
	tier.ep.bucket = "tier"
	if err := tier.ep.createBucket(ctx); err != nil {
		return nil, err
	}
	scaleCfg := func(i int) server.Config {
		c := nodeCfg(fmt.Sprintf("node%d", i))
		c.Meta = dbURL
		c.BlobsConfig = server.BlobsConfig{Blobs: "s3://tier/data?endpoint=" + url.QueryEscape(tier.ep.base),
			BlobsAccessKey: tierCfg.RootAccessKey, BlobsSecretKey: tierCfg.RootSecretKey}
		return c
	}
	var scale []*endpoint
	for i := range cfg.Nodes {
		n, err := open(scaleCfg(i))
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if err := n.ep.createBucket(ctx); err != nil {
				return nil, err
			}
		}
		scale = append(scale, n.ep)
	}

	// Round trips per PUT and per GET, serial, on node 0.
	progress("PostgreSQL + S3 tier: round trips over %d serial PUTs and GETs", cfg.Serial)
	before := counter.Trips()
	for i := range cfg.Serial {
		if err := scale[0].put(ctx, fmt.Sprintf("rt/%d", i), 0, cfg.SmallSize, nil); err != nil {
			return nil, err
		}
	}
	mid := counter.Trips()
	for i := range cfg.Serial {
		if _, err := scale[0].get(ctx, fmt.Sprintf("rt/%d", i), cfg.SmallSize, nil, nil); err != nil {
			return nil, err
		}
	}
	rep.RoundTripsPerPUT = float64(mid-before) / float64(cfg.Serial)
	rep.RoundTripsPerGET = float64(counter.Trips()-mid) / float64(cfg.Serial)

	progress("PostgreSQL + S3 tier, one node")
	pgCPU := func() time.Duration { return treeCPU(pg.Pid()) }
	rep.ScaleOut = storeFigures(ctx, cfg, scale[:1], pgCPU)
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	e, s := rep.Embedded, rep.ScaleOut
	rep.Ratios = StoreFigures{SmallPUT: ratio(s.SmallPUT, e.SmallPUT), SmallGET: ratio(s.SmallGET, e.SmallGET),
		BigPUT: ratio(s.BigPUT, e.BigPUT), BigGET: ratio(s.BigGET, e.BigGET), CPUPerPUT: ratio(s.CPUPerPUT, e.CPUPerPUT)}

	for k := 1; k <= cfg.Nodes; k++ {
		progress("aggregate over %d node(s)", k)
		eps := scale[:k]
		cpu0, pg0, t0 := cpuTime(), pgCPU(), time.Now()
		counts := make([]atomic.Int64, cfg.Concurrency*k)
		put := smallPhase(ctx, cfg, eps, "PUT", fmt.Sprintf("agg%d", k), counts)
		wall := time.Since(t0).Seconds()
		cores, pgCores := (cpuTime()-cpu0).Seconds()/wall, (pgCPU()-pg0).Seconds()/wall
		get := smallPhase(ctx, cfg, eps, "GET", fmt.Sprintf("agg%d", k), counts)
		rep.Aggregate = append(rep.Aggregate, NodesFigure{Nodes: k, SmallPUT: put.OpsPerSec, SmallGET: get.OpsPerSec,
			ProcessCores: cores, PGCores: pgCores, Errors: put.Errors + get.Errors})
	}
	rep.Elapsed = time.Since(start).Seconds()
	return rep, nil
}

// storeFigures measures the small and big phases through the endpoints
// (workers spread over them).
func storeFigures(ctx context.Context, cfg ScaleOutConfig, eps []*endpoint, pgCPU func() time.Duration) StoreFigures {
	var f StoreFigures
	if pgCPU == nil {
		pgCPU = func() time.Duration { return 0 }
	}
	cpu0, pg0 := cpuTime(), pgCPU()
	counts := make([]atomic.Int64, cfg.Concurrency*len(eps))
	put := smallPhase(ctx, cfg, eps, "PUT", "one", counts)
	if put.Ops > 0 {
		f.CPUPerPUT = float64((cpuTime() - cpu0).Microseconds()) / 1000 / float64(put.Ops)
		f.PGCPUPerPUT = float64((pgCPU() - pg0).Microseconds()) / 1000 / float64(put.Ops)
	}
	get := smallPhase(ctx, cfg, eps, "GET", "one", counts)
	f.SmallPUT, f.SmallGET, f.Errors = put.OpsPerSec, get.OpsPerSec, put.Errors+get.Errors
	ep := eps[0]
	var putTime, getTime time.Duration
	for i := range cfg.BigCount {
		key := fmt.Sprintf("big/%d", i)
		t0 := time.Now()
		if err := ep.putReader(ctx, key, &genReader{data: ep.client.data, remain: int64(cfg.BigSize)}, int64(cfg.BigSize), nil); err != nil {
			f.Errors++
			continue
		}
		putTime += time.Since(t0)
		t0 = time.Now()
		if _, err := ep.get(ctx, key, cfg.BigSize, nil, nil); err != nil {
			f.Errors++
			continue
		}
		getTime += time.Since(t0)
		ep.delete(ctx, key)
	}
	mb := float64(cfg.BigSize) * float64(cfg.BigCount) / 1e6
	if putTime > 0 && getTime > 0 {
		f.BigPUT, f.BigGET = mb/putTime.Seconds(), mb/getTime.Seconds()
	}
	return f
}

// smallPhase PUTs small objects for cfg.Duration, worker w on endpoint
// w mod len(eps), counting each worker's keys in counts; or GETs those
// keys back (op "GET" with the PUT phase's counts).
func smallPhase(ctx context.Context, cfg ScaleOutConfig, eps []*endpoint, op, tag string, counts []atomic.Int64) Result {
	workers := cfg.Concurrency * len(eps)
	key := func(w, i int) string { return fmt.Sprintf("%s/%d/%d", tag, w, i) }
	return runPhase(ctx, workers, cfg.Duration, func(ctx context.Context, w, i int) (int64, error) {
		ep := eps[w%len(eps)]
		if op == "PUT" {
			off := (w * cfg.SmallSize) % (len(ep.client.data) - cfg.SmallSize)
			if err := ep.put(ctx, key(w, i), off, cfg.SmallSize, nil); err != nil {
				return 0, err
			}
			counts[w].Add(1)
			return int64(cfg.SmallSize), nil
		}
		n := counts[w].Load()
		if n == 0 {
			return 0, fmt.Errorf("worker %d wrote nothing to read", w)
		}
		return ep.get(ctx, key(w, i%int(n)), cfg.SmallSize, nil, nil)
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// treeCPU is the CPU time of process pid and its children (PostgreSQL's
// postmaster and backends), from /proc; 0 where there is no /proc.
func treeCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces): state ppid … utime(14) stime(15).
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		self, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		ppid, _ := strconv.Atoi(f[1])
		if self != pid && ppid != pid {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// WriteJSON prints the report as JSON.
func (r *ScaleOutReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the report for people.
func (r *ScaleOutReport) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	small, big := sizeName(int64(r.SmallSize)), sizeName(int64(r.BigSize))
	fmt.Fprintf(tw, "figure\tembedded\tPostgreSQL + S3\tratio\n")
	row := func(name, unit string, e, s, ratio float64) {
		fmt.Fprintf(tw, "%s (%s)\t%.1f\t%.1f\t%.2f\n", name, unit, e, s, ratio)
	}
	row(small+" PUT", "ops/s", r.Embedded.SmallPUT, r.ScaleOut.SmallPUT, r.Ratios.SmallPUT)
	row(small+" GET", "ops/s", r.Embedded.SmallGET, r.ScaleOut.SmallGET, r.Ratios.SmallGET)
	row(big+" PUT", "MB/s", r.Embedded.BigPUT, r.ScaleOut.BigPUT, r.Ratios.BigPUT)
	row(big+" GET", "MB/s", r.Embedded.BigGET, r.ScaleOut.BigGET, r.Ratios.BigGET)
	row("CPU per "+small+" PUT", "ms, this process", r.Embedded.CPUPerPUT, r.ScaleOut.CPUPerPUT, r.Ratios.CPUPerPUT)
	fmt.Fprintf(tw, "PostgreSQL CPU per %s PUT (ms)\t\t%.1f\t\n", small, r.ScaleOut.PGCPUPerPUT)
	fmt.Fprintf(tw, "\nnodes\t%s PUT ops/s\t%s GET ops/s\tcores during PUT: process + PostgreSQL\terrors\n", small, small)
	for _, a := range r.Aggregate {
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.2f + %.2f of %d\t%d\n", a.Nodes, a.SmallPUT, a.SmallGET, a.ProcessCores, a.PGCores, r.CPUs, a.Errors)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nPostgreSQL round trips: %.2f per %s PUT, %.2f per GET (serial)\n", r.RoundTripsPerPUT, small, r.RoundTripsPerGET)
	if r.Embedded.Errors+r.ScaleOut.Errors > 0 {
		fmt.Fprintf(w, "errors: embedded %d, PostgreSQL + S3 %d\n", r.Embedded.Errors, r.ScaleOut.Errors)
	}
	fmt.Fprintf(w, "elapsed %.1fs on %d CPUs (load average at start %s)\n", r.Elapsed, r.CPUs, r.LoadAvg)
}
