// Package kmip is strongroom's KMIP key provider: customer master keys live
// in an enterprise key manager (Thales CipherTrust, Fortanix, Entrust,
// HashiCorp Vault Enterprise, PyKMIP...) reached over KMIP 1.4 with mutual
// TLS, and data keys are wrapped and unwrapped by the server's own
// AES-256-GCM Encrypt and Decrypt: master key material never enters
// strongroom's memory.
//
// Key model on the server. A strongroom CMK NAME with versions 1..N is N
// AES-256 symmetric keys named PREFIX+NAME+"@v"+i (Create then Activate),
// all in the object group GROUP; rotation creates the next one. KMIP's own
// life cycle has no way back from Deactivated (and PyKMIP refuses to
// decrypt with a Deactivated key), so strongroom's reversible
// disable/enable is a marker object, a Pre-Active (never activated, so
// unusable) key named PREFIX+NAME+"@disabled": disable creates it, enable
// destroys it. Revoke is used only on the way to Destroy (DestroyKey,
// crypto-shredding). A key a server administrator revokes is reported
// disabled.
//
// Key state (versions, disabled) is cached for Config.CacheTTL: a change
// made through this provider is seen at once, one made by another node or
// on the server after at most the TTL (the server itself refuses to use a
// revoked or destroyed key immediately).
package kmip

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// Config configures a Provider.
type Config struct {
	Addr     string // host:port of the KMIP server (5696 is KMIP's port)
	CertFile string // client certificate (PEM), for mutual TLS
	KeyFile  string // its private key (PEM)
	CAFile   string // CA certificates that sign the server's certificate (PEM)
	// TLS replaces the three files when set (tests).
	TLS *tls.Config
	// PoolSize bounds the open connections (default 16); Timeout bounds
	// each request, dial included (default 5 s); CacheTTL is how long key
	// state is trusted without asking (default 30 s).
	PoolSize int
	Timeout  time.Duration
	CacheTTL time.Duration
	// Prefix is put before every object name strongroom creates and Group
	// is their object group (defaults "strongroom:" and "strongroom"), so
	// several deployments can share one server.
	Prefix string
	Group  string
}

// Provider is a kms.Provider backed by a KMIP server. Safe for concurrent
// use.
type Provider struct {
	c      *client
	prefix string
	group  string
	ttl    time.Duration

	admin sync.Mutex // serializes create, rotate, disable, enable, destroy
	mu    sync.Mutex
	cache map[string]keyState

	disables atomic.Uint64
}

var (
	_ kms.Provider    = (*Provider)(nil)
	_ kms.Encrypter   = (*Provider)(nil)
	_ kms.StateSerial = (*Provider)(nil)
	_ kms.KeyAdmin    = (*Provider)(nil)
	_ kms.RootSealer  = (*Provider)(nil)
)

// keyState is what the server says about one CMK.
type keyState struct {
	versions  int
	newestUID string
	enabled   bool
	created   time.Time
	rotated   time.Time
	fetched   time.Time
	// retired lists the versions retired (retire.go), once DescribeKey
	// has looked (retiredKnown): one Locate per older version, so the
	// request path, which needs only the newest, does not.
	retired      []uint32
	retiredKnown bool
}

// Open connects to the KMIP server and makes sure the default key
// (kms.DefaultKeyName) exists, creating it on first use. A server that
// cannot be reached fails with an error matching kms.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Addr == "" {
		return nil, errors.New("kmip: no server address (--kmip-addr)")
	}
	tcfg := cfg.TLS
	if tcfg == nil {
		var err error
		if tcfg, err = LoadTLS(cfg.CertFile, cfg.KeyFile, cfg.CAFile); err != nil {
			return nil, err
		}
	}
	p := &Provider{
		c:      newClient(cfg.Addr, tcfg, or(cfg.PoolSize, 16), or(cfg.Timeout, 5*time.Second)),
		prefix: cfg.Prefix, group: cfg.Group, ttl: or(cfg.CacheTTL, 30*time.Second),
		cache: map[string]keyState{},
	}
	if p.prefix == "" {
		p.prefix = "strongroom:"
	}
	if p.group == "" {
		p.group = "strongroom"
	}
	if _, err := p.DescribeKey(ctx, kms.DefaultKeyName); errors.Is(err, kms.ErrNotFound) {
		_, err = p.CreateKey(ctx, kms.DefaultKeyName)
		if err != nil && !errors.Is(err, kms.ErrKeyExists) {
			p.Close()
			return nil, fmt.Errorf("kmip: creating the default key: %w", err)
		}
	} else if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// LoadTLS builds the client side of mutual TLS from PEM files: a
// certificate and key for strongroom, and the CA that signs the server's
// certificate (the system roots are not trusted for a key manager).
func LoadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" || caFile == "" {
		return nil, errors.New("kmip: mutual TLS needs --kmip-cert, --kmip-key and --kmip-ca")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("kmip: client certificate: %w", err)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("kmip: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("kmip: CA file %s holds no PEM certificate", caFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Close closes the connections. Later calls fail with kms.ErrUnavailable.
func (p *Provider) Close() error {
	p.c.close()
	return nil
}

func (p *Provider) versionName(name string, v int) string {
	return p.prefix + name + "@v" + strconv.Itoa(v)
}

func (p *Provider) markerName(name string) string { return p.prefix + name + "@disabled" }

func notFound(id string) error {
	return kms.ErrNotFound.WithMessage(fmt.Sprintf("Key %q does not exist.", id))
}

func disabled(id string) error {
	return kms.ErrDisabled.WithMessage(fmt.Sprintf("Key %q is disabled.", id))
}

// resolve returns the canonical name of a key id ("" = the default).
func resolve(keyID string) (string, error) {
	if keyID == "" {
		return kms.DefaultKeyName, nil
	}
	name, err := kms.ParseKeyID(keyID)
	if err != nil {
		return "", kms.ErrNotFound.WithMessage(fmt.Sprintf("Invalid keyId %q.", keyID))
	}
	return name, nil
}

// state returns the key's state, from the cache while it is fresh.
func (p *Provider) state(ctx context.Context, name string) (keyState, error) {
	p.mu.Lock()
	st, ok := p.cache[name]
	p.mu.Unlock()
	if ok && time.Since(st.fetched) < p.ttl {
		return st, nil
	}
	st, err := p.fetch(ctx, name, st.versions)
	if err != nil {
		return keyState{}, err
	}
	p.mu.Lock()
	p.cache[name] = st
	p.mu.Unlock()
	return st, nil
}

func (p *Provider) forget(name string) {
	p.mu.Lock()
	delete(p.cache, name)
	p.mu.Unlock()
}

// fetch asks the server: versions are contiguous from 1, so the newest is
// found by Locate with a doubling then halving search from hint.
func (p *Provider) fetch(ctx context.Context, name string, hint int) (keyState, error) {
	find := func(v int) (string, error) {
		uids, err := p.c.locateName(ctx, p.versionName(name, v))
		if err == nil && len(uids) == 0 {
			// A retired version leaves its tombstone: versions stay
			// contiguous (retire.go).
			uids, err = p.c.locateName(ctx, p.retiredName(name, v))
		}
		if err != nil || len(uids) == 0 {
			return "", err
		}
		return slices.Min(uids), nil // a duplicate from a racing rotate: pick one, always the same
	}
	first, err := find(1)
	if err != nil {
		return keyState{}, err
	}
	if first == "" {
		return keyState{}, notFound(name)
	}
	lo, loUID := 1, first
	if hint > 1 {
		if uid, err := find(hint); err != nil {
			return keyState{}, err
		} else if uid != "" {
			lo, loUID = hint, uid
		}
	}
	hi := 0 // smallest version known missing; 0 = none yet
	for step := 1; hi == 0; step *= 2 {
		uid, err := find(lo + step)
		if err != nil {
			return keyState{}, err
		}
		if uid == "" {
			hi = lo + step
		} else {
			lo, loUID = lo+step, uid
		}
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		uid, err := find(mid)
		if err != nil {
			return keyState{}, err
		}
		if uid == "" {
			hi = mid
		} else {
			lo, loUID = mid, uid
		}
	}
	marker, err := p.c.locateName(ctx, p.markerName(name))
	if err != nil {
		return keyState{}, err
	}
	newest, err := p.c.getAttributes(ctx, loUID)
	if err != nil {
		return keyState{}, err
	}
	st := keyState{versions: lo, newestUID: loUID, rotated: newest.created, created: newest.created, fetched: time.Now(),
		enabled: len(marker) == 0 && newest.state == stateActive}
	if lo > 1 {
		oldest, err := p.c.getAttributes(ctx, first)
		if err != nil {
			return keyState{}, err
		}
		st.created = oldest.created
	}
	return st, nil
}

// GenerateDataKey implements kms.Provider: the data key comes from
// crypto/rand here and is wrapped by the server.
func (p *Provider) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (kms.DataKey, error) {
	return kms.GenerateDataKeyWith(ctx, p, keyID, encCtx)
}

// Encrypt implements kms.Encrypter.
func (p *Provider) Encrypt(ctx context.Context, keyID string, plaintext []byte, encCtx map[string]string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if err := kms.CheckEncryptSize(plaintext); err != nil {
		return nil, "", err
	}
	name, err := resolve(keyID)
	if err != nil {
		return nil, "", err
	}
	if name == kms.RootKeyName && !kms.IsRootKeyContext(encCtx) {
		return nil, "", notFound(name) // reserved for the root key
	}
	st, err := p.state(ctx, name)
	if err != nil {
		return nil, "", err
	}
	if !st.enabled {
		return nil, "", disabled(name)
	}
	hdr := appendHeader(nil, name, uint32(st.versions), st.newestUID)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", kms.ErrUnavailable.WithMessage("No randomness available.")
	}
	ct, tag, err := p.c.encrypt(ctx, st.newestUID, plaintext, nonce, aad(hdr, encCtx))
	if err != nil {
		return nil, "", p.keyErr(name, err)
	}
	out := make([]byte, 0, len(hdr)+nonceSize+len(ct)+gcmTagSize)
	out = append(append(append(append(out, hdr...), nonce...), ct...), tag...)
	return out, name, nil
}

// keyErr maps a server's refusal to use a key; transport errors pass.
func (p *Provider) keyErr(name string, err error) error {
	switch reasonOf(err) {
	case reasonItemNotFound, reasonObjectNotFound, reasonObjectDestroyed:
		p.forget(name)
		return notFound(name)
	case reasonPermissionDenied, reasonWrongState:
		p.forget(name)
		return disabled(name)
	}
	return err // transport errors and other refusals match kms.ErrUnavailable
}

// Decrypt implements kms.Provider. A ciphertext naming a key the server
// does not hold fails with ErrNotFound, a disabled key with ErrDisabled,
// anything that does not authenticate with ErrDecrypt.
func (p *Provider) Decrypt(ctx context.Context, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := parse(ciphertext)
	if err != nil {
		return nil, err
	}
	st, err := p.state(ctx, h.name)
	if err != nil {
		return nil, err
	}
	if !st.enabled {
		return nil, disabled(h.name)
	}
	if int(h.version) > st.versions {
		return nil, bad("unknown key version")
	}
	body := ciphertext[h.hdrLen:]
	nonce, sealed := body[:nonceSize], body[nonceSize:]
	ct, tag := sealed[:len(sealed)-gcmTagSize], sealed[len(sealed)-gcmTagSize:]
	pt, err := p.c.decrypt(ctx, h.uid, ct, nonce, aad(ciphertext[:h.hdrLen], encCtx), tag)
	if err != nil {
		switch reasonOf(err) {
		case -1, reasonPermissionDenied, reasonWrongState:
			return nil, p.keyErr(h.name, err)
		case reasonItemNotFound, reasonObjectNotFound, reasonObjectDestroyed:
			// The key exists (its state was read): the identifier in the
			// ciphertext was altered, or that version was destroyed.
			p.forget(h.name)
			if p.isRetired(ctx, h.name, int(h.version), st) {
				return nil, retiredErr(h.name, h.version)
			}
			return nil, bad("unknown key version")
		}
		// The server could not authenticate it (PyKMIP answers an
		// invalid tag with a general or cryptographic failure).
		return nil, kms.ErrDecrypt
	}
	if len(pt) != len(ct) {
		clear(pt)
		return nil, kms.ErrDecrypt
	}
	return pt, nil
}

// DescribeKey implements kms.Provider.
func (p *Provider) DescribeKey(ctx context.Context, keyID string) (kms.KeyInfo, error) {
	if err := ctx.Err(); err != nil {
		return kms.KeyInfo{}, err
	}
	name, err := resolve(keyID)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	st, err := p.state(ctx, name)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	if !st.retiredKnown {
		if st, err = p.withRetired(ctx, name, st); err != nil {
			return kms.KeyInfo{}, err
		}
	}
	return st.info(name), nil
}

func (st keyState) info(name string) kms.KeyInfo {
	return kms.KeyInfo{ID: name, Created: st.created, Rotated: st.rotated, Enabled: st.enabled,
		Versions: st.versions, Retired: st.retired, Default: name == kms.DefaultKeyName}
}

// KeyStateSerial implements kms.StateSerial for disables made through
// this provider.
func (p *Provider) KeyStateSerial() uint64 { return p.disables.Load() }

// newVersion creates and activates version v of name.
func (p *Provider) newVersion(ctx context.Context, name string, v int) error {
	uid, err := p.c.create(ctx, p.versionName(name, v), p.group)
	if err != nil {
		return err
	}
	if err := p.c.activate(ctx, uid); err != nil {
		p.c.destroy(ctx, uid) // Pre-Active: destroyable at once
		return err
	}
	return nil
}

// fresh reads a key's state from the server, not the cache.
func (p *Provider) fresh(ctx context.Context, name string) (keyState, error) {
	p.forget(name)
	return p.state(ctx, name)
}

// CreateKey implements kms.KeyAdmin.
func (p *Provider) CreateKey(ctx context.Context, keyName string) (kms.KeyInfo, error) {
	name, err := kms.ParseKeyID(keyName)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	if _, err := p.fresh(ctx, name); err == nil {
		return kms.KeyInfo{}, fmt.Errorf("%w: %q", kms.ErrKeyExists, name)
	} else if !errors.Is(err, kms.ErrNotFound) {
		return kms.KeyInfo{}, err
	}
	if err := p.newVersion(ctx, name, 1); err != nil {
		return kms.KeyInfo{}, err
	}
	st, err := p.fresh(ctx, name)
	return st.info(name), err
}

// RotateKey implements kms.KeyAdmin: a new version wraps new data keys;
// older versions still unwrap.
func (p *Provider) RotateKey(ctx context.Context, keyID string) (kms.KeyInfo, error) {
	name, err := resolve(keyID)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	st, err := p.fresh(ctx, name)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	if !st.enabled {
		return kms.KeyInfo{}, disabled(name)
	}
	if err := p.newVersion(ctx, name, st.versions+1); err != nil {
		return kms.KeyInfo{}, err
	}
	st, err = p.fresh(ctx, name)
	return st.info(name), err
}

// DisableKey implements kms.KeyAdmin: the marker object makes every node
// refuse the key (within its cache TTL; this one at once).
func (p *Provider) DisableKey(ctx context.Context, keyID string) (kms.KeyInfo, error) {
	name, err := resolve(keyID)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	if _, err := p.fresh(ctx, name); err != nil {
		return kms.KeyInfo{}, err
	}
	marker, err := p.c.locateName(ctx, p.markerName(name))
	if err != nil {
		return kms.KeyInfo{}, err
	}
	if len(marker) == 0 {
		if _, err := p.c.create(ctx, p.markerName(name), p.group); err != nil {
			return kms.KeyInfo{}, err
		}
	}
	st, err := p.fresh(ctx, name)
	p.disables.Add(1)
	return st.info(name), err
}

// EnableKey implements kms.KeyAdmin.
func (p *Provider) EnableKey(ctx context.Context, keyID string) (kms.KeyInfo, error) {
	name, err := resolve(keyID)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	if _, err := p.fresh(ctx, name); err != nil {
		return kms.KeyInfo{}, err
	}
	marker, err := p.c.locateName(ctx, p.markerName(name))
	if err != nil {
		return kms.KeyInfo{}, err
	}
	for _, uid := range marker {
		if err := p.c.destroy(ctx, uid); err != nil {
			return kms.KeyInfo{}, err
		}
	}
	st, err := p.fresh(ctx, name)
	return st.info(name), err
}

// ListKeys implements kms.KeyAdmin: the keys of this deployment's object
// group, sorted by name.
func (p *Provider) ListKeys(ctx context.Context) ([]kms.KeyInfo, error) {
	uids, err := p.c.locateGroup(ctx, p.group)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, uid := range uids {
		info, err := p.c.getAttributes(ctx, uid)
		if err != nil {
			return nil, err
		}
		for _, n := range info.names {
			rest, ok := strings.CutPrefix(n, p.prefix)
			if i := strings.LastIndex(rest, "@v"); ok && i > 0 && (rest[i+2:] == "1" || rest[i+2:] == "1"+retiredSuffix) {
				names[rest[:i]] = true
			}
		}
	}
	delete(names, kms.RootKeyName) // it seals the root key; no one else may use it
	sorted := slices.Sorted(func(yield func(string) bool) {
		for n := range names {
			if !yield(n) {
				return
			}
		}
	})
	out := make([]kms.KeyInfo, 0, len(sorted))
	for _, n := range sorted {
		info, err := p.DescribeKey(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// SealRootKey implements kms.RootSealer: the root key wrapped under the
// CMK kms.RootKeyName, which serves no client (see Encrypt).
func (p *Provider) SealRootKey(ctx context.Context, rootKey []byte) ([]byte, error) {
	return kms.SealRootKeyUnderCMK(ctx, p, rootKey)
}

// OpenRootKey implements kms.RootSealer.
func (p *Provider) OpenRootKey(ctx context.Context, sealed []byte) ([]byte, error) {
	return kms.OpenRootKeyUnderCMK(ctx, p, sealed)
}

// DestroyKey revokes and destroys every version of a key on the server
// (and its disabled marker): everything wrapped under it can never be
// unwrapped again. There is no undo.
func (p *Provider) DestroyKey(ctx context.Context, keyID string) error {
	name, err := resolve(keyID)
	if err != nil {
		return err
	}
	if name == kms.RootKeyName {
		return fmt.Errorf("%w: %s seals the root key", kms.ErrReservedKey, kms.RootKeyName)
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	return p.destroy(ctx, name)
}

// DestroyAllKeys revokes and destroys every key of this deployment's
// object group, the default key and the root sealing key too: the end of a
// key migration away from this server (`key migrate --finish`), once
// nothing needs them. destroyed names each key gone, in order; on an
// error, those destroyed before it.
func (p *Provider) DestroyAllKeys(ctx context.Context) (destroyed []string, err error) {
	keys, err := p.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	p.admin.Lock()
	defer p.admin.Unlock()
	names := []string{kms.RootKeyName}
	for _, k := range keys {
		names = append(names, k.ID)
	}
	for _, name := range names {
		err := p.destroy(ctx, name)
		if errors.Is(err, kms.ErrNotFound) {
			continue // no root key sealed here
		}
		if err != nil {
			return destroyed, err
		}
		destroyed = append(destroyed, name)
	}
	return destroyed, nil
}

// destroy revokes and destroys every version of a key and its marker
// (p.admin held).
func (p *Provider) destroy(ctx context.Context, name string) error {
	st, err := p.fresh(ctx, name)
	if err != nil {
		return err
	}
	defer p.forget(name)
	for v := 1; v <= st.versions; v++ {
		uids, err := p.c.locateName(ctx, p.versionName(name, v))
		if err != nil {
			return err
		}
		tomb, err := p.c.locateName(ctx, p.retiredName(name, v))
		if err != nil {
			return err
		}
		for _, uid := range append(uids, tomb...) {
			// Revoke fails on a key not Active (already revoked): Destroy
			// tells whether it mattered.
			p.c.revoke(ctx, uid)
			if err := p.c.destroy(ctx, uid); err != nil {
				return err
			}
		}
	}
	marker, err := p.c.locateName(ctx, p.markerName(name))
	if err != nil {
		return err
	}
	for _, uid := range marker {
		if err := p.c.destroy(ctx, uid); err != nil {
			return err
		}
	}
	return nil
}
