package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/sealed"
)

// Key job rates (Config.KeyJobs, `strongroom bench --only keyjobs`): the
// bench fills a bucket with SSE-KMS objects under a key of its own,
// rotates the key and times `key rewrap` over them (metadata only:
// objects/s), then fills another with bigger objects and times `key
// reencrypt` (data rewritten: MB/s), beside the sealing limit of
// AES-256-GCM measured in the same run. Both jobs run in the server, as
// the key commands start them, through its admin API.

// DefaultKeyJobObjects is the rewrap's object count by default (about
// 30 s in all on a small machine); the figure is over 100000
// (--keyjob-objects 100000). Re-encrypt runs over a tenth as many objects
// of KeyJobObjectSize.
const (
	DefaultKeyJobObjects = 4000
	KeyJobObjectSize     = 4 * KiB
	ReencryptObjectSize  = 256 * KiB
)

// KeyJobReport is what the key job phase measured.
type KeyJobReport struct {
	Key string `json:"key"`
	// The rewrap's objects (KeyJobObjectSize bytes, a third with a bucket
	// key) and the rate they were written at.
	RewrapObjects int     `json:"rewrap_objects"`
	FillPerSec    float64 `json:"fill_objects_per_s"`
	RewrapDone    int64   `json:"rewrap_done"`
	Rewrapped     int64   `json:"rewrapped"`
	RewrapSeconds float64 `json:"rewrap_s"`
	RewrapPerSec  float64 `json:"rewrap_objects_per_s"`
	// RewrapCounts is the pass's outcomes (rewrapped, changed, failed...).
	RewrapCounts map[string]int64 `json:"rewrap_counts"`

	ReencryptObjects int              `json:"reencrypt_objects"`
	ReencryptSize    int64            `json:"reencrypt_object_size"`
	Reencrypted      int64            `json:"reencrypted"`
	ReencryptSeconds float64          `json:"reencrypt_s"`
	ReencryptMBps    float64          `json:"reencrypt_mb_per_s"`
	ReencryptCounts  map[string]int64 `json:"reencrypt_counts"`
	// SealMBps is one stream of AES-256-GCM sealing (internal/sealed) in
	// this process: the limit re-encrypt is measured against.
	SealMBps        float64 `json:"seal_aes256gcm_mb_per_s"`
	ReencryptVsSeal float64 `json:"reencrypt_vs_seal"`
}

const keyJobKey = "bench-keyjobs"

// adminPrefix is the server's admin API (server.AdminPrefix).
const adminPrefix = "/_strongroom/admin/v1/"

// admin calls the server's admin API as root (the bench's credentials).
func (e *endpoint) admin(ctx context.Context, method, path string, q url.Values) ([]byte, error) {
	u := e.base + adminPrefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, http.NoBody)
	if err != nil {
		return nil, err
	}
	empty := sha256.Sum256(nil)
	auth.SignV4(req, e.accessKey, e.secretKey, e.client.region, time.Now(), hex.EncodeToString(empty[:]))
	resp, err := e.client.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MiB))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin %s %s: %s: %s", method, path, resp.Status, body)
	}
	return body, nil
}

// keyJobStatus is the part of the server's key job status the bench reads.
type keyJobStatus struct {
	Running   bool
	Done      int64
	Counts    map[string]int64
	Passes    int64
	LastPass  time.Time
	LastError string
}

func (e *endpoint) keyJobStatus(ctx context.Context, job string) (*keyJobStatus, error) {
	body, err := e.admin(ctx, http.MethodGet, "keyjobs/"+job, nil)
	if err != nil {
		return nil, err
	}
	st := new(keyJobStatus)
	return st, json.Unmarshal(body, st)
}

// runKeyJobTries is runKeyJob until a pass reports its own counts: the
// node's engine may run the job's first scheduled pass (no request, no
// counts) right after the measured one, having found it due before (the
// engine's RunDue does not look again once it has the job's lock), and
// that pass's empty status hides the measured one's. prepare runs before
// each try (a rewrap needs a newer key version to move to).
func (e *endpoint) runKeyJobTries(ctx context.Context, op, job string, q url.Values, want int64, prepare func() error) (st *keyJobStatus, took time.Duration, err error) {
	for try := 0; try < 3; try++ {
		if prepare != nil {
			if err := prepare(); err != nil {
				return nil, 0, err
			}
		}
		st, took, err = e.runKeyJob(ctx, op, job, q, want)
		if err != nil || st.Counts["total"] > 0 {
			return st, took, err
		}
	}
	return st, took, err
}

// runKeyJob starts a key job (POST keys/OP) and waits for its pass over
// want versions to end; took runs from the request to the pass's end as
// the server recorded it. A pass without a request (the engine's drain at
// start) can end in between: it does no version, and is not the one.
func (e *endpoint) runKeyJob(ctx context.Context, op, job string, q url.Values, want int64) (st *keyJobStatus, took time.Duration, err error) {
	before, err := e.keyJobStatus(ctx, job)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	if _, err := e.admin(ctx, http.MethodPost, "keys/"+op, q); err != nil {
		return nil, 0, err
	}
	for {
		if st, err = e.keyJobStatus(ctx, job); err != nil {
			return nil, 0, err
		}
		if !st.Running && st.Passes > before.Passes && (st.Done >= want || st.Passes > before.Passes+1 || st.LastError != "") {
			break
		}
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	took = time.Since(start)
	if end := st.LastPass.Sub(start); end > 0 && end < took {
		took = end
	}
	if st.LastError != "" {
		return st, took, fmt.Errorf("%s: %s", job, st.LastError)
	}
	return st, took, nil
}

// fill writes n objects of size bytes to e's bucket under SSE-KMS with
// keyJobKey (every third with a bucket key), at the run's concurrency.
func (b *run) fill(ctx context.Context, e *endpoint, n, size int) (perSec float64, err error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	start := time.Now()
	room := len(e.client.data) - size
	for w := range b.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				h := http.Header{}
				h.Set("X-Amz-Server-Side-Encryption", "aws:kms")
				h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", keyJobKey)
				if i%3 == 0 {
					h.Set("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true")
				}
				if perr := e.put(ctx, fmt.Sprintf("o/%07d", i), offsetFor(w, i, room), size, h); perr != nil {
					once.Do(func() { err = perr })
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), err
}

// keyJobs measures the rewrap and re-encrypt rates.
func (b *run) keyJobs(ctx context.Context) error {
	n := b.cfg.KeyJobObjects
	if n <= 0 {
		n = DefaultKeyJobObjects
	}
	kr := &KeyJobReport{Key: keyJobKey, RewrapObjects: n, ReencryptObjects: max(1, n/10), ReencryptSize: ReencryptObjectSize}
	b.rep.KeyJobs = kr
	sr := b.sr
	if _, err := sr.admin(ctx, http.MethodPost, "keys/create", url.Values{"name": {keyJobKey}}); err != nil {
		return fmt.Errorf("bench: key jobs: %w", err)
	}
	bucket := func(suffix string) (*endpoint, error) {
		e := &endpoint{client: sr.client, base: sr.base, accessKey: sr.accessKey, secretKey: sr.secretKey, bucket: sr.bucket + suffix}
		return e, e.createBucket(ctx)
	}

	// Rewrap: every object key (and bucket key) moves to the new version.
	rw, err := bucket("-rewrap")
	if err != nil {
		return fmt.Errorf("bench: key jobs: %w", err)
	}
	fmt.Fprintf(b.cfg.Progress, "key jobs: writing %d objects of %s for the rewrap\n", n, sizeName(KeyJobObjectSize))
	if kr.FillPerSec, err = b.fill(ctx, rw, n, KeyJobObjectSize); err != nil {
		return fmt.Errorf("bench: key jobs: filling: %w", err)
	}
	rotate := func() error {
		_, err := sr.admin(ctx, http.MethodPost, "keys/rotate", url.Values{"name": {keyJobKey}})
		return err
	}
	st, took, err := sr.runKeyJobTries(ctx, "rewrap", "key-rewrap", url.Values{"name": {keyJobKey}}, int64(n), rotate)
	if err != nil {
		return fmt.Errorf("bench: key jobs: %w", err)
	}
	kr.RewrapDone, kr.Rewrapped, kr.RewrapSeconds = st.Done, st.Counts["rewrapped"], took.Seconds()
	kr.RewrapCounts = st.Counts
	kr.RewrapPerSec = float64(st.Done) / took.Seconds()
	fmt.Fprintf(b.cfg.Progress, "key jobs: rewrap %d objects in %.2fs: %.0f objects/s\n", st.Done, kr.RewrapSeconds, kr.RewrapPerSec)

	// Re-encrypt: every object's data rewritten under a fresh key.
	re, err := bucket("-reencrypt")
	if err != nil {
		return fmt.Errorf("bench: key jobs: %w", err)
	}
	fmt.Fprintf(b.cfg.Progress, "key jobs: writing %d objects of %s for the re-encrypt\n", kr.ReencryptObjects, sizeName(ReencryptObjectSize))
	if _, err := b.fill(ctx, re, kr.ReencryptObjects, ReencryptObjectSize); err != nil {
		return fmt.Errorf("bench: key jobs: filling: %w", err)
	}
	kr.SealMBps = sealLimit(time.Second)
	st, took, err = sr.runKeyJobTries(ctx, "reencrypt", "key-reencrypt", url.Values{"bucket": {re.bucket}, "algorithm": {"AES256"}}, int64(kr.ReencryptObjects), nil)
	if err != nil {
		return fmt.Errorf("bench: key jobs: %w", err)
	}
	kr.Reencrypted, kr.ReencryptSeconds = st.Counts["reencrypted"], took.Seconds()
	kr.ReencryptCounts = st.Counts
	kr.ReencryptMBps = float64(kr.Reencrypted) * ReencryptObjectSize / took.Seconds() / 1e6
	if kr.SealMBps > 0 {
		kr.ReencryptVsSeal = kr.ReencryptMBps / kr.SealMBps
	}
	fmt.Fprintf(b.cfg.Progress, "key jobs: re-encrypt %d x %s in %.2fs: %.1f MB/s, %.2f of sealing (%.0f MB/s)\n",
		kr.Reencrypted, sizeName(ReencryptObjectSize), kr.ReencryptSeconds, kr.ReencryptMBps, kr.ReencryptVsSeal, kr.SealMBps)
	if kr.Rewrapped != int64(n) || kr.Reencrypted != int64(kr.ReencryptObjects) {
		return fmt.Errorf("bench: key jobs: the jobs did not do every object: rewrap %v, re-encrypt %v", kr.RewrapCounts, kr.ReencryptCounts)
	}
	return nil
}

// sealLimit is one stream of AES-256-GCM sealing through internal/sealed
// (64 KiB writes into io.Discard) for about d: MB/s.
func sealLimit(d time.Duration) float64 {
	alg := sealed.AES256GCM
	w, err := sealed.NewWriter(io.Discard, alg, make([]byte, alg.KeySize()), sealed.DefaultSegmentSize)
	if err != nil {
		return 0
	}
	pt := make([]byte, sealed.DefaultSegmentSize)
	var n int64
	start := time.Now()
	for time.Since(start) < d {
		for range 16 {
			if _, err := w.Write(pt); err != nil {
				return 0
			}
			n += int64(len(pt))
		}
	}
	el := time.Since(start)
	w.Close()
	return float64(n) / el.Seconds() / 1e6
}

// keyJobFigures adds the key job phase's lines to the figures table.
func (b *run) keyJobFigures() {
	kr := b.rep.KeyJobs
	if kr == nil || kr.RewrapSeconds == 0 {
		return
	}
	b.rep.Figures = append(b.rep.Figures,
		Figure{Name: fmt.Sprintf("rewrap %d objects", kr.RewrapDone), Unit: "objects/s", Value: kr.RewrapPerSec},
		Figure{Name: fmt.Sprintf("re-encrypt %d x %s", kr.Reencrypted, sizeName(kr.ReencryptSize)), Unit: "MB/s", Value: kr.ReencryptMBps,
			Yardstick: "AES-256-GCM seal", YardValue: kr.SealMBps, Ratio: kr.ReencryptVsSeal})
}
