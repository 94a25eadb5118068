package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"strongroom/internal/httpapi/auth"
	"strongroom/internal/iam"
	"strongroom/internal/jobs"
	"strongroom/internal/kms"
	"strongroom/internal/meta"
)

// AdminPrefix is where the operator API is served.
const AdminPrefix = "/_strongroom/admin/v1/"

// admin serves the operator API for the CLI to manage a running node.
// Every request must be signed (SigV4) by the root account.
type admin struct {
	ids      *iam.IAM
	keys     kms.KeyAdmin
	counting *kms.Counting
	jobs     *jobs.Engine
	meta     meta.Store // searched for locked versions before a key is disabled
	verifier *auth.Verifier
	mux      *http.ServeMux
}

func newAdmin(ids *iam.IAM, keys kms.KeyAdmin, counting *kms.Counting, jobs *jobs.Engine, m meta.Store) http.Handler {
	a := &admin{ids: ids, keys: keys, counting: counting, jobs: jobs, meta: m, verifier: &auth.Verifier{Creds: ids}, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET "+AdminPrefix+"users", a.userOp)
	a.mux.HandleFunc("POST "+AdminPrefix+"users/{op}", a.userOp)
	a.mux.HandleFunc("GET "+AdminPrefix+"keys", a.listKeys)
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/{op}", a.keyOp)
	a.mux.HandleFunc("GET "+AdminPrefix+"kms-calls", a.kmsCalls)
	a.mux.HandleFunc("GET "+AdminPrefix+"jobs", a.listJobs)
	a.mux.HandleFunc("POST "+AdminPrefix+"jobs/{name}/run", a.runJob)
	return a
}

func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := a.verifier.Verify(r, "")
	if err != nil || res.AccessKeyID == "" {
		http.Error(w, "access denied", http.StatusForbidden)
		return
	}
	if p, err := a.ids.Principal(r.Context(), res.AccessKeyID); err != nil || !p.Root {
		http.Error(w, "access denied", http.StatusForbidden)
		return
	}
	a.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// userOp runs a user-management operation (?name=&arg=).
func (a *admin) userOp(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	if op == "" {
		op = "list"
	}
	q := r.URL.Query()
	v, err := UserOp(r.Context(), a.ids, op, q.Get("name"), q.Get("arg"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, v)
}

func (a *admin) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := a.keys.ListKeys(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, keys)
}

// keyOp runs create / rotate / disable / enable on the named key.
func (a *admin) keyOp(w http.ResponseWriter, r *http.Request) {
	info, err := KeyOp(r.Context(), a.keys, a.meta, r.PathValue("op"), r.URL.Query().Get("name"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, info)
}

func (a *admin) kmsCalls(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.counting.Calls())
}

func (a *admin) listJobs(w http.ResponseWriter, r *http.Request) {
	js, err := a.jobs.Status(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, js)
}

// runJob runs a job's pass to its end and answers its state.
func (a *admin) runJob(w http.ResponseWriter, r *http.Request) {
	// A client that stops waiting does not stop the pass.
	j, err := a.jobs.RunPass(context.WithoutCancel(r.Context()), r.PathValue("name"))
	switch {
	case errors.Is(err, jobs.ErrUnknownJob):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, jobs.ErrLeased):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		writeJSON(w, j)
	}
}
