package server

import (
	"net/http"
	"time"

	"github.com/strongroom-dev/strongroom/internal/service"
)

// replicationStatus answers the replication state of a bucket's rules
// (strongroom replication status).
func (a *admin) replicationStatus(w http.ResponseWriter, r *http.Request) {
	st, err := service.ReplicationStatus(r.Context(), a.meta, r.PathValue("bucket"), time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	writeJSON(w, st)
}
