package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// allDestroyer is an external provider that can destroy every key it
// holds for this deployment (the end of a key migration away from it).
type allDestroyer interface {
	DestroyAllKeys(ctx context.Context) ([]string, error)
}

// ErrMigrationNotFinished refuses `key migrate --finish` before the
// migration completed and the node restarted on its target.
var ErrMigrationNotFinished = errors.New("migrate --finish: the key migration has not completed, or the node does not run on its target yet")

// withMigrateFinish adds POST keys/migrate/finish (body: the OLD
// provider's KMSConfig as JSON): once the migration job completed, the
// node runs on the target and no stored key is wrapped by the old
// provider any more, every key the old provider holds for this
// deployment (its default key and root sealing key too) is destroyed
// there, one audit line per key. There is no undo.
func (a *admin) withMigrateFinish(svc *service.Service, run *keyJobRunner, current string) *admin {
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/migrate/finish", func(w http.ResponseWriter, r *http.Request) {
		var from KMSConfig
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err == nil {
			err = json.Unmarshal(raw, &from)
		}
		var destroyed []string
		status := http.StatusBadRequest
		if err == nil {
			destroyed, status, err = a.finishMigration(r.Context(), svc, run, from, current)
		}
		for _, id := range destroyed {
			AuditAdmin(r.Context(), a.audit, audit.TypeKey, "migrate-finish-destroy", from.KMS+":"+id, "", clientAddr(r), nil)
		}
		if err != nil {
			AuditAdmin(r.Context(), a.audit, audit.TypeKey, "migrate-finish", from.KMS, "", clientAddr(r), err)
			http.Error(w, err.Error(), status)
			return
		}
		writeJSON(w, map[string]any{"Provider": from.KMS, "Destroyed": destroyed})
	})
	return a
}

// finishMigration checks that nothing needs the old provider any more and
// destroys its keys; status is the HTTP status of an error.
func (a *admin) finishMigration(ctx context.Context, svc *service.Service, run *keyJobRunner, from KMSConfig, current string) ([]string, int, error) {
	if from.KMS != KMSPKCS11 && from.KMS != KMSKMIP {
		return nil, http.StatusBadRequest, fmt.Errorf("migrate --finish: the old provider must be %s or %s, not %q (the builtin keyring's keys: key schedule-deletion)", KMSPKCS11, KMSKMIP, from.KMS)
	}
	if from.KMS == current {
		return nil, http.StatusConflict, fmt.Errorf("%w: the node still runs on %s", ErrMigrationNotFinished, current)
	}
	st, err := service.KeyJobState(ctx, a.meta, service.MigrateJob)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	if st.Running || st.Passes == 0 || st.LastError != "" || (run != nil && run.mig != nil && run.mig.current() != nil) {
		return nil, http.StatusConflict, ErrMigrationNotFinished
	}
	usage, err := svc.KeyUsage(ctx)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	var left int64
	for _, u := range usage {
		if u.Provider == from.KMS {
			left += u.Objects
		}
	}
	if left > 0 {
		return nil, http.StatusConflict, fmt.Errorf("%w: %d object key(s) are still wrapped by %s", ErrMigrationNotFinished, left, from.KMS)
	}
	ext, err := openExternal(ctx, from, nil)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	defer ext.Close()
	d, ok := ext.(allDestroyer)
	if !ok {
		return nil, http.StatusBadRequest, fmt.Errorf("migrate --finish: %s cannot destroy its keys", from.KMS)
	}
	destroyed, err := d.DestroyAllKeys(ctx)
	if err != nil {
		return destroyed, http.StatusBadGateway, fmt.Errorf("migrate --finish: destroying %s's keys: %w", from.KMS, err)
	}
	return destroyed, http.StatusOK, nil
}
