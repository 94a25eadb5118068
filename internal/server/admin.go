package server

import (
	"encoding/json"
	"net/http"

	"strongroom/internal/httpapi/auth"
	"strongroom/internal/iam"
)

// admin serves the operator API under /_strongroom/admin/v1/, for the CLI
// to manage a running node. Every request must be signed (SigV4) by the
// root account.
type admin struct {
	ids      *iam.IAM
	verifier *auth.Verifier
}

func newAdmin(ids *iam.IAM) http.Handler {
	return &admin{ids: ids, verifier: &auth.Verifier{Creds: ids}}
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
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/_strongroom/admin/v1/users":
		c, err := a.ids.CreateUser(r.Context(), r.URL.Query().Get("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(c)
	default:
		http.NotFound(w, r)
	}
}
