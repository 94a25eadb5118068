package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// withInventory adds the operator's "deliver an inventory report now"
// (POST inventory/{bucket}/{id}/run), which answers the manifest's key.
func (a *admin) withInventory(svc *service.Service) *admin {
	a.mux.HandleFunc("POST "+AdminPrefix+"inventory/{bucket}/{id}/run", func(w http.ResponseWriter, r *http.Request) {
		// A client that stops waiting does not stop the delivery.
		key, err := svc.RunInventory(context.WithoutCancel(r.Context()), r.PathValue("bucket"), r.PathValue("id"))
		switch {
		case errors.Is(err, inventory.ErrNoSuchConfiguration), errors.Is(err, errs.NoSuchBucket):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			writeJSON(w, map[string]string{"manifest": key})
		}
	})
	return a
}
