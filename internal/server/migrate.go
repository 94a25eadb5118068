package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// migrating is the node's key provider with a migration target beside
// it (`strongroom key migrate`): once a migration starts, new data keys
// and wraps come from the target and key state is the target's, while a
// ciphertext is unwrapped by whichever provider made it (its format
// names it). Before a migration it is the node's provider unchanged.
type migrating struct {
	kms.Provider
	mu     sync.RWMutex
	target *migrationTarget
	// reseal seals the root key under a target (migrateroot.go); nil on
	// the builtin keyring, whose root key the operator gives the target.
	reseal func(context.Context, kms.RootSealer) error
}

// migrationTarget is an open external provider and its kind.
type migrationTarget struct {
	external
	kind string
}

func (t *migrationTarget) Kind() string { return t.kind }

var (
	_ kms.Encrypter   = (*migrating)(nil)
	_ kms.StateSerial = (*migrating)(nil)
)

func (m *migrating) current() *migrationTarget {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.target
}

// targetFor is the job's view of the target (nil: none open).
func (m *migrating) targetFor() service.MigrationTarget {
	if t := m.current(); t != nil {
		return t
	}
	return nil
}

// setTarget installs t (closing the one it replaces).
func (m *migrating) setTarget(t *migrationTarget) {
	m.mu.Lock()
	old := m.target
	m.target = t
	m.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// switchTo makes t the target and runs start (which stores the job's
// request) while holding back key requests, so that no data key is made
// under t unless the job that moves every stored key to t is stored too.
// When start fails the target before t is put back and t is closed: the
// node goes on as before the migration was asked for.
func (m *migrating) switchTo(t *migrationTarget, start func() error) error {
	m.mu.Lock()
	old := m.target
	m.target = t
	err := start()
	if err != nil {
		m.target = old
	}
	m.mu.Unlock()
	if err != nil {
		t.Close()
		return err
	}
	if old != nil {
		old.Close()
	}
	return nil
}

func (m *migrating) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (kms.DataKey, error) {
	if t := m.current(); t != nil {
		return t.GenerateDataKey(ctx, keyID, encCtx)
	}
	return m.Provider.GenerateDataKey(ctx, keyID, encCtx)
}

func (m *migrating) Decrypt(ctx context.Context, ct []byte, encCtx map[string]string) ([]byte, error) {
	if t := m.current(); t != nil {
		if r, ok := kms.ParseWrapRef(ct); ok && r.Provider == t.kind {
			return t.Decrypt(ctx, ct, encCtx)
		}
	}
	return m.Provider.Decrypt(ctx, ct, encCtx)
}

func (m *migrating) DescribeKey(ctx context.Context, keyID string) (kms.KeyInfo, error) {
	if t := m.current(); t != nil {
		return t.DescribeKey(ctx, keyID)
	}
	return m.Provider.DescribeKey(ctx, keyID)
}

func (m *migrating) Encrypt(ctx context.Context, keyID string, pt []byte, encCtx map[string]string) ([]byte, string, error) {
	if t := m.current(); t != nil {
		return t.Encrypt(ctx, keyID, pt, encCtx)
	}
	e, ok := m.Provider.(kms.Encrypter)
	if !ok {
		return nil, "", fmt.Errorf("kms: %T cannot encrypt: %w", m.Provider, errors.ErrUnsupported)
	}
	return e.Encrypt(ctx, keyID, pt, encCtx)
}

func (m *migrating) KeyStateSerial() uint64 {
	var n uint64
	if s, ok := m.Provider.(kms.StateSerial); ok {
		n = s.KeyStateSerial()
	}
	if t := m.current(); t != nil {
		if s, ok := t.external.(kms.StateSerial); ok {
			n += s.KeyStateSerial()
		}
	}
	return n
}

func (m *migrating) close() {
	m.setTarget(nil)
}

// newKeyJobs sets up the key jobs' runner and the migration job; a
// migration left unfinished by a stop opens its target again and goes on.
func (n *Node) newKeyJobs(ctx context.Context, cfg Config) error {
	n.keyJobs = newKeyJobRunner(n.Jobs, cfg)
	n.keyJobs.mig = n.migration
	n.Jobs.Register(jobs.Spec{Name: service.MigrateJob, Task: n.Service.MigrateTask(n.migration.targetFor), Every: service.KeyJobOnce})
	if err := service.InitKeyJobs(ctx, n.meta, service.MigrateJob); err != nil {
		return err
	}
	st, err := service.KeyJobState(ctx, n.meta, service.MigrateJob)
	if err != nil || !st.Running || st.Request == nil {
		return err
	}
	var c KMSConfig
	if err := json.Unmarshal(st.Request.Target, &c); err != nil {
		return fmt.Errorf("the unfinished key migration's target: %w", err)
	}
	t, err := openTarget(ctx, c, providerName(cfg.KMSConfig))
	if err != nil {
		return fmt.Errorf("a key migration to %s is unfinished and its target cannot be opened: %w", c.KMS, err)
	}
	if n.migration.reseal != nil {
		if err := n.migration.reseal(ctx, t); err != nil {
			t.Close()
			return err
		}
	}
	n.migration.setTarget(t)
	return nil
}

// openTarget opens a migration target: an external provider other than
// the node's own.
func openTarget(ctx context.Context, c KMSConfig, current string) (*migrationTarget, error) {
	if c.KMS != KMSPKCS11 && c.KMS != KMSKMIP {
		return nil, fmt.Errorf("migrate: the target must be %s or %s, not %q", KMSPKCS11, KMSKMIP, c.KMS)
	}
	if c.KMS == current {
		return nil, fmt.Errorf("migrate: the node already runs on %s", current)
	}
	ext, err := openExternal(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	return &migrationTarget{external: ext, kind: c.KMS}, nil
}

// withMigrate adds POST keys/migrate (body: the target's KMSConfig as
// JSON, file names only): it opens the target, creates there every key the
// node's provider has (same names), switches new data keys to it and
// starts the job that rewraps every stored key under it.
func (a *admin) withMigrate(run *keyJobRunner, current string) *admin {
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/migrate", func(w http.ResponseWriter, r *http.Request) {
		var c KMSConfig
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err == nil {
			err = json.Unmarshal(raw, &c)
		}
		rate, rerr := parseRate(r.URL.Query().Get("rate"))
		err = errors.Join(err, rerr)
		if err == nil {
			err = a.startMigration(r.Context(), run, c, current, raw, rate)
		}
		AuditAdmin(r.Context(), a.audit, audit.TypeKey, "migrate", c.KMS, "", clientAddr(r), err)
		a.answerStart(w, r, run, service.MigrateJob, err)
	})
	// A key created in the old provider while a migration runs (or awaits
	// the restart on the target) would not exist in the target: refused
	// until the switch, with the reason.
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/create", func(w http.ResponseWriter, r *http.Request) {
		if run != nil && run.mig != nil && run.mig.current() != nil {
			err := ErrMigrationPending
			AuditAdmin(r.Context(), a.audit, audit.TypeKey, "create", r.URL.Query().Get("name"), "", clientAddr(r), err)
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		r.SetPathValue("op", "create")
		a.keyOp(w, r)
	})
	return a
}

// ErrMigrationPending refuses to create a key while a key migration runs
// or awaits the restart on its target.
var ErrMigrationPending = errors.New("a key migration is in progress or awaits the restart on the new provider: create keys after the switch (restart with the target's --kms flags)")

func (a *admin) startMigration(ctx context.Context, run *keyJobRunner, c KMSConfig, current string, raw []byte, rate float64) error {
	if run == nil || run.mig == nil {
		return errors.New("migrate: not available on this node")
	}
	if st, err := service.KeyJobState(ctx, a.meta, service.MigrateJob); err != nil || st.Running {
		return errors.Join(err, fmt.Errorf("%w: %s", service.ErrKeyJobRunning, service.MigrateJob))
	}
	t, err := openTarget(ctx, c, current)
	if err != nil {
		return err
	}
	keys, err := a.keyring.ListKeys(ctx)
	if err != nil {
		t.Close()
		return err
	}
	for _, k := range keys {
		if _, err := t.CreateKey(ctx, k.ID); err != nil && !errors.Is(err, kms.ErrKeyExists) {
			t.Close()
			return fmt.Errorf("migrate: creating key %s in %s: %w", k.ID, c.KMS, err)
		}
	}
	if run.mig.reseal != nil {
		// Before the job: the switch needs the root key under the target.
		if err := run.mig.reseal(ctx, t); err != nil {
			t.Close()
			return err
		}
	}
	req := service.KeyJobRequest{Provider: c.KMS, Target: raw, Rate: rate, Requested: time.Now().UTC()}
	return run.mig.switchTo(t, func() error { return startKeyJob(ctx, a.meta, service.MigrateJob, req) })
}

// Encrypt wraps under the target (every external provider encrypts).
func (t *migrationTarget) Encrypt(ctx context.Context, keyID string, pt []byte, encCtx map[string]string) ([]byte, string, error) {
	e, ok := t.external.(kms.Encrypter)
	if !ok {
		return nil, "", fmt.Errorf("kms: %T cannot encrypt: %w", t.external, errors.ErrUnsupported)
	}
	return e.Encrypt(ctx, keyID, pt, encCtx)
}
