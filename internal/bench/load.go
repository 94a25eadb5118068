package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/sealed"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// LoadConfig is a scale run (strongroom bench load): N small objects
// loaded into one node, then the node measured at that size.
//
// The node runs in this process. The N objects go in through the service
// layer (service.PutObject, as the HTTP handler calls it, without HTTP
// and SigV4: the fastest honest path, since every object still takes a
// durable metadata commit and, above the inline limit, a durable blob).
// Every figure compared (PUT and GET rates, listings, start-up) is taken
// over HTTP on loopback, the same way on the empty and on the full store.
type LoadConfig struct {
	Objects     int    // N (default 1,000,000)
	WorkDir     string // parent of the data directory (default $TMPDIR)
	Keep        bool   // keep the data directory
	Concurrency int    // loaders (default 64)
	// InlineSize is the size of most objects (stored inside the metadata
	// record); every BlobEvery-th object is BlobSize bytes (a blob file).
	InlineSize int // default 1 KiB
	BlobSize   int // default 40 KiB (above service.InlineMax once framed)
	BlobEvery  int // default 100; 0 or negative: no blobs
	// ProbeSize, ProbeConcurrency and ProbeDuration are the PUT/GET phases
	// compared on the empty and the full store (default 4 KiB, 8, 5s).
	ProbeSize        int
	ProbeConcurrency int
	ProbeDuration    time.Duration
	Progress         io.Writer // progress lines (nil: none)
	// Sorted loads the keys in ascending order, as a bulk import that
	// copies a sorted listing (rclone, aws s3 sync, a backup tool walking a
	// tree) does, instead of the default scattered order of many
	// independent clients. Every object is still a PutObject with its own
	// durable commit through the group committer; only the order differs,
	// so a batch of commits dirties a few adjacent leaf pages instead of
	// one page per object.
	Sorted bool
	// CPUProfile, if set, receives a CPU profile of the load phase.
	CPUProfile io.Writer
}

// LoadReport is the outcome of a scale run.
type LoadReport struct {
	Objects     int     `json:"objects"`
	InlineSize  int     `json:"inline_size"`
	BlobSize    int     `json:"blob_size"`
	BlobEvery   int     `json:"blob_every"`
	BlobObjects int     `json:"blob_objects"`
	Concurrency int     `json:"load_concurrency"`
	Sorted      bool    `json:"load_sorted"` // bulk-import order (LoadConfig.Sorted)
	LoadSeconds float64 `json:"load_s"`
	LoadRate    float64 `json:"load_objects_per_s"`
	LoadErrors  int     `json:"load_errors"`
	// RateCurve is the load rate over each tenth of the objects.
	RateCurve []RateSample `json:"load_rate_curve"`
	DataDir   string       `json:"data_dir"`
	// MetaBytes is meta.db's size after a clean close; InlineBytes the
	// stored bytes of the inline objects it holds.
	MetaBytes          int64   `json:"meta_db_bytes"`
	InlineBytes        int64   `json:"inline_stored_bytes"`
	ProbeObjects       int     `json:"probe_objects"` // PUT by the rate phases, counted in the per-object figures
	MetaPerObject      float64 `json:"meta_bytes_per_object"`
	MetaBeyondInline   float64 `json:"meta_bytes_per_object_beyond_inline"`
	StartupSeconds     float64 `json:"startup_s"`       // stop + reopen: Open to a served request
	StartupEmptySecond float64 `json:"startup_empty_s"` // the same on the empty store
	// StartupAfterCrash is the start-up at N when the last run did not
	// close cleanly (warm page cache in this run).
	StartupAfterCrash float64 `json:"startup_after_crash_s"`
	// RSS of this process (node and loader: one process), from
	// /proc/self/status; Heap is the Go heap in use at the same time.
	RSSEmpty     int64 `json:"rss_empty"`
	RSSLoadPeak  int64 `json:"rss_load_peak"` // VmHWM during the load
	RSSAtRest    int64 `json:"rss_at_rest"`   // after the load, GC'd
	HeapAtRest   int64 `json:"heap_at_rest"`
	RSSAfterOpen int64 `json:"rss_after_reopen"` // the node reopened, before any request
	// The anonymous part (heap, stacks) of the resident set, apart from
	// mapped files (bbolt maps meta.db: page cache the kernel reclaims):
	// the largest sample during the load, and at rest.
	AnonLoadPeak int64 `json:"rss_anon_load_peak"`
	AnonAtRest   int64 `json:"rss_anon_at_rest"`
	FileAtRest   int64 `json:"rss_file_at_rest"`
	// PUT and GET of ProbeSize objects, empty store then full store, in
	// probeRounds rounds; the ratios are of the rounds' total rates.
	Probe       []Result `json:"probe"`
	PutRatio    float64  `json:"put_ratio"`
	GetRatio    float64  `json:"get_ratio"`
	ListNoDelim Latency  `json:"list_deep_no_delimiter"`
	ListDelim   Latency  `json:"list_deep_delimiter"`
	ListInside  Latency  `json:"list_deep_delimiter_in_prefix"`
	Targets     []Figure `json:"targets"`
}

// Latency summarises repeated requests.
type Latency struct {
	Requests int     `json:"requests"`
	Keys     int     `json:"keys_per_page"`
	Prefixes int     `json:"prefixes_per_page"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
}

func (c *LoadConfig) defaults() {
	if c.Objects <= 0 {
		c.Objects = 1_000_000
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.InlineSize <= 0 {
		c.InlineSize = KiB
	}
	if c.BlobSize <= 0 {
		c.BlobSize = 40 * KiB
	}
	if c.BlobEvery == 0 {
		c.BlobEvery = 100
	}
	if c.ProbeSize <= 0 {
		c.ProbeSize = 4 * KiB
	}
	if c.ProbeConcurrency <= 0 {
		c.ProbeConcurrency = 8
	}
	if c.ProbeDuration <= 0 {
		c.ProbeDuration = 5 * time.Second
	}
}

const loadBucket = "scale"

// probeRounds is how many times the empty and full stores' rate phases
// alternate.
const probeRounds = 2

// loadKey names object i of n: 1000 keys per prefix, written in a
// scattered order (a multiplicative permutation) so the tree is filled as
// by many clients, not appended to.
func loadKey(i, n int) string {
	j := int((uint64(i) * 2654435761) % uint64(n))
	if gcd(2654435761%uint64(n), uint64(n)) != 1 {
		j = i
	}
	return fmt.Sprintf("d%06d/o%010d", j/1000, j)
}

// key names object i in the configured order.
func (c *LoadConfig) key(i int) string {
	if c.Sorted {
		return fmt.Sprintf("d%06d/o%010d", i/1000, i)
	}
	return loadKey(i, c.Objects)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// loadNode is the node under test, served on loopback.
type loadNode struct {
	node   *server.Node
	ln     net.Listener
	done   chan error
	ep     *endpoint
	closed sync.Once
	err    error
}

func openLoadNode(ctx context.Context, cfg server.Config, cl *client) (*loadNode, error) {
	n, err := server.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.Close(ctx)
		return nil, err
	}
	ln2 := &loadNode{node: n, ln: ln, done: make(chan error, 1)}
	go func() { ln2.done <- n.Serve(ln) }()
	ln2.ep = &endpoint{client: cl, base: "http://" + ln.Addr().String(), accessKey: cfg.RootAccessKey, secretKey: cfg.RootSecretKey, bucket: loadBucket}
	return ln2, nil
}

// close stops the node; it is safe to call twice.
func (n *loadNode) close() error {
	n.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		n.err = n.node.Close(ctx)
		<-n.done
	})
	return n.err
}

// ready waits for the node to answer a signed request.
func (n *loadNode) ready(ctx context.Context) error {
	for {
		resp, err := n.ep.do(ctx, http.MethodHead, n.ep.url(""), nil, 0, nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
}

// Load runs a scale run.
func Load(ctx context.Context, cfg LoadConfig) (*LoadReport, error) {
	cfg.defaults()
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp(cfg.WorkDir, "strongroom-load-")
	if err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	rootKey := make([]byte, 32)
	rand.Read(rootKey)
	scfg := server.Config{
		DataDir: filepath.Join(dir, "full"), RootKey: rootKey,
		RootAccessKey: "benchload", RootSecretKey: "benchload-secret-" + randHex(8),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	data := make([]byte, max(cfg.ProbeSize, cfg.BlobSize, cfg.InlineSize)*2)
	rand.Read(data)
	cl := newClient(cfg.ProbeConcurrency*2, data, "us-east-1")
	rep := &LoadReport{Objects: cfg.Objects, InlineSize: cfg.InlineSize, BlobSize: cfg.BlobSize, BlobEvery: cfg.BlobEvery, Concurrency: cfg.Concurrency, Sorted: cfg.Sorted, DataDir: dir}

	// The node loaded, and one that stays empty: the empty store's rates
	// are measured on it, in phases interleaved with the full store's
	// after the load, so load from elsewhere on a shared machine skews
	// both sides of a ratio alike.
	ecfg := scfg
	ecfg.DataDir = filepath.Join(dir, "empty")
	t0 := time.Now()
	empty, err := openLoadNode(ctx, ecfg, cl)
	if err != nil {
		return nil, err
	}
	defer empty.close()
	if err := empty.ready(ctx); err != nil {
		return nil, err
	}
	rep.StartupEmptySecond = time.Since(t0).Seconds()
	n, err := openLoadNode(ctx, scfg, cl)
	if err != nil {
		return nil, err
	}
	for _, e := range []*endpoint{empty.ep, n.ep} {
		if err := e.createBucket(ctx); err != nil {
			n.close()
			return nil, err
		}
	}
	rep.RSSEmpty = currentRSS(os.Getpid())

	resetPeakRSS(os.Getpid())
	stopProfile, err := startProfile(cfg.CPUProfile)
	if err != nil {
		n.close()
		return rep, err
	}
	err = load(ctx, n.node.Service, commitStatsOf(n.node.Meta()), cfg, rep, progress)
	stopProfile()
	if err != nil {
		n.close()
		return rep, err
	}
	rep.RSSLoadPeak = peakRSS(os.Getpid())
	runtime.GC()
	debug.FreeOSMemory()
	rep.RSSAtRest = currentRSS(os.Getpid())
	rep.AnonAtRest, rep.FileAtRest = procStatus(os.Getpid(), "RssAnon"), procStatus(os.Getpid(), "RssFile")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.HeapAtRest = int64(ms.HeapInuse)
	var sums [4]Result // empty PUT, empty GET, full PUT, full GET
	for round := range probeRounds {
		progress("%d B PUT and GET, %d workers, %s each: empty store, then full (round %d of %d)", cfg.ProbeSize, cfg.ProbeConcurrency, cfg.ProbeDuration, round+1, probeRounds)
		ep, eg := probe(ctx, empty.ep, cfg, fmt.Sprintf("probe%d/", round), "empty")
		fp, fg := probe(ctx, n.ep, cfg, fmt.Sprintf("probe%d/", round), "full")
		rep.Probe = append(rep.Probe, ep, eg, fp, fg)
		for i, r := range []Result{ep, eg, fp, fg} {
			sums[i].Ops += r.Ops
			sums[i].Seconds += r.Seconds
		}
		rep.ProbeObjects += fp.Ops
	}
	empty.close()
	rate := func(r Result) float64 { return float64(r.Ops) / r.Seconds }
	rep.PutRatio = ratio(rate(sums[2]), rate(sums[0]))
	rep.GetRatio = ratio(rate(sums[3]), rate(sums[1]))

	progress("listings deep in the keyspace")
	last := cfg.Objects - 1
	deep := fmt.Sprintf("d%06d/o%010d", max(0, last-1500)/1000, max(0, last-1500))
	rep.ListNoDelim = listLatency(ctx, n.ep, url.Values{"list-type": {"2"}, "start-after": {deep}})
	rep.ListDelim = listLatency(ctx, n.ep, url.Values{"list-type": {"2"}, "delimiter": {"/"}, "start-after": {fmt.Sprintf("d%06d/", max(0, last/1000-1000))}})
	rep.ListInside = listLatency(ctx, n.ep, url.Values{"list-type": {"2"}, "delimiter": {"/"}, "prefix": {fmt.Sprintf("d%06d/", last/1000)}, "start-after": {deep}})

	// Stop and reopen: the start-up time at N.
	progress("stop and reopen")
	if err := n.close(); err != nil {
		return rep, err
	}
	st, err := os.Stat(filepath.Join(scfg.DataDir, "meta.db"))
	if err != nil {
		return rep, err
	}
	rep.MetaBytes = st.Size()
	// The probe objects are in meta.db too: counted in, with their
	// inline bytes.
	if stored := sealed.PlainSize(int64(cfg.ProbeSize), 0); stored <= service.InlineMax {
		rep.InlineBytes += int64(rep.ProbeObjects) * stored
	}
	stored := float64(cfg.Objects + rep.ProbeObjects)
	rep.MetaPerObject = float64(rep.MetaBytes) / stored
	rep.MetaBeyondInline = float64(rep.MetaBytes-rep.InlineBytes) / stored
	runtime.GC()
	debug.FreeOSMemory()
	rep.StartupSeconds, err = restart(ctx, scfg, cl, func() { rep.RSSAfterOpen = currentRSS(os.Getpid()) })
	if err != nil {
		return rep, err
	}
	progress("reopen after a simulated crash")
	if err := dropFreelist(filepath.Join(scfg.DataDir, "meta.db")); err != nil {
		return rep, err
	}
	if rep.StartupAfterCrash, err = restart(ctx, scfg, cl, nil); err != nil {
		return rep, err
	}
	rep.judge()
	return rep, nil
}

// restart opens the node on its data directory, waits until it serves a
// request and closes it again, returning the seconds to the first answer;
// opened runs as soon as Open returns.
func restart(ctx context.Context, cfg server.Config, cl *client, opened func()) (float64, error) {
	t0 := time.Now()
	n, err := openLoadNode(ctx, cfg, cl)
	if err != nil {
		return 0, err
	}
	if opened != nil {
		opened()
	}
	if err := n.ready(ctx); err != nil {
		n.close()
		return 0, err
	}
	d := time.Since(t0).Seconds()
	return d, n.close()
}

// dropFreelist leaves meta.db as a crash does: a commit with the store's
// own options, then the file closed without the store's Close.
func dropFreelist(path string) error {
	db, err := bbolt.Open(path, 0o600, bolt.OpenOptions())
	if err != nil {
		return err
	}
	if err := db.Update(func(*bbolt.Tx) error { return nil }); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// probe measures PUT then GET of ProbeSize objects under prefix.
func probe(ctx context.Context, ep *endpoint, cfg LoadConfig, prefix, store string) (put, get Result) {
	counts := make([]atomic.Int64, cfg.ProbeConcurrency)
	key := func(w, i int) string { return fmt.Sprintf("%sw%02d/%09d", prefix, w, i) }
	put = runPhase(ctx, cfg.ProbeConcurrency, cfg.ProbeDuration, func(ctx context.Context, w, i int) (int64, error) {
		off := (w*7919 + i*31) % (len(ep.client.data) - cfg.ProbeSize)
		if err := ep.put(ctx, key(w, i), off, cfg.ProbeSize, nil); err != nil {
			return 0, err
		}
		counts[w].Store(int64(i + 1))
		return int64(cfg.ProbeSize), nil
	})
	put.Target, put.Op, put.Size, put.Mode = "strongroom", "PUT", int64(cfg.ProbeSize), store
	get = runPhase(ctx, cfg.ProbeConcurrency, cfg.ProbeDuration, func(ctx context.Context, w, i int) (int64, error) {
		n := int(counts[w].Load())
		if n == 0 {
			return 0, fmt.Errorf("worker %d wrote nothing", w)
		}
		// A scattered order over what the worker wrote.
		return ep.get(ctx, key(w, int((uint64(i)*2654435761)%uint64(n))), cfg.ProbeSize, nil, nil)
	})
	get.Target, get.Op, get.Size, get.Mode = "strongroom", "GET", int64(cfg.ProbeSize), store
	return put, get
}

// load puts N objects through the service layer.
func load(ctx context.Context, svc *service.Service, commits func() bolt.CommitStats, cfg LoadConfig, rep *LoadReport, progress func(string, ...any)) error {
	var (
		next, done, errs atomic.Int64
		inline, blobs    atomic.Int64
		firstErr         error
		errOnce          sync.Once
		wg               sync.WaitGroup
	)
	payload := make([]byte, max(cfg.InlineSize, cfg.BlobSize)+4096)
	rand.Read(payload)
	root := service.Principal{User: "root", Root: true}
	start := time.Now()
	curve := newRateCurve(int64(cfg.Objects), start)
	stop := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		lastCS, lastDone := commits(), int64(0)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				rep.AnonLoadPeak = max(rep.AnonLoadPeak, procStatus(os.Getpid(), "RssAnon"))
				if n%5 != 0 {
					continue
				}
				d, el := done.Load(), time.Since(start).Seconds()
				eta := time.Duration(float64(int64(cfg.Objects)-d) / (float64(d) / el) * float64(time.Second))
				cs := commits()
				progress("loaded %d/%d (%.0f/s, last 5 s %.0f/s, %s, rss %d MiB, eta %s)", d, cfg.Objects, float64(d)/el, float64(d-lastDone)/5, commitSplit(lastCS, cs), currentRSS(os.Getpid())>>20, eta.Round(time.Second))
				lastCS, lastDone = cs, d
			}
		}
	}()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= cfg.Objects {
					return
				}
				size := cfg.InlineSize
				if cfg.BlobEvery > 0 && i%cfg.BlobEvery == cfg.BlobEvery-1 {
					size = cfg.BlobSize
				}
				off := (i * 61) % (len(payload) - size)
				o, err := svc.PutObject(ctx, root, service.PutObjectInput{
					Bucket: loadBucket, Key: cfg.key(i),
					Body: service.Body{Reader: bytes.NewReader(payload[off : off+size]), Size: int64(size)},
				})
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					if errs.Load() > 100 {
						return
					}
					continue
				}
				countStored(o, &inline, &blobs)
				curve.add(done.Add(1))
			}
		}()
	}
	wg.Wait()
	close(stop)
	sampled.Wait()
	el := time.Since(start)
	rep.LoadSeconds = el.Seconds()
	rep.LoadRate = float64(done.Load()) / el.Seconds()
	rep.LoadErrors = int(errs.Load())
	rep.RateCurve = curve.samples()
	rep.InlineBytes = inline.Load()
	rep.BlobObjects = int(blobs.Load())
	progress("loaded %d objects in %s (%.0f/s), %d errors", done.Load(), el.Round(time.Second), rep.LoadRate, rep.LoadErrors)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if firstErr != nil && errs.Load() > 100 {
		return fmt.Errorf("bench load: too many errors: %w", firstErr)
	}
	return nil
}

// countStored adds o's inline bytes, or counts it as a blob object.
func countStored(o *meta.Object, inline, blobs *atomic.Int64) {
	for _, p := range o.Parts {
		if p.BlobID != "" {
			blobs.Add(1)
			return
		}
		inline.Add(int64(len(p.Inline)))
	}
}

// listLatency times ListObjectsV2 pages with q.
func listLatency(ctx context.Context, ep *endpoint, q url.Values) Latency {
	const reqs = 20
	var lats []time.Duration
	var l Latency
	for range reqs {
		t0 := time.Now()
		resp, err := ep.do(ctx, http.MethodGet, ep.url("")+"?"+q.Encode(), nil, 0, nil)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		lats = append(lats, time.Since(t0))
		l.Keys = bytes.Count(body, []byte("<Key>"))
		l.Prefixes = bytes.Count(body, []byte("<CommonPrefixes>"))
	}
	slices.Sort(lats)
	l.Requests = len(lats)
	l.P50ms, l.P99ms = ms(quantile(lats, 0.5)), ms(quantile(lats, 0.99))
	return l
}

// judge sets the targets at N.
func (r *LoadReport) judge() {
	pass := func(ok bool) *bool { return &ok }
	r.Targets = []Figure{
		{Name: "4 KiB PUT at N / empty", Unit: "ratio", Value: r.PutRatio, Target: ">= 0.8", Pass: pass(r.PutRatio >= 0.8)},
		{Name: "4 KiB GET at N / empty", Unit: "ratio", Value: r.GetRatio, Target: ">= 0.8", Pass: pass(r.GetRatio >= 0.8)},
		{Name: "start-up at N", Unit: "s", Value: r.StartupSeconds, Target: "< 5", Pass: pass(r.StartupSeconds < 5)},
		{Name: "metadata per object beyond inline bytes", Unit: "bytes", Value: r.MetaBeyondInline, Target: "<= 1024", Pass: pass(r.MetaBeyondInline <= 1024)},
	}
}

// Passed reports whether every target was met.
func (r *LoadReport) Passed() bool {
	for _, f := range r.Targets {
		if f.Pass != nil && !*f.Pass {
			return false
		}
	}
	return r.LoadErrors == 0
}

// WriteJSON writes the report as JSON.
func (r *LoadReport) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteTable writes the report for people.
func (r *LoadReport) WriteTable(w io.Writer) {
	mib := func(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/MiB) }
	fmt.Fprintf(w, "objects            %d (%d B inline, every %dth %d B as a blob: %d blobs)\n", r.Objects, r.InlineSize, r.BlobEvery, r.BlobSize, r.BlobObjects)
	order := "scattered key order, as many independent clients"
	if r.Sorted {
		order = "BULK-IMPORT MODE: keys in ascending order, as a sorted import"
	}
	fmt.Fprintf(w, "load               %.1f s, %.0f objects/s, %d errors (service layer PutObject, one durable commit each, %d loaders, %s)\n", r.LoadSeconds, r.LoadRate, r.LoadErrors, r.Concurrency, order)
	if len(r.RateCurve) > 0 {
		fmt.Fprintf(w, "load rate by tenth ")
		for _, c := range r.RateCurve {
			fmt.Fprintf(w, " %d:%.0f/s", c.Objects, c.Rate)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "meta.db            %d bytes: %.0f B/object, %.0f B/object beyond %d inline bytes (%d probe objects counted in)\n", r.MetaBytes, r.MetaPerObject, r.MetaBeyondInline, r.InlineBytes, r.ProbeObjects)
	fmt.Fprintf(w, "start-up           %.3f s at N (%.3f s empty; %.3f s at N after a crash)\n", r.StartupSeconds, r.StartupEmptySecond, r.StartupAfterCrash)
	fmt.Fprintf(w, "RSS (one process)  empty %s, load peak %s (anonymous %s), at rest %s (anonymous %s, Go heap %s, mapped files %s), reopened %s\n",
		mib(r.RSSEmpty), mib(r.RSSLoadPeak), mib(r.AnonLoadPeak), mib(r.RSSAtRest), mib(r.AnonAtRest), mib(r.HeapAtRest), mib(r.FileAtRest), mib(r.RSSAfterOpen))
	for _, p := range r.Probe {
		fmt.Fprintf(w, "%-4s %-12s      %.0f ops/s, p50 %.2f ms, p99 %.2f ms, %d errors\n", p.Op, p.Mode, p.OpsPerSec, p.P50ms, p.P99ms, p.Errors)
	}
	for _, l := range []struct {
		name string
		l    Latency
	}{{"list deep", r.ListNoDelim}, {"list deep /", r.ListDelim}, {"list in prefix /", r.ListInside}} {
		fmt.Fprintf(w, "%-18s p50 %.2f ms, p99 %.2f ms (%d keys, %d prefixes per page)\n", l.name, l.l.P50ms, l.l.P99ms, l.l.Keys, l.l.Prefixes)
	}
	for _, f := range r.Targets {
		verdict := "PASS"
		if f.Pass != nil && !*f.Pass {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "target %-40s %10.3f %-6s %-7s %s\n", f.Name, f.Value, f.Unit, f.Target, verdict)
	}
}
