package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strongroom-dev/strongroom/internal/durable"
)

const (
	secretSize  = 32      // bytes of a CMK version secret
	maxVersions = 1 << 20 // versions per CMK; far beyond any rotation schedule
)

// Keyring is the builtin key provider: named CMKs, each a list of versions
// (32-byte random secrets), kept in one file encrypted under the root key and
// rewritten atomically on every change. The file lives in the data directory
// and must be owned by a single strongroom process (nodes of a scale-out
// deployment should use an external KMS, or each read a copy of one keyring
// that is changed in one place only: a Keyring does not notice changes made
// to its file by someone else).
//
// A Keyring is safe for concurrent use. Data key operations run in parallel;
// changes are serialized and do not block them while the file is written.
type Keyring struct {
	path string
	lock *os.File // flock held for the keyring's life: one process owns it

	wmu  sync.Mutex // serializes changes, their file writes, ChangeRootKey and Close
	root []byte     // guarded by wmu

	mu sync.RWMutex // guards st, and the secrets it points to against Close
	st *state       // nil once closed; changes replace it, never mutate it

	calls counters
	// disables counts DisableKey calls that took effect (StateSerial).
	disables atomic.Uint64
	// shared is set when the keyring is a blob of a shared metadata
	// store instead of a file (shared.go).
	shared *sharedRing
}

var (
	_ Provider    = (*Keyring)(nil)
	_ Encrypter   = (*Keyring)(nil)
	_ StateSerial = (*Keyring)(nil)
)

type state struct {
	keys      map[string]*cmk
	defaultID string
}

type cmk struct {
	id       string
	created  time.Time
	enabled  bool
	versions []version // versions[i] is version i+1; never empty
}

type version struct {
	secret  []byte // immutable once created; zeroed by Close; nil once retired
	created time.Time
	retired time.Time // zero: usable; else a tombstone (retire.go)
}

func (s *state) clone() *state {
	c := &state{keys: make(map[string]*cmk, len(s.keys)), defaultID: s.defaultID}
	for id, k := range s.keys {
		kc := *k
		kc.versions = slices.Clone(k.versions)
		c.keys[id] = &kc
	}
	return c
}

func (s *state) sortedIDs() []string {
	ids := make([]string, 0, len(s.keys))
	for id := range s.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// find resolves a key id in any accepted form ("" = default).
func (s *state) find(keyID string) (*cmk, error) {
	id := s.defaultID
	if keyID != "" {
		var err error
		if id, err = ParseKeyID(keyID); err != nil {
			return nil, invalidID(keyID)
		}
	}
	k, ok := s.keys[id]
	if !ok {
		return nil, notFound(keyID)
	}
	return k, nil
}

func (k *cmk) info(defaultID string) KeyInfo {
	return KeyInfo{
		ID:       k.id,
		Created:  k.created,
		Rotated:  k.versions[len(k.versions)-1].created,
		Enabled:  k.enabled,
		Versions: len(k.versions),
		Default:  k.id == defaultID,
		Retired:  k.retiredVersions(),
	}
}

func newVersion(now time.Time) (version, error) {
	s := make([]byte, secretSize)
	if _, err := rand.Read(s); err != nil {
		return version{}, fmt.Errorf("kms: random: %w", err)
	}
	return version{secret: s, created: now}, nil
}

func newCMK(id string) (*cmk, error) {
	now := time.Now().UTC()
	v, err := newVersion(now)
	if err != nil {
		return nil, err
	}
	return &cmk{id: id, created: now, enabled: true, versions: []version{v}}, nil
}

// OpenKeyring opens the keyring file at path, decrypting it with rootKey
// (RootKeySize bytes, copied). If the file does not exist it is created,
// holding one enabled key, DefaultKeyName, the default managed key. An
// existing file is never overwritten on open: a wrong root key fails with an
// error matching ErrWrongRootKey, a damaged file with ErrKeyringCorrupt.
func OpenKeyring(path string, rootKey []byte) (*Keyring, error) {
	if len(rootKey) != RootKeySize {
		return nil, fmt.Errorf("kms: root key must be %d bytes, got %d", RootKeySize, len(rootKey))
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	k := &Keyring{path: path, root: bytes.Clone(rootKey), lock: lock}
	k, err = openLocked(k)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return k, nil
}

// openLocked loads (or creates) the keyring file; the caller holds the lock.
func openLocked(k *Keyring) (*Keyring, error) {
	path := k.path
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var st *state
		if len(data) > maxFileSize {
			err = fmt.Errorf("%w: file too large", ErrKeyringCorrupt)
		} else {
			st, err = decodeKeyring(k.root, data)
		}
		if err != nil {
			clear(k.root)
			return nil, fmt.Errorf("opening keyring file %s: %w", path, err)
		}
		k.st = st
		durable.RemoveStaleTemps(path)
	case errors.Is(err, fs.ErrNotExist):
		durable.RemoveStaleTemps(path)
		def, err := newCMK(DefaultKeyName)
		if err != nil {
			return nil, err
		}
		st := &state{keys: map[string]*cmk{DefaultKeyName: def}, defaultID: DefaultKeyName}
		if err := k.write(st); err != nil {
			clear(k.root)
			return nil, fmt.Errorf("creating keyring file %s: %w", path, err)
		}
		k.st = st
	default:
		clear(k.root)
		return nil, fmt.Errorf("kms: reading keyring file: %w", err)
	}
	return k, nil
}

// write persists st under k.root. Caller holds wmu (or owns k exclusively).
func (k *Keyring) write(st *state) error {
	data, err := encodeKeyring(k.root, st)
	if err != nil {
		return err
	}
	return durable.WriteFile(k.path, data, 0o600)
}

// update applies fn to a copy of the state, writes the copy to the file and
// only then makes it current: a failed write changes nothing.
func (k *Keyring) update(ctx context.Context, fn func(st *state) (KeyInfo, error)) (KeyInfo, error) {
	if err := ctx.Err(); err != nil {
		return KeyInfo{}, err
	}
	if k.shared != nil {
		return k.sharedUpdate(ctx, fn)
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.mu.RLock()
	cur := k.st
	k.mu.RUnlock()
	if cur == nil {
		return KeyInfo{}, errClosed()
	}
	next := cur.clone()
	info, err := fn(next)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := k.write(next); err != nil {
		return KeyInfo{}, fmt.Errorf("kms: writing keyring file: %w", err)
	}
	k.mu.Lock()
	k.st = next
	k.mu.Unlock()
	return info, nil
}

func errClosed() error { return ErrUnavailable.WithMessage("The keyring is closed.") }

// GenerateDataKey implements Provider.
func (k *Keyring) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (DataKey, error) {
	k.calls.generate.Add(1)
	if err := ctx.Err(); err != nil {
		return DataKey{}, err
	}
	if err := k.sharedSync(ctx, keyID, 0); err != nil {
		return DataKey{}, err
	}
	pt := make([]byte, DataKeySize)
	if _, err := rand.Read(pt); err != nil {
		return DataKey{}, ErrUnavailable.WithMessage("No randomness available.")
	}
	ct, id, err := k.wrap(keyID, pt, encCtx)
	if err != nil {
		clear(pt)
		return DataKey{}, err
	}
	return DataKey{Plaintext: pt, Ciphertext: ct, KeyID: id}, nil
}

// Encrypt implements Encrypter.
func (k *Keyring) Encrypt(ctx context.Context, keyID string, plaintext []byte, encCtx map[string]string) ([]byte, string, error) {
	k.calls.encrypt.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if err := CheckEncryptSize(plaintext); err != nil {
		return nil, "", err
	}
	if err := k.sharedSync(ctx, keyID, 0); err != nil {
		return nil, "", err
	}
	return k.wrap(keyID, plaintext, encCtx)
}

// wrap seals pt under the newest version of keyID.
func (k *Keyring) wrap(keyID string, pt []byte, encCtx map[string]string) ([]byte, string, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.st == nil {
		return nil, "", errClosed()
	}
	c, err := k.st.find(keyID)
	if err != nil {
		return nil, "", err
	}
	if !c.enabled {
		return nil, "", disabled(c.id)
	}
	n := len(c.versions)
	ct, err := sealWrapped(c.versions[n-1].secret, c.id, uint32(n), pt, encCtx)
	if err != nil {
		return nil, "", err
	}
	return ct, c.id, nil
}

// Decrypt implements Provider. A ciphertext naming a key this keyring does
// not hold fails with ErrNotFound, one naming a disabled key with
// ErrDisabled; anything else that does not authenticate with ErrDecrypt.
func (k *Keyring) Decrypt(ctx context.Context, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	k.calls.decrypt.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := parseWrapped(ciphertext)
	if err != nil {
		return nil, err
	}
	if err := k.sharedSync(ctx, h.keyID, h.version); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.st == nil {
		return nil, errClosed()
	}
	c, ok := k.st.keys[h.keyID]
	if !ok {
		return nil, notFound(h.keyID)
	}
	if !c.enabled {
		return nil, disabled(c.id)
	}
	if h.version == 0 || uint64(h.version) > uint64(len(c.versions)) {
		return nil, fmt.Errorf("%w (unknown key version)", ErrDecrypt)
	}
	if v := c.versions[h.version-1]; !v.retired.IsZero() {
		return nil, retiredVersion(c.id, h.version)
	}
	return openWrapped(c.versions[h.version-1].secret, ciphertext, h, encCtx)
}

// DescribeKey implements Provider. A disabled key is reported with
// Enabled == false and no error.
func (k *Keyring) DescribeKey(ctx context.Context, keyID string) (KeyInfo, error) {
	k.calls.describe.Add(1)
	if err := ctx.Err(); err != nil {
		return KeyInfo{}, err
	}
	if err := k.sharedSync(ctx, keyID, 0); err != nil {
		return KeyInfo{}, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.st == nil {
		return KeyInfo{}, errClosed()
	}
	c, err := k.st.find(keyID)
	if err != nil {
		return KeyInfo{}, err
	}
	return c.info(k.st.defaultID), nil
}

// CiphertextKey returns the canonical CMK id and version that a keyring
// ciphertext names, without authenticating it (e.g. to find data keys that
// are not wrapped by a key's newest version). Errors match ErrDecrypt.
func (k *Keyring) CiphertextKey(ciphertext []byte) (keyID string, version int, err error) {
	h, err := parseWrapped(ciphertext)
	if err != nil {
		return "", 0, err
	}
	return h.keyID, int(h.version), nil
}

// CreateKey creates an enabled CMK with one version. name may be given in
// any form ParseKeyID accepts ("alias/x" creates "x"); an invalid name fails
// with ErrInvalidKeyID, a taken one with ErrKeyExists.
func (k *Keyring) CreateKey(ctx context.Context, name string) (KeyInfo, error) {
	id, err := ParseKeyID(name)
	if err != nil {
		return KeyInfo{}, err
	}
	return k.update(ctx, func(st *state) (KeyInfo, error) {
		if _, ok := st.keys[id]; ok {
			return KeyInfo{}, fmt.Errorf("%w: %s", ErrKeyExists, quoteID(id))
		}
		c, err := newCMK(id)
		if err != nil {
			return KeyInfo{}, err
		}
		st.keys[id] = c
		return c.info(st.defaultID), nil
	})
}

// RotateKey adds a new version to an enabled key. New data keys are wrapped
// by the new version; ciphertexts of older versions still decrypt (rotation
// never rewrites data or old versions).
func (k *Keyring) RotateKey(ctx context.Context, name string) (KeyInfo, error) {
	return k.update(ctx, func(st *state) (KeyInfo, error) {
		c, err := st.find(name)
		if err != nil {
			return KeyInfo{}, err
		}
		if !c.enabled {
			return KeyInfo{}, disabled(c.id)
		}
		if len(c.versions) >= maxVersions {
			return KeyInfo{}, fmt.Errorf("kms: key %s has the maximum number of versions", quoteID(c.id))
		}
		v, err := newVersion(time.Now().UTC())
		if err != nil {
			return KeyInfo{}, err
		}
		c.versions = append(c.versions, v) // c is the copy in st
		return c.info(st.defaultID), nil
	})
}

// DisableKey disables a key: GenerateDataKey, Encrypt and Decrypt with it
// fail with ErrDisabled until EnableKey. Nothing is deleted. The default key
// may be disabled too (managed encryption then fails).
func (k *Keyring) DisableKey(ctx context.Context, name string) (KeyInfo, error) {
	return k.setEnabled(ctx, name, false)
}

// KeyStateSerial implements StateSerial: it has grown by the time
// DisableKey returns.
func (k *Keyring) KeyStateSerial() uint64 {
	k.sharedSerialSync()
	return k.disables.Load()
}

// EnableKey re-enables a disabled key.
func (k *Keyring) EnableKey(ctx context.Context, name string) (KeyInfo, error) {
	return k.setEnabled(ctx, name, true)
}

func (k *Keyring) setEnabled(ctx context.Context, name string, on bool) (KeyInfo, error) {
	info, err := k.update(ctx, func(st *state) (KeyInfo, error) {
		c, err := st.find(name)
		if err != nil {
			return KeyInfo{}, err
		}
		c.enabled = on
		return c.info(st.defaultID), nil
	})
	if err == nil && !on {
		// After the new state is current: a cache filled from a KMS call
		// that still saw the key enabled read the old serial.
		k.disables.Add(1)
	}
	return info, err
}

// ListKeys returns every key, sorted by id.
func (k *Keyring) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := k.sharedListSync(ctx); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.st == nil {
		return nil, errClosed()
	}
	ids := k.st.sortedIDs()
	out := make([]KeyInfo, 0, len(ids))
	for _, id := range ids {
		out = append(out, k.st.keys[id].info(k.st.defaultID))
	}
	return out, nil
}

// ChangeRootKey re-encrypts the keyring file under newRoot (RootKeySize
// bytes, copied). The file is replaced atomically, so after a crash it is
// readable with exactly one of the two root keys; the caller must make the
// new root key durable wherever it keeps it before calling this.
func (k *Keyring) ChangeRootKey(ctx context.Context, newRoot []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(newRoot) != RootKeySize {
		return fmt.Errorf("kms: root key must be %d bytes, got %d", RootKeySize, len(newRoot))
	}
	if k.shared != nil {
		return errSharedRootChange
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.mu.RLock()
	cur := k.st
	k.mu.RUnlock()
	if cur == nil {
		return errClosed()
	}
	old := k.root
	k.root = bytes.Clone(newRoot)
	if err := k.write(cur); err != nil {
		clear(k.root)
		k.root = old
		return fmt.Errorf("kms: writing keyring file: %w", err)
	}
	clear(old)
	return nil
}

// Calls returns the number of Provider (and Encrypt) calls made on k so far,
// successful or not, per operation name; every name is present. Management
// calls are not counted. NewCounting counts the same for any Provider.
func (k *Keyring) Calls() map[string]uint64 { return k.calls.snapshot() }

// ResetCalls sets the call counters to zero.
func (k *Keyring) ResetCalls() { k.calls.reset() }

// Close zeroes the root key and every CMK secret held in memory (best
// effort: the Go runtime may have copied them). Later calls fail with
// ErrUnavailable. Close is idempotent.
func (k *Keyring) Close() error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.st == nil {
		return nil
	}
	for _, c := range k.st.keys {
		for _, v := range c.versions {
			clear(v.secret)
		}
	}
	k.st = nil
	clear(k.root)
	return k.lock.Close()
}
