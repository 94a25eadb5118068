package kms

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// A shared keyring is the builtin keyring of a deployment whose nodes share
// one metadata store (meta.SharedBlobs, e.g. PostgreSQL): the keyring file's
// bytes (encodeKeyring, sealed under the root key) are one blob of the
// store instead of a file in the data directory. Every change is one
// UpdateBlob, a read-modify-write of the blob that is atomic across nodes,
// so two nodes creating keys at once lose neither. A node re-reads the blob
//   - when it meets a key id, or a version of a key, that it does not hold
//     (a key created or rotated on another node is usable at once), and
//   - before any use of the keyring once its copy is older than the refresh
//     interval (DefaultSharedRefresh), so a key disabled or destroyed on
//     another node stops being usable here within that bound (plus one
//     round trip to the store). A re-read that fails fails the use
//     (ErrUnavailable): stale state is never trusted past the bound.
//
// Re-reads are one GetBlob of a few KiB; they are coalesced (callers that
// wait on one in flight use its result) and decode only when the bytes
// changed.

// SharedKeyringBlob is the name of the shared blob holding the keyring.
const SharedKeyringBlob = "keyring"

// DefaultSharedRefresh bounds how old a node's copy of a shared keyring
// may be when it is used.
const DefaultSharedRefresh = 2 * time.Second

// ErrKeyringConflict refuses to open a shared keyring when the data
// directory's own keyring file holds keys the shared one lacks or holds
// differently: keyrings cannot be merged.
var ErrKeyringConflict = errors.New("kms: the local keyring file and the deployment's shared keyring differ")

// SharedOptions configure OpenSharedKeyring.
type SharedOptions struct {
	// LockPath is the lock file that makes this process the owner of its
	// data directory (as OpenKeyring's PATH.lock). Required.
	LockPath string
	// ImportPath is the data directory's keyring file. When the store has
	// no keyring yet, this file's keys become the shared keyring; when it
	// has one, every key of the file must be in it with the same versions
	// (else ErrKeyringConflict). Either way the file is then renamed to
	// ImportPath+ImportedSuffix, so it is imported once. "" = none.
	ImportPath string
	// Refresh bounds the age of the copy in use (0: DefaultSharedRefresh).
	Refresh time.Duration
}

// ImportedSuffix is appended to a keyring file's name once its keys are in
// the shared keyring.
const ImportedSuffix = ".imported"

// sharedRing is what a Keyring kept in a SharedBlobs store needs.
type sharedRing struct {
	blobs meta.SharedBlobs
	every time.Duration
	base  time.Time    // monotonic origin of fetched
	fetch atomic.Int64 // when the state in use was read: ns since base, at the read's start
	last  []byte       // blob bytes behind the state in use; guarded by Keyring.wmu
	// imported is the keyring file whose keys went into the store at open.
	imported string
}

func (s *sharedRing) since() int64 { return int64(time.Since(s.base)) }

// OpenSharedKeyring opens the keyring kept in blobs under
// SharedKeyringBlob, sealed under rootKey (RootKeySize bytes, copied),
// creating it (from o.ImportPath's keys, else with the default key
// DefaultKeyName) when the store has none. A keyring sealed under another
// root key fails with ErrWrongRootKey.
func OpenSharedKeyring(ctx context.Context, blobs meta.SharedBlobs, rootKey []byte, o SharedOptions) (*Keyring, error) {
	if len(rootKey) != RootKeySize {
		return nil, fmt.Errorf("kms: root key must be %d bytes, got %d", RootKeySize, len(rootKey))
	}
	if o.LockPath == "" {
		return nil, errors.New("kms: a shared keyring needs a lock file")
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultSharedRefresh
	}
	lock, err := lockFile(o.LockPath)
	if err != nil {
		return nil, err
	}
	s := &sharedRing{blobs: blobs, every: o.Refresh, base: time.Now()}
	k := &Keyring{root: bytes.Clone(rootKey), lock: lock, shared: s}
	st, data, err := k.openShared(ctx, o.ImportPath)
	if err != nil {
		clear(k.root)
		lock.Close()
		return nil, err
	}
	k.st, s.last = st, data
	return k, nil
}

// openShared reads (or creates) the shared keyring, importing or checking
// the local file at importPath.
func (k *Keyring) openShared(ctx context.Context, importPath string) (*state, []byte, error) {
	s := k.shared
	local, err := readLocalKeyring(k.root, importPath)
	if err != nil {
		return nil, nil, err
	}
	defer local.wipe()
	start := s.since()
	data, err := s.blobs.GetBlob(ctx, SharedKeyringBlob)
	if err != nil && !errors.Is(err, meta.ErrNoSuchBlob) {
		return nil, nil, fmt.Errorf("kms: reading the shared keyring: %w", err)
	}
	var st *state
	if err == nil {
		if st, err = k.decodeShared(data); err == nil {
			err = contains(st, local, importPath)
		}
	} else {
		// None yet: create it, unless another node just did.
		err = s.blobs.UpdateBlob(ctx, SharedKeyringBlob, func(old []byte) ([]byte, error) {
			st.wipe()
			var err error
			if old != nil {
				if st, err = k.decodeShared(old); err == nil {
					err = contains(st, local, importPath)
				}
				data = old
				return old, err
			}
			if local != nil {
				st = local.clone()
				st.copySecrets()
			} else if st, err = newState(); err != nil {
				return nil, err
			}
			data, err = encodeKeyring(k.root, st)
			return data, err
		})
	}
	if err != nil {
		st.wipe()
		return nil, nil, err
	}
	if local != nil {
		if err := renameDurably(importPath, importPath+ImportedSuffix); err != nil {
			st.wipe()
			return nil, nil, fmt.Errorf("kms: the keys of %s are in the shared keyring, but renaming the file failed: %w", importPath, err)
		}
		s.imported = importPath
	}
	s.fetch.Store(start)
	return st, data, nil
}

// ImportedFrom is the keyring file whose keys a shared keyring took in (or
// found already there) when it was opened, renamed since; "" if none.
func (k *Keyring) ImportedFrom() string {
	if k.shared == nil {
		return ""
	}
	return k.shared.imported
}

// Shared reports whether k is kept in a shared store (OpenSharedKeyring).
func (k *Keyring) Shared() bool { return k.shared != nil }

func (k *Keyring) decodeShared(data []byte) (*state, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("kms: the shared keyring: %w: too large", ErrKeyringCorrupt)
	}
	st, err := decodeKeyring(k.root, data)
	if errors.Is(err, ErrWrongRootKey) {
		return nil, fmt.Errorf("kms: the shared keyring is sealed under another root key than this node's: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: the shared keyring: %w", err)
	}
	return st, nil
}

// readLocalKeyring decodes the keyring file at path; nil if there is none.
func readLocalKeyring(root []byte, path string) (*state, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kms: reading keyring file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("opening keyring file %s: %w: file too large", path, ErrKeyringCorrupt)
	}
	st, err := decodeKeyring(root, data)
	if err != nil {
		return nil, fmt.Errorf("opening keyring file %s: %w", path, err)
	}
	return st, nil
}

// contains checks that every key of local is in shared with the same
// secrets for local's versions (shared may have more keys and versions,
// and other enabled flags: it was imported and has moved on since).
func contains(shared, local *state, path string) error {
	if local == nil {
		return nil
	}
	for _, id := range local.sortedIDs() {
		lk, sk := local.keys[id], shared.keys[id]
		same := sk != nil && len(sk.versions) >= len(lk.versions)
		for i := 0; same && i < len(lk.versions); i++ {
			same = subtle.ConstantTimeCompare(lk.versions[i].secret, sk.versions[i].secret) == 1
		}
		if !same {
			return fmt.Errorf("%w: key %s of %s is not the deployment's (keyrings cannot be merged; if nothing was ever encrypted under this data directory's keys, move the file aside)", ErrKeyringConflict, quoteID(id), path)
		}
	}
	return nil
}

func newState() (*state, error) {
	def, err := newCMK(DefaultKeyName)
	if err != nil {
		return nil, err
	}
	return &state{keys: map[string]*cmk{DefaultKeyName: def}, defaultID: DefaultKeyName}, nil
}

// copySecrets gives s secrets of its own (after clone, which shares them).
func (s *state) copySecrets() {
	for _, c := range s.keys {
		for i := range c.versions {
			c.versions[i].secret = bytes.Clone(c.versions[i].secret)
		}
	}
}

// wipe zeroes every secret of s (nil: nothing).
func (s *state) wipe() {
	if s == nil {
		return
	}
	for _, c := range s.keys {
		for _, v := range c.versions {
			clear(v.secret)
		}
	}
}

// sharedUpdate is update for a shared keyring: fn changes the store's
// current keyring inside one UpdateBlob, and the result becomes this
// node's state. Caller holds nothing.
func (k *Keyring) sharedUpdate(ctx context.Context, fn func(st *state) (KeyInfo, error)) (KeyInfo, error) {
	if err := ctx.Err(); err != nil {
		return KeyInfo{}, err
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if k.closed() {
		return KeyInfo{}, errClosed()
	}
	s := k.shared
	start := s.since()
	var next *state
	var data []byte
	var info KeyInfo
	var fnErr error // fn's own error, returned as is (an API error)
	err := s.blobs.UpdateBlob(ctx, SharedKeyringBlob, func(old []byte) ([]byte, error) {
		next.wipe() // fn may run more than once
		next = nil
		if old == nil {
			return nil, fmt.Errorf("kms: the shared keyring is missing from the store: %w", ErrKeyringCorrupt)
		}
		st, err := k.decodeShared(old)
		if err != nil {
			return nil, err
		}
		next = st
		if info, fnErr = fn(st); fnErr != nil {
			return nil, fnErr
		}
		data, err = encodeKeyring(k.root, st)
		return data, err
	})
	if err != nil {
		next.wipe()
		if fnErr != nil {
			return KeyInfo{}, fnErr
		}
		return KeyInfo{}, fmt.Errorf("kms: writing the shared keyring: %w", err)
	}
	k.install(next, data, start)
	return info, nil
}

func (k *Keyring) closed() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.st == nil
}

// install makes st (read from the store at start, with bytes data) the
// state in use, zeroing the one it replaces: every state of a shared
// keyring has secrets of its own, and readers hold mu while they use
// them. A key that was enabled and is now disabled or gone, or a version
// newly retired, grows the StateSerial. Caller holds wmu.
func (k *Keyring) install(st *state, data []byte, start int64) {
	k.mu.Lock()
	old := k.st
	if old == nil { // closed meanwhile
		k.mu.Unlock()
		st.wipe()
		return
	}
	k.st = st
	lost := false
	for id, c := range old.keys {
		n, ok := st.keys[id]
		if c.enabled && (!ok || !n.enabled) {
			lost = true
		}
		// A version retired on another node: bucket keys cached under it
		// here must go too.
		for i, v := range c.versions {
			if ok && i < len(n.versions) && v.retired.IsZero() && !n.versions[i].retired.IsZero() {
				lost = true
			}
		}
	}
	old.wipe()
	k.mu.Unlock()
	k.shared.last = data
	k.shared.fetch.Store(start)
	if lost {
		k.disables.Add(1)
	}
}

// reread loads the store's keyring unless a read that started at or after
// since (ns since base) already did. Caller holds nothing.
func (k *Keyring) reread(ctx context.Context, since int64) error {
	s := k.shared
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if s.fetch.Load() >= since {
		return nil // another caller's read started after we looked
	}
	if k.closed() {
		return errClosed()
	}
	start := s.since()
	data, err := s.blobs.GetBlob(ctx, SharedKeyringBlob)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrUnavailable.WithMessage("The shared keyring cannot be read from the metadata store.")
	}
	if bytes.Equal(data, s.last) {
		s.fetch.Store(start)
		return nil
	}
	st, err := k.decodeShared(data)
	if err != nil {
		return ErrUnavailable.WithMessage("The shared keyring in the metadata store does not open with this node's root key, or is damaged.")
	}
	k.install(st, data, start)
	return nil
}

// sharedSync brings a shared keyring's state up to date before a use of
// key keyID (any form; "" = the default key) and, when version > 0, of
// that version: re-read when the copy is older than the refresh interval,
// or when it lacks the key or version. No-op for a keyring file.
func (k *Keyring) sharedSync(ctx context.Context, keyID string, version uint32) error {
	s := k.shared
	if s == nil {
		return nil
	}
	now := s.since()
	if now-s.fetch.Load() > int64(s.every) {
		if err := k.reread(ctx, now-int64(s.every)); err != nil {
			return err
		}
	}
	if keyID != "" {
		if _, err := ParseKeyID(keyID); err != nil {
			return nil // no store holds it: the use fails without a read
		}
	}
	if k.holds(keyID, version) {
		return nil
	}
	return k.reread(ctx, now)
}

// holds reports whether the state in use has key keyID (and version).
func (k *Keyring) holds(keyID string, version uint32) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.st == nil {
		return true // closed: the use fails on its own
	}
	c, err := k.st.find(keyID)
	return err == nil && uint64(version) <= uint64(len(c.versions))
}

// sharedSerialSync is the refresh KeyStateSerial does: cached bucket keys
// are checked against the serial alone, so the serial must not be older
// than the bound either. A failed re-read makes every cache entry stale
// (the provider call that follows fails closed).
func (k *Keyring) sharedSerialSync() {
	s := k.shared
	if s == nil {
		return
	}
	now := s.since()
	if now-s.fetch.Load() <= int64(s.every) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.every)
	defer cancel()
	if err := k.reread(ctx, now-int64(s.every)); err != nil {
		k.disables.Add(1)
	}
}

// sharedListSync re-reads a shared keyring before a listing (an operator
// call: it shows what the store holds now).
func (k *Keyring) sharedListSync(ctx context.Context) error {
	if k.shared == nil {
		return nil
	}
	return k.reread(ctx, k.shared.since())
}

// renameDurably renames a file and syncs its directory.
func renameDurably(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(to))
}

// errSharedRootChange refuses ChangeRootKey on a shared keyring: every
// node, and the deployment's root-key check, would have to change at once.
var errSharedRootChange = errors.New("kms: the root key of a deployment whose keyring is shared cannot be changed here")
