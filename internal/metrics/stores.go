package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// ModeLabel names a stored encryption mode (meta.Encryption.Mode) as
// operators know it.
func ModeLabel(mode string) string {
	switch mode {
	case "":
		return "none"
	case "managed":
		return "SSE-S3"
	case "kms":
		return "SSE-KMS"
	case "customer":
		return "SSE-C"
	}
	return mode
}

// AlgorithmLabel names a data algorithm ("none" for plaintext).
func AlgorithmLabel(alg string) string {
	if alg == "" {
		return "none"
	}
	return alg
}

// objectCollector reads the store's object counters at scrape time.
type objectCollector struct {
	src          meta.ObjectStats
	objects, siz *prometheus.Desc
}

// WatchObjects exports the store's object counters per encryption class:
// strongroom_objects and strongroom_object_bytes{mode, algorithm}. The
// counters are kept by the store itself; a scrape reads them, it never
// scans objects.
func (r *Registry) WatchObjects(src meta.ObjectStats) error {
	labels := []string{"mode", "algorithm"}
	return r.reg.Register(&objectCollector{
		src: src,
		objects: prometheus.NewDesc(Namespace+"_objects",
			"Stored object versions (noncurrent included, delete markers not), by encryption mode and data algorithm.", labels, nil),
		siz: prometheus.NewDesc(Namespace+"_object_bytes",
			"Plaintext bytes of the stored object versions, by encryption mode and data algorithm.", labels, nil),
	})
}

func (c *objectCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.objects
	ch <- c.siz
}

func (c *objectCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	stats, err := c.src.ObjectStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.objects, fmt.Errorf("reading object counters: %w", err))
		return
	}
	type class struct{ mode, alg string }
	sums := map[class][2]int64{}
	// Every mode shows, at zero when the store holds none of it.
	for _, m := range []string{"", "managed", "kms", "customer"} {
		alg := "AES256"
		if m == "" {
			alg = ""
		}
		sums[class{ModeLabel(m), AlgorithmLabel(alg)}] = [2]int64{}
	}
	for _, s := range stats {
		k := class{ModeLabel(s.Mode), AlgorithmLabel(s.Algorithm)}
		v := sums[k]
		sums[k] = [2]int64{v[0] + s.Objects, v[1] + s.Bytes}
	}
	for k, v := range sums {
		ch <- prometheus.MustNewConstMetric(c.objects, prometheus.GaugeValue, float64(v[0]), k.mode, k.alg)
		ch <- prometheus.MustNewConstMetric(c.siz, prometheus.GaugeValue, float64(v[1]), k.mode, k.alg)
	}
}

// ObjectKeyCache is what the object-key cache reports (sse.Sealer).
type ObjectKeyCache interface {
	ObjectKeyLookups() sse.ObjectKeyLookups
	CachedObjectKeys() (sseS3, underBucketKeys int)
}

// keyCacheCollector reads the object-key cache's counts at scrape time,
// each once.
type keyCacheCollector struct {
	src           ObjectKeyCache
	lookups, keys *prometheus.Desc
}

// WatchObjectKeyCache exports the object-key cache:
// strongroom_object_key_cache_lookups_total{kind, result}, the reads that
// looked for their object key there, and strongroom_object_key_cache_keys
// {kind}, the keys it holds (kind: sse-s3, bucket-key).
func (r *Registry) WatchObjectKeyCache(src ObjectKeyCache) error {
	return r.reg.Register(&keyCacheCollector{
		src: src,
		lookups: prometheus.NewDesc(Namespace+"_object_key_cache_lookups_total",
			"Reads of SSE-S3 and bucket-key objects that looked for their object key in the cache, by kind and result (a miss unwraps it: a KMS call for SSE-S3).", []string{"kind", "result"}, nil),
		keys: prometheus.NewDesc(Namespace+"_object_key_cache_keys",
			fmt.Sprintf("Object keys the cache holds, by kind (at most %d in all: a working set larger than that misses).", sse.MaxObjectKeys), []string{"kind"}, nil),
	})
}

func (c *keyCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lookups
	ch <- c.keys
}

func (c *keyCacheCollector) Collect(ch chan<- prometheus.Metric) {
	l := c.src.ObjectKeyLookups()
	for _, v := range []struct {
		n            uint64
		kind, result string
	}{
		{l.ManagedHits, "sse-s3", "hit"}, {l.ManagedMisses, "sse-s3", "miss"},
		{l.BucketKeyHits, "bucket-key", "hit"}, {l.BucketKeyMisses, "bucket-key", "miss"},
	} {
		ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(v.n), v.kind, v.result)
	}
	managed, underBK := c.src.CachedObjectKeys()
	ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(managed), "sse-s3")
	ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(underBK), "bucket-key")
}

// jobCollector reads the background jobs' state at scrape time.
type jobCollector struct {
	e                                            *jobs.Engine
	running, lastPass, nextRun, passes, failures *prometheus.Desc
	items, backlog                               *prometheus.Desc
}

// WatchJobs exports the state of the engine's jobs (strongroom_job_*).
func (r *Registry) WatchJobs(e *jobs.Engine) error {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_job_"+name, help, append([]string{"job"}, labels...), nil)
	}
	return r.reg.Register(&jobCollector{
		e:        e,
		running:  d("running", "1 while a pass of the job is in progress (here or on another node sharing the store)."),
		lastPass: d("last_pass_timestamp_seconds", "End of the job's last complete pass (Unix time; 0: never)."),
		nextRun:  d("next_run_timestamp_seconds", "When the job's next pass (or retry) is due (Unix time)."),
		passes:   d("passes_total", "Complete passes of the job."),
		failures: d("consecutive_failures", "Failed steps since the job's last successful one (retried with backoff)."),
		items:    d("items_total", "What the job's passes did, by counter (expired, aborted, ...).", "count"),
		backlog:  d("backlog", "Items waiting for the job (only jobs that keep a queue)."),
	})
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.running, c.lastPass, c.nextRun, c.passes, c.failures, c.items, c.backlog} {
		ch <- d
	}
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	states, err := c.e.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.running, fmt.Errorf("reading job state: %w", err))
		return
	}
	for _, j := range states {
		running := 0.0
		if !j.PassStarted.IsZero() {
			running = 1
		}
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, running, j.Name)
		ch <- prometheus.MustNewConstMetric(c.lastPass, prometheus.GaugeValue, unixTime(j.LastPass), j.Name)
		ch <- prometheus.MustNewConstMetric(c.nextRun, prometheus.GaugeValue, unixTime(j.NextRun), j.Name)
		ch <- prometheus.MustNewConstMetric(c.passes, prometheus.CounterValue, float64(j.Passes), j.Name)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(j.Failures), j.Name)
		for name, n := range j.Total {
			ch <- prometheus.MustNewConstMetric(c.items, prometheus.CounterValue, float64(n), j.Name, name)
		}
		n, ok, err := c.e.Backlog(ctx, j.Name)
		switch {
		case err != nil:
			ch <- prometheus.NewInvalidMetric(c.backlog, fmt.Errorf("job %s backlog: %w", j.Name, err))
		case ok:
			ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(n), j.Name)
		}
	}
}

// unixTime is t in Unix seconds, 0 for the zero time.
func unixTime(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
