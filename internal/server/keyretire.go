package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// KeyRetireResult answers POST keys/retire.
type KeyRetireResult struct {
	Key     string
	Retired []uint32 // versions retired by this call (none: nothing to do)
	Use     service.KeyVersionUse
}

// withKeyRetire adds
//
//	POST keys/retire?name=KEY&version=N    retire version N of KEY
//	POST keys/retire?name=KEY&below=N      retire every version below N
//
// (`strongroom key retire`). A version still needed by an object version,
// a bucket key or a multipart upload in progress is refused (409), as is
// the newest version; each retired version is an audit line.
func (a *admin) withKeyRetire(svc *service.Service, run *keyJobRunner, provider string) *admin {
	a.mux.HandleFunc("POST "+AdminPrefix+"keys/retire", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		res, err := a.retire(r, svc, run, provider, q.Get("name"), q.Get("version"), q.Get("below"))
		switch {
		case errors.Is(err, service.ErrKeyVersionInUse):
			http.Error(w, err.Error(), http.StatusConflict)
		case errors.Is(err, kms.ErrUnavailable):
			w.Header().Set("Retry-After", "2")
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		case errors.Is(err, kms.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			writeJSON(w, res)
		}
	})
	return a
}

func (a *admin) retire(r *http.Request, svc *service.Service, run *keyJobRunner, provider, name, version, below string) (KeyRetireResult, error) {
	ctx := r.Context()
	res := KeyRetireResult{Key: name}
	versions, info, err := a.retireRequest(r, name, version, below)
	if err == nil && run != nil && run.mig != nil && run.mig.current() != nil {
		err = errors.New("retire: a key migration is in progress or awaits the restart on the new provider")
	}
	var rt kms.VersionRetirer
	if err == nil {
		var ok bool
		if rt, ok = a.keyring.(kms.VersionRetirer); !ok {
			err = fmt.Errorf("retire: the %s provider cannot retire key versions", provider)
		}
	}
	if err == nil && len(versions) > 0 {
		res.Use, res.Retired, err = svc.RetireKeyVersions(ctx, rt, info, provider, versions)
	}
	// Every version whose material is gone is an audit line, and the
	// other nodes drop the bucket keys they cached under the key (an
	// external provider's retire reaches them no other way), also when a
	// later version failed.
	for _, v := range res.Retired {
		AuditAdmin(ctx, a.audit, audit.TypeKey, "retire version "+strconv.FormatUint(uint64(v), 10), info.ID, "", clientAddr(r), nil)
	}
	if len(res.Retired) > 0 {
		announceKeyChange(ctx, a.meta, info.ID, nil) // invalidate.go
	}
	if err != nil {
		if len(res.Retired) > 0 {
			err = fmt.Errorf("%w (retired before the failure: version(s) %v)", err, res.Retired)
		}
		AuditAdmin(ctx, a.audit, audit.TypeKey, "retire", name, "", clientAddr(r), err)
		return res, err
	}
	res.Key = info.ID
	return res, nil
}

// retireRequest reads the versions a retire names: version=N, or every
// version below=N not yet retired.
func (a *admin) retireRequest(r *http.Request, name, version, below string) ([]uint32, kms.KeyInfo, error) {
	if name == "" || (version == "") == (below == "") {
		return nil, kms.KeyInfo{}, errors.New("retire: name=KEY and one of version=N or below=N")
	}
	info, err := describeForJob(r.Context(), a.keyring, name)
	if err != nil {
		return nil, info, err
	}
	arg := version + below
	n, err := strconv.ParseUint(arg, 10, 32)
	if err != nil || n == 0 {
		return nil, info, fmt.Errorf("retire: version %q: want a number >= 1", arg)
	}
	if version != "" {
		return []uint32{uint32(n)}, info, nil
	}
	var out []uint32
	for v := uint32(1); v < uint32(n); v++ {
		if !retired(info, v) {
			out = append(out, v)
		}
	}
	return out, info, nil
}

func retired(info kms.KeyInfo, v uint32) bool {
	for _, x := range info.Retired {
		if x == v {
			return true
		}
	}
	return false
}
