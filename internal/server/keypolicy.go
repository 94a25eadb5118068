package server

import (
	"net/http"

	"context"
	"errors"
	"fmt"
	"github.com/strongroom-dev/strongroom/internal/audit"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// Key states reported by KeyStatus.State (AWS KMS's names).
const (
	KeyEnabled         = "Enabled"
	KeyDisabled        = "Disabled"
	KeyPendingDeletion = "PendingDeletion"
	KeyDestroyed       = "Destroyed"
)

// Deletion waiting period bounds, in days, as AWS KMS's ScheduleKeyDeletion.
const (
	MinDeletionDays = 7
	MaxDeletionDays = 30
)

// KeyStatus is a key as `strongroom key list` shows it: the provider's
// view (kms.KeyInfo) and strongroom's own policy (owner, grants,
// deletion). Destroyed keys are listed from their policy alone.
type KeyStatus struct {
	kms.KeyInfo
	State        string                   // KeyEnabled, KeyDisabled, KeyPendingDeletion, KeyDestroyed
	Owner        string                   // a user name, or "root"
	Grants       map[string]meta.KeyGrant `json:",omitempty"`
	DeletionDate time.Time                `json:",omitzero"`
	Destroyed    time.Time                `json:",omitzero"`
	Shred        *meta.ShredReport        `json:",omitempty"`
	// Dependents counts the object versions under the key per bucket
	// (schedule-deletion reports what the destruction will shred).
	Dependents map[string]int64 `json:",omitempty"`
}

// ErrKeyPolicies: the metadata store keeps no key policies.
var ErrKeyPolicies = errors.New("this metadata store keeps no key policies")

// IsKeyPolicyOp reports whether op is one of KeyPolicyOp's.
func IsKeyPolicyOp(op string) bool {
	switch op {
	case "grant", "revoke", "schedule-deletion", "cancel-deletion":
		return true
	}
	return false
}

// KeyPolicyOp runs one key-policy operation:
//
//	grant KEY USER [encrypt|decrypt|encrypt,decrypt]   (arg; "" = both)
//	revoke KEY USER
//	schedule-deletion KEY DAYS   (arg; 7..30)
//	cancel-deletion KEY
//
// Scheduling disables the key in the provider too (so every path refuses
// it) and is refused while an object-locked version depends on the key.
// Cancelling leaves it disabled, as AWS KMS does: enable it to use it.
func KeyPolicyOp(ctx context.Context, k kms.KeyAdmin, m meta.Store, op, name, user, arg string, now time.Time) (KeyStatus, error) {
	kp, ok := m.(meta.KeyPolicies)
	if !ok {
		return KeyStatus{}, ErrKeyPolicies
	}
	id, err := kms.ParseKeyID(name)
	if err != nil {
		return KeyStatus{}, err
	}
	if id == kms.RootKeyName {
		return KeyStatus{}, fmt.Errorf("%w: %s seals the root key", kms.ErrReservedKey, kms.RootKeyName)
	}
	pol, err := keyPolicy(ctx, kp, id)
	if err != nil {
		return KeyStatus{}, err
	}
	if !pol.Destroyed.IsZero() {
		return KeyStatus{}, fmt.Errorf("key %s was destroyed on %s", id, pol.Destroyed.UTC().Format(time.RFC3339))
	}
	info, err := k.DescribeKey(ctx, id)
	if err != nil {
		return KeyStatus{}, err
	}
	var deps map[string]int64
	var update func(*meta.KeyPolicy) error
	switch op {
	case "grant", "revoke":
		if user == "" {
			return KeyStatus{}, errors.New("a user name is needed")
		}
		if info.Default {
			return KeyStatus{}, fmt.Errorf("the default key %s is every user's: it takes no grants", id)
		}
		g, err := parseGrant(arg)
		if err != nil {
			return KeyStatus{}, err
		}
		if op == "grant" {
			if _, err := m.GetUser(ctx, user); err != nil {
				return KeyStatus{}, fmt.Errorf("grant to %q: %w", user, err)
			}
		}
		update = func(p *meta.KeyPolicy) error {
			if op == "revoke" {
				delete(p.Grants, user)
				return nil
			}
			if p.Grants == nil {
				p.Grants = map[string]meta.KeyGrant{}
			}
			p.Grants[user] = g
			return nil
		}
	case "schedule-deletion":
		days, err := strconv.Atoi(arg)
		if err != nil || days < MinDeletionDays || days > MaxDeletionDays {
			return KeyStatus{}, fmt.Errorf("the waiting period must be %d to %d days, got %q", MinDeletionDays, MaxDeletionDays, arg)
		}
		if info.Default {
			return KeyStatus{}, fmt.Errorf("the default key %s cannot be deleted", id)
		}
		if _, ok := k.(kms.Destroyer); !ok {
			return KeyStatus{}, errors.New("this key provider cannot destroy keys")
		}
		if pol.Pending() {
			return KeyStatus{}, fmt.Errorf("key %s is already pending deletion (on %s)", id, pol.DeletionDate.UTC().Format(time.RFC3339))
		}
		if err := refuseLockedKeyOp(ctx, k, m, id, "schedule deletion of", now); err != nil {
			return KeyStatus{}, err
		}
		if deps, _, err = keyVersions(ctx, m, info, 0); err != nil {
			return KeyStatus{}, err
		}
		if info.Enabled {
			if info, err = k.DisableKey(ctx, id); err != nil {
				return KeyStatus{}, err
			}
			announceKeyChange(ctx, m, id, nil) // invalidate.go
		}
		date := now.Add(time.Duration(days) * 24 * time.Hour).UTC()
		update = func(p *meta.KeyPolicy) error {
			p.DeletionDate = date
			return nil
		}
	case "cancel-deletion":
		if !pol.Pending() {
			return KeyStatus{}, fmt.Errorf("key %s is not pending deletion", id)
		}
		update = func(p *meta.KeyPolicy) error {
			p.DeletionDate = time.Time{}
			return nil
		}
	default:
		return KeyStatus{}, fmt.Errorf("unknown key operation %q", op)
	}
	pol, err = kp.UpdateKeyPolicy(ctx, id, update)
	if err != nil {
		return KeyStatus{}, err
	}
	st := keyStatus(info, pol)
	st.Dependents = deps
	return st, nil
}

// refusePendingKey refuses to enable a key pending deletion or destroyed
// (AWS KMS: KMSInvalidStateException): cancel the deletion first.
func refusePendingKey(ctx context.Context, m meta.Store, name string) error {
	kp, ok := m.(meta.KeyPolicies)
	if !ok {
		return nil
	}
	id, err := kms.ParseKeyID(name)
	if err != nil {
		return nil // the provider refuses the name
	}
	pol, err := keyPolicy(ctx, kp, id)
	if err != nil || !pol.Pending() {
		return err
	}
	return fmt.Errorf("key %s is pending deletion or destroyed: cancel the deletion first (strongroom key cancel-deletion)", id)
}

func keyPolicy(ctx context.Context, kp meta.KeyPolicies, id string) (*meta.KeyPolicy, error) {
	pol, err := kp.GetKeyPolicy(ctx, id)
	if errors.Is(err, meta.ErrNoSuchKeyPolicy) {
		return &meta.KeyPolicy{Key: id}, nil
	}
	return pol, err
}

// parseGrant reads "", "encrypt", "decrypt" or both, comma-separated.
func parseGrant(s string) (meta.KeyGrant, error) {
	if s == "" {
		return meta.KeyGrant{Encrypt: true, Decrypt: true}, nil
	}
	var g meta.KeyGrant
	for _, w := range strings.Split(s, ",") {
		switch strings.TrimSpace(w) {
		case service.KeyEncrypt:
			g.Encrypt = true
		case service.KeyDecrypt:
			g.Decrypt = true
		default:
			return g, fmt.Errorf("a grant is encrypt, decrypt or both, not %q", w)
		}
	}
	return g, nil
}

func keyStatus(info kms.KeyInfo, pol *meta.KeyPolicy) KeyStatus {
	st := KeyStatus{KeyInfo: info, State: KeyEnabled, Owner: "root"}
	if !info.Enabled {
		st.State = KeyDisabled
	}
	if pol == nil {
		return st
	}
	if pol.Owner != "" {
		st.Owner = pol.Owner
	}
	st.Grants, st.DeletionDate, st.Destroyed, st.Shred = pol.Grants, pol.DeletionDate, pol.Destroyed, pol.Shred
	switch {
	case !pol.Destroyed.IsZero():
		st.State = KeyDestroyed
	case !pol.DeletionDate.IsZero():
		st.State = KeyPendingDeletion
	}
	return st
}

// KeyStatuses lists the provider's keys with their policies, and the
// destroyed keys (with their shred reports) that the provider no longer
// has.
func KeyStatuses(ctx context.Context, k kms.KeyAdmin, m meta.Store) ([]KeyStatus, error) {
	infos, err := k.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	pols := map[string]*meta.KeyPolicy{}
	if kp, ok := m.(meta.KeyPolicies); ok {
		all, err := kp.ListKeyPolicies(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range all {
			pols[p.Key] = p
		}
	}
	out := make([]KeyStatus, 0, len(infos))
	for _, info := range infos {
		out = append(out, keyStatus(info, pols[info.ID]))
		delete(pols, info.ID)
	}
	for _, p := range pols {
		if !p.Destroyed.IsZero() {
			out = append(out, keyStatus(kms.KeyInfo{ID: p.Key}, p))
		}
	}
	return out, nil
}

// keyVersions counts the object versions whose object key the key of
// info wraps, per bucket, and names the first sample of them.
func keyVersions(ctx context.Context, m meta.Store, info kms.KeyInfo, sample int) (map[string]int64, []string, error) {
	bs, err := m.ListBuckets(ctx)
	if err != nil {
		return nil, nil, err
	}
	counts := map[string]int64{}
	var names []string
	for _, b := range bs {
		err := m.ListObjectVersions(ctx, b.Name, "", "", "", func(o *meta.Object, _ bool) error {
			if o.Encryption == nil || !keyProtects(o.Encryption, info) {
				return nil
			}
			counts[b.Name]++
			if len(names) < sample {
				v := o.VersionID
				if v == "" {
					v = "null"
				}
				names = append(names, b.Name+"/"+o.Key+"@"+v)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("scanning %s: %w", b.Name, err)
		}
	}
	return counts, names, nil
}

// keyPolicyOp serves POST keys/{grant,revoke,schedule-deletion,
// cancel-deletion}?name=KEY&user=USER&arg=ARG.
func (a *admin) keyPolicyOp(w http.ResponseWriter, r *http.Request) {
	op, q := r.PathValue("op"), r.URL.Query()
	st, err := KeyPolicyOp(r.Context(), a.keyring, a.meta, op, q.Get("name"), q.Get("user"), q.Get("arg"), a.now())
	AuditKeyPolicy(r.Context(), a.audit, op, q.Get("name"), q.Get("user"), q.Get("arg"), clientAddr(r), err)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, st)
}

// AuditKeyPolicy records a key-policy change: the key, the grantee (as
// Resource "user/NAME") and the grant or waiting period.
func AuditKeyPolicy(ctx context.Context, l audit.Logger, op, key, user, arg, source string, opErr error) {
	e := audit.Event{Type: audit.TypeKey, Action: op, Outcome: audit.OK, Principal: "root", Target: key, Source: source}
	if user != "" {
		e.Resource = "user/" + user
	}
	if arg != "" {
		e.Action += " " + arg
	}
	if opErr != nil {
		e.Outcome, e.Reason = audit.Failed, opErr.Error()
	}
	audit.Record(ctx, l, e)
}

func (a *admin) now() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now()
}

// refuseDestroyedName refuses to create a key under the name of a
// destroyed one: objects under the old key name it, and must keep
// answering that their key was destroyed, not fail to decrypt under a new
// key of the same name.
func refuseDestroyedName(ctx context.Context, m meta.Store, name string) error {
	kp, ok := m.(meta.KeyPolicies)
	if !ok {
		return nil
	}
	id, err := kms.ParseKeyID(name)
	if err != nil {
		return nil // the provider refuses the name
	}
	pol, err := keyPolicy(ctx, kp, id)
	if err != nil || pol.Destroyed.IsZero() {
		return err
	}
	return fmt.Errorf("%w: %s names a key destroyed on %s (objects still name it)", kms.ErrKeyExists, id, pol.Destroyed.UTC().Format(time.RFC3339))
}
