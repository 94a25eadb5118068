package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// registerKeyJobs adds the one-shot key jobs (rewrap, re-encrypt) to the
// engine: they run when requested through the admin API, and resume
// after a restart.
func registerKeyJobs(e *jobs.Engine, m meta.Jobs, svc *service.Service, cfg Config) error {
	e.Register(jobs.Spec{Name: service.RewrapJob, Task: svc.RewrapTask(providerName(cfg.KMSConfig)), Every: service.KeyJobOnce})
	e.Register(jobs.Spec{Name: service.ReencryptJob, Task: svc.ReencryptTask(), Every: service.KeyJobOnce})
	return service.InitKeyJobs(context.Background(), m, service.RewrapJob, service.ReencryptJob)
}

// providerName is the kind of the node's key provider, as
// kms.WrapRef.Provider names it.
func providerName(c KMSConfig) string {
	if c.KMS == "" {
		return KMSBuiltin
	}
	return c.KMS
}

// keyJobRunner starts a requested key job's pass at once (rather than at
// the engine's next tick) and waits for it on Close.
type keyJobRunner struct {
	jobs   *jobs.Engine
	log    interface{ Warn(string, ...any) }
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	manual bool       // NoBackgroundJobs: tests run the passes themselves
	mig    *migrating // the node's provider, with a migration target
}

func newKeyJobRunner(e *jobs.Engine, cfg Config) *keyJobRunner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &keyJobRunner{jobs: e, ctx: ctx, cancel: cancel, manual: cfg.NoBackgroundJobs}
	if cfg.Logger != nil {
		r.log = cfg.Logger
	}
	return r
}

func (r *keyJobRunner) run(name string) {
	if r == nil || r.manual {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if _, err := r.jobs.RunPass(r.ctx, name); err != nil && r.ctx.Err() == nil && !errors.Is(err, jobs.ErrLeased) && r.log != nil {
			r.log.Warn("key job failed; it is retried", "job", name, "err", err)
		}
	}()
}

// stop cancels the running passes (their position is kept) and waits.
func (r *keyJobRunner) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
	if r.mig != nil {
		r.mig.close()
	}
}

// withKeyJobs adds the key jobs' operator API:
//
//	POST keys/rewrap?name=KEY[&to=KEY][&rate=N]   start a rewrap
//	POST keys/reencrypt?bucket=B[&prefix=P][&algorithm=A][&rate=N]
//	GET  keyjobs/{job}                             a key job's progress
//	GET  keys/usage                                objects per key version
func (a *admin) withKeyJobs(svc *service.Service, run *keyJobRunner) *admin {
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/rewrap", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req, err := a.rewrapRequest(r.Context(), q.Get("name"), q.Get("to"), q.Get("rate"))
		if err == nil && run != nil && run.mig != nil && run.mig.current() != nil {
			// New keys go to the migration target while the key admin
			// is still the old provider's: rewrap after the switch.
			err = errors.New("rewrap: a key migration is in progress or awaits the restart on the new provider")
		}
		if err == nil {
			err = startKeyJob(r.Context(), a.meta, service.RewrapJob, req)
		}
		AuditAdmin(r.Context(), a.audit, audit.TypeKey, "rewrap", q.Get("name"), "", clientAddr(r), err)
		a.answerStart(w, r, run, service.RewrapJob, err)
	})
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/reencrypt", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rate, err := parseRate(q.Get("rate"))
		req := service.KeyJobRequest{Bucket: q.Get("bucket"), Prefix: q.Get("prefix"), Algorithm: q.Get("algorithm"), Rate: rate, Requested: time.Now().UTC()}
		if err == nil {
			err = svc.CheckReencrypt(r.Context(), req)
		}
		if err == nil {
			err = startKeyJob(r.Context(), a.meta, service.ReencryptJob, req)
		}
		AuditAdmin(r.Context(), a.audit, audit.TypeKey, "reencrypt", req.Bucket+"/"+req.Prefix, "", clientAddr(r), err)
		a.answerStart(w, r, run, service.ReencryptJob, err)
	})
	a.mux.HandleFunc("GET "+AdminPrefix+"keyjobs/{job}", func(w http.ResponseWriter, r *http.Request) {
		st, err := service.KeyJobState(r.Context(), a.meta, r.PathValue("job"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, st)
	})
	a.mux.HandleFunc("GET "+AdminPrefix+"keys/usage", func(w http.ResponseWriter, r *http.Request) {
		u, err := svc.KeyUsage(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, u)
	})
	return a
}

// answerStart answers a key job's start: its status, or why it did not
// start.
func (a *admin) answerStart(w http.ResponseWriter, r *http.Request, run *keyJobRunner, job string, err error) {
	switch {
	case errors.Is(err, service.ErrKeyJobRunning):
		http.Error(w, err.Error(), http.StatusConflict)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	run.run(job)
	st, err := service.KeyJobState(r.Context(), a.meta, job)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, st)
}

// rewrapRequest checks a rewrap request: both keys exist, the target is
// enabled, neither is the reserved root key.
func (a *admin) rewrapRequest(ctx context.Context, name, to, rate string) (service.KeyJobRequest, error) {
	var req service.KeyJobRequest
	if name == "" {
		return req, errors.New("rewrap: name the key (name=KEY)")
	}
	r, err := parseRate(rate)
	if err != nil {
		return req, err
	}
	from, err := describeForJob(ctx, a.keyring, name)
	if err != nil {
		return req, err
	}
	req = service.KeyJobRequest{Key: from.ID, Rate: r, Requested: time.Now().UTC()}
	target := from
	if to != "" {
		if target, err = describeForJob(ctx, a.keyring, to); err != nil {
			return req, err
		}
		req.To = target.ID
	}
	if !target.Enabled {
		return req, fmt.Errorf("rewrap: key %s is disabled: nothing can be wrapped under it", target.ID)
	}
	return req, nil
}

func describeForJob(ctx context.Context, k kms.KeyAdmin, name string) (kms.KeyInfo, error) {
	if id, err := kms.ParseKeyID(name); err == nil && id == kms.RootKeyName {
		return kms.KeyInfo{}, fmt.Errorf("%w: %s seals the root key", kms.ErrReservedKey, kms.RootKeyName)
	}
	return k.DescribeKey(ctx, name)
}

func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("rate %q: want a number of objects per second >= 0", s)
	}
	return r, nil
}

// startKeyJob is service.StartKeyJob, waiting out a pass without a
// request that the engine may be running (it ends at once).
func startKeyJob(ctx context.Context, m meta.Jobs, job string, req service.KeyJobRequest) error {
	for i := 0; ; i++ {
		err := service.StartKeyJob(ctx, m, job, req)
		if !errors.Is(err, service.ErrEmptyPass) || i == 100 {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
