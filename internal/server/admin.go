package server

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/remote"
)

// AdminPrefix is where the operator API is served.
const AdminPrefix = "/_strongroom/admin/v1/"

// admin serves the operator API for the CLI to manage a running node.
// Every request must be signed (SigV4) by the root account.
type admin struct {
	ids      *iam.IAM
	keyring  kms.KeyAdmin
	counting *kms.Counting
	jobs     *jobs.Engine
	meta     meta.Store // searched for locked versions before a key is disabled
	remotes  *remote.Registry
	verifier *auth.Verifier
	mux      *http.ServeMux
	audit    audit.Logger     // key and user changes
	clock    func() time.Time // the node's (Config.Now); nil: time.Now
}

func newAdmin(ids *iam.IAM, keyring kms.KeyAdmin, counting *kms.Counting, jobs *jobs.Engine, m meta.Store, remotes *remote.Registry, backup http.HandlerFunc) *admin {
	a := &admin{ids: ids, keyring: keyring, counting: counting, jobs: jobs, meta: m, remotes: remotes, verifier: &auth.Verifier{Creds: ids}, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET "+AdminPrefix+"users", a.userOp)
	a.mux.HandleFunc("POST "+AdminPrefix+"users/{op}", a.userOp)
	a.mux.HandleFunc("GET "+AdminPrefix+"keys", a.listKeys)
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/{op}", a.keyOp)
	a.mux.HandleFunc("GET "+AdminPrefix+"kms-calls", a.kmsCalls)
	a.mux.HandleFunc("GET "+AdminPrefix+"replication/{bucket}", a.replicationStatus)
	a.mux.HandleFunc("GET "+AdminPrefix+"jobs", a.listJobs)
	a.mux.HandleFunc("POST "+AdminPrefix+"jobs/{name}/run", a.runJob)
	a.mux.HandleFunc("GET "+AdminPrefix+"backup", backup)
	a.mux.HandleFunc("POST "+AdminPrefix+"backup", backup) // an increment: the body names its base
	a.mux.HandleFunc("GET "+AdminPrefix+"remotes", a.remoteOp)
	a.mux.HandleFunc("POST "+AdminPrefix+"remotes/{op}", a.remoteOp)
	return a
}

func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := a.verifier.Verify(r, "")
	if err != nil || res.AccessKeyID == "" {
		a.refuse(w, r, audit.TypeAuthFailure, auth.ClaimedAccessKey(r), "")
		return
	}
	if p, err := a.ids.Principal(r.Context(), res.AccessKeyID); err != nil || !p.Root {
		a.refuse(w, r, audit.TypeDenied, res.AccessKeyID, p.User)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// refuse answers an admin request that is not the root account's, and
// audits it.
func (a *admin) refuse(w http.ResponseWriter, r *http.Request, typ, accessKey, user string) {
	audit.Record(r.Context(), a.audit, audit.Event{Type: typ, Action: "admin " + r.Method + " " + strings.TrimPrefix(r.URL.Path, AdminPrefix),
		Outcome: audit.Denied, Principal: user, AccessKey: accessKey, Source: clientAddr(r), Reason: "the admin API is the root account's"})
	http.Error(w, "access denied", http.StatusForbidden)
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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
	keyArg := ""
	if strings.HasPrefix(op, "key-") {
		keyArg = q.Get("arg")
	}
	AuditAdmin(r.Context(), a.audit, audit.TypeUser, op, q.Get("name"), keyArg, clientAddr(r), err)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, v)
}

func (a *admin) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := KeyStatuses(r.Context(), a.keyring, a.meta)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, keys)
}

// keyOp runs create / rotate / disable / enable on the named key.
func (a *admin) keyOp(w http.ResponseWriter, r *http.Request) {
	if IsKeyPolicyOp(r.PathValue("op")) {
		a.keyPolicyOp(w, r)
		return
	}
	info, err := KeyOp(r.Context(), a.keyring, a.meta, r.PathValue("op"), r.URL.Query().Get("name"))
	AuditAdmin(r.Context(), a.audit, audit.TypeKey, r.PathValue("op"), r.URL.Query().Get("name"), "", clientAddr(r), err)
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
