//go:build cgo

package pkcs11

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// rootName names the key that seals a data directory's root key. The
// space makes it an invalid CMK name: it is never listed, and no request
// can name it.
const rootName = "strongroom root key"

// rootContext binds a sealed root key to its purpose.
var rootContext = map[string]string{"strongroom": "root key"}

// Provider is the PKCS#11 key provider. It is safe for concurrent use.
type Provider struct {
	cfg  Config
	log  *slog.Logger
	mod  *module
	mech byte // for new wraps

	pool chan *session
	open atomic.Int32 // sessions open (in the pool or in use)

	reconnect sync.Mutex // one reconnect at a time

	mu      sync.Mutex // guards what follows; taken after mod.mu, never before
	slot    uint
	gen     uint64 // module generation the sessions belong to
	handles map[string]p11.ObjectHandle
	index   map[string]*keyState // nil: must scan
	indexAt time.Time
	down    error // non-nil while the token is unreachable
	lastTry time.Time
	closed  bool

	disables atomic.Uint64
}

var (
	_ kms.Provider    = (*Provider)(nil)
	_ kms.Encrypter   = (*Provider)(nil)
	_ kms.KeyAdmin    = (*Provider)(nil)
	_ kms.RootSealer  = (*Provider)(nil)
	_ kms.StateSerial = (*Provider)(nil)
)

type session struct {
	h    p11.SessionHandle
	gen  uint64
	slot uint
}

// keyState is what the token says about one CMK.
type keyState struct {
	id       string
	versions map[uint32]p11.ObjectHandle
	newest   uint32
	enabled  bool // CKA_DECRYPT of the newest version
	created  time.Time
	rotated  time.Time
}

func (k *keyState) info() kms.KeyInfo {
	return kms.KeyInfo{ID: k.id, Created: k.created, Rotated: k.rotated, Enabled: k.enabled, Versions: int(k.newest), Retired: k.retired(), Default: k.id == kms.DefaultKeyName}
}

func label(id string, version uint32) string {
	return id + "#" + strconv.FormatUint(uint64(version), 10)
}

// parseLabel splits "NAME#VERSION"; ok is false for other objects.
func parseLabel(l string) (id string, version uint32, ok bool) {
	i := strings.LastIndexByte(l, '#')
	if i <= 0 {
		return "", 0, false
	}
	v, err := strconv.ParseUint(l[i+1:], 10, 32)
	if err != nil || v == 0 || !validCMK(l[:i]) {
		return "", 0, false
	}
	return l[:i], uint32(v), true
}

// Open loads the module, logs in to the token labelled cfg.Token and makes
// sure the default key (kms.DefaultKeyName) exists. Close releases it.
func Open(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Module == "" || cfg.Token == "" {
		return nil, errors.New("pkcs11: a module path and a token label are needed")
	}
	if cfg.PIN == "" {
		return nil, errors.New("pkcs11: no PIN")
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = time.Minute
	}
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mod, err := loadModule(cfg.Module)
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, log: log, mod: mod, pool: make(chan *session, cfg.Sessions), handles: map[string]p11.ObjectHandle{}}
	if err := p.connect(mod.generation()); err != nil {
		mod.release()
		return nil, err
	}
	if p.mech, err = p.pickMechanism(cfg.Mechanism); err != nil {
		p.Close()
		return nil, err
	}
	if _, err := p.DescribeKey(ctx, kms.DefaultKeyName); errors.Is(err, kms.ErrNotFound) {
		_, err = p.CreateKey(ctx, kms.DefaultKeyName)
		if errors.Is(err, kms.ErrKeyExists) {
			err = nil
		}
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("pkcs11: creating the default key: %w", err)
		}
	} else if err != nil {
		p.Close()
		return nil, err
	}
	log.Info("PKCS#11 token open", "module", cfg.Module, "token", cfg.Token, "mechanism", mechName(p.mech), "sessions", cfg.Sessions)
	return p, nil
}

func mechName(m byte) string {
	if m == mechKWP {
		return "CKM_AES_KEY_WRAP_PAD"
	}
	return "CKM_AES_GCM"
}

// pickMechanism chooses the wrap of new data keys: what was asked for, or
// GCM where the token encrypts with it, else AES key wrap with padding.
func (p *Provider) pickMechanism(want string) (byte, error) {
	has := func(mech, flags uint) bool {
		p.mod.mu.RLock()
		defer p.mod.mu.RUnlock()
		info, err := p.mod.ctx.GetMechanismInfo(p.slot, []*p11.Mechanism{p11.NewMechanism(mech, nil)})
		return err == nil && info.Flags&flags == flags
	}
	gcm := has(p11.CKM_AES_GCM, p11.CKF_ENCRYPT|p11.CKF_DECRYPT)
	kwp := has(p11.CKM_AES_KEY_WRAP_PAD, p11.CKF_WRAP|p11.CKF_UNWRAP)
	switch {
	case want == MechGCM && gcm, want == "" && gcm:
		return mechGCM, nil
	case want == MechKWP && kwp, want == "" && kwp:
		return mechKWP, nil
	case want != "" && want != MechGCM && want != MechKWP:
		return 0, fmt.Errorf("pkcs11: unknown mechanism %q (%s or %s)", want, MechGCM, MechKWP)
	}
	return 0, fmt.Errorf("pkcs11: token %q offers neither CKM_AES_GCM encryption nor CKM_AES_KEY_WRAP_PAD (asked: %q)", p.cfg.Token, want)
}

// connect finds the token, opens a session and logs in (module generation
// gen). It is called by Open and, after an outage, by ensureUp.
func (p *Provider) connect(gen uint64) error {
	p.mod.mu.RLock()
	defer p.mod.mu.RUnlock()
	c := p.mod.ctx
	slots, err := c.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("pkcs11: listing slots: %w", err)
	}
	var slot uint
	found := false
	for _, s := range slots {
		ti, err := c.GetTokenInfo(s)
		if err == nil && strings.TrimRight(ti.Label, " ") == p.cfg.Token {
			slot, found = s, true
			break
		}
	}
	if !found {
		return fmt.Errorf("pkcs11: no token labelled %q in module %s", p.cfg.Token, p.cfg.Module)
	}
	h, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return fmt.Errorf("pkcs11: opening a session: %w", err)
	}
	// Login is per application and token: every session is logged in.
	if err := c.Login(h, p11.CKU_USER, p.cfg.PIN); err != nil && !isRV(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
		c.CloseSession(h)
		return fmt.Errorf("pkcs11: logging in to token %q: %w", p.cfg.Token, err)
	}
	p.mu.Lock()
	p.slot, p.gen = slot, gen
	p.down = nil
	p.handles = map[string]p11.ObjectHandle{}
	p.index = nil
	p.mu.Unlock()
	// Sessions of the previous generation died with it.
	for drained := false; !drained; {
		select {
		case s := <-p.pool:
			p.open.Add(-1)
			if s.gen == gen {
				c.CloseSession(s.h)
			}
		default:
			drained = true
		}
	}
	p.open.Add(1)
	p.release(&session{h: h, gen: gen, slot: slot})
	return nil
}

// release returns a session to the pool, or forgets it when its library
// generation is gone (or the pool is full).
func (p *Provider) release(s *session) {
	if s.gen != p.mod.gen {
		p.open.Add(-1)
		return
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.drop(s)
		return
	}
	select {
	case p.pool <- s:
	default:
		p.mod.ctx.CloseSession(s.h)
		p.open.Add(-1)
	}
}

// Close logs out and closes the sessions; later calls fail with
// kms.ErrUnavailable. Idempotent.
func (p *Provider) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	// Only this provider's sessions: another provider of the same module
	// in this process keeps its own (and the login, which ends with the
	// application's last session). Sessions in use close on release.
	p.mod.mu.RLock()
	for drained := false; !drained; {
		select {
		case s := <-p.pool:
			p.drop(s)
		default:
			drained = true
		}
	}
	p.mod.mu.RUnlock()
	p.mod.release()
	return nil
}

func errClosed() error { return kms.ErrUnavailable.WithMessage("The PKCS#11 provider is closed.") }

func unavailable(err error) error {
	return kms.ErrUnavailable.WithMessage(fmt.Sprintf("The PKCS#11 token is unavailable (%v).", err))
}

// ensureUp returns nil when the token is usable, trying to reconnect
// (at most every RetryEvery) after an outage.
func (p *Provider) ensureUp() error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return errClosed()
	case p.down == nil:
		p.mu.Unlock()
		return nil
	case time.Since(p.lastTry) < p.cfg.RetryEvery:
		err := p.down
		p.mu.Unlock()
		return unavailable(err)
	}
	p.lastTry = time.Now()
	gen := p.gen
	p.mu.Unlock()

	p.reconnect.Lock()
	defer p.reconnect.Unlock()
	p.mu.Lock()
	up := p.down == nil
	p.mu.Unlock()
	if up {
		return nil // reconnected meanwhile
	}
	gen, err := p.mod.reinit(gen)
	if err == nil {
		err = p.connect(gen)
	}
	if err != nil {
		p.mu.Lock()
		p.down = err
		p.gen = gen // the next try initialises the library again
		p.mu.Unlock()
		return unavailable(err)
	}
	p.log.Info("PKCS#11 token reachable again", "token", p.cfg.Token)
	return nil
}

// markDown records an outage: later calls fail fast until a reconnect.
func (p *Provider) markDown(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down == nil {
		p.log.Warn("PKCS#11 token unreachable; key operations fail with ServiceUnavailable until it is back", "token", p.cfg.Token, "error", err.Error())
		p.lastTry = time.Time{}
	}
	p.down = err
}

func (p *Provider) current() (slot uint, gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slot, p.gen
}

// acquire takes a pooled session or opens one, waiting when the pool is
// at its size. The caller holds p.mod.mu for reading.
func (p *Provider) acquire(ctx context.Context) (*session, error) {
	slot, gen := p.current()
	take := func(s *session) *session {
		if s.gen != gen {
			p.open.Add(-1) // its library generation is gone, and the session with it
			return nil
		}
		return s
	}
	for {
		select {
		case s := <-p.pool:
			if s = take(s); s != nil {
				return s, nil
			}
			continue
		default:
		}
		if p.open.Add(1) <= int32(p.cfg.Sessions) {
			s, err := p.newSession(slot, gen)
			if err != nil {
				p.open.Add(-1)
			}
			return s, err
		}
		p.open.Add(-1)
		select {
		case s := <-p.pool:
			if s = take(s); s != nil {
				return s, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// newSession opens a session, logging in when the application is not
// (the login ends with the application's last session on the token).
func (p *Provider) newSession(slot uint, gen uint64) (*session, error) {
	c := p.mod.ctx
	h, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return nil, err
	}
	info, err := c.GetSessionInfo(h)
	if err == nil && info.State != p11.CKS_RW_USER_FUNCTIONS && info.State != p11.CKS_RO_USER_FUNCTIONS {
		if err = c.Login(h, p11.CKU_USER, p.cfg.PIN); isRV(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
			err = nil
		}
	}
	if err != nil {
		c.CloseSession(h)
		return nil, err
	}
	return &session{h: h, gen: gen, slot: slot}, nil
}

// drop closes a session that must not be reused.
func (p *Provider) drop(s *session) {
	if s.gen == p.mod.gen {
		p.mod.ctx.CloseSession(s.h)
	}
	p.open.Add(-1)
}

type errKind int

const (
	kindFinal   errKind = iota // an answer: pass it on
	kindLogin                  // log in again and retry
	kindSession                // the session is gone: retry on another
	kindHandle                 // an object handle is stale: look it up again
	kindDown                   // the token or library is gone
)

func classify(err error) errKind {
	var rv p11.Error
	if !errors.As(err, &rv) {
		return kindFinal
	}
	switch uint(rv) {
	case p11.CKR_USER_NOT_LOGGED_IN:
		return kindLogin
	case p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_OPERATION_ACTIVE:
		return kindSession
	case p11.CKR_OBJECT_HANDLE_INVALID, p11.CKR_KEY_HANDLE_INVALID, p11.CKR_WRAPPING_KEY_HANDLE_INVALID, p11.CKR_UNWRAPPING_KEY_HANDLE_INVALID:
		return kindHandle
	case p11.CKR_DEVICE_REMOVED, p11.CKR_DEVICE_ERROR, p11.CKR_DEVICE_MEMORY, p11.CKR_TOKEN_NOT_PRESENT,
		p11.CKR_TOKEN_NOT_RECOGNIZED, p11.CKR_GENERAL_ERROR, p11.CKR_FUNCTION_FAILED,
		p11.CKR_CRYPTOKI_NOT_INITIALIZED, p11.CKR_SLOT_ID_INVALID, p11.CKR_HOST_MEMORY:
		return kindDown
	}
	return kindFinal
}

// call runs fn on a session, logging in again, changing session or
// looking handles up again when the token asks for it (once), and marking
// the token down when it is gone. fn returns the library's errors as they
// are (for classify) or kms errors.
func (p *Provider) call(ctx context.Context, fn func(c *p11.Ctx, s *session) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.ensureUp(); err != nil {
			return err
		}
		kind, again := p.attempt(ctx, fn, &err)
		if !again {
			return err
		}
		if kind == kindDown || attempt == 2 {
			p.markDown(err)
			return unavailable(err)
		}
	}
	return err
}

// attempt is one try of call; again reports whether to retry.
func (p *Provider) attempt(ctx context.Context, fn func(c *p11.Ctx, s *session) error, errp *error) (errKind, bool) {
	p.mod.mu.RLock()
	defer p.mod.mu.RUnlock()
	s, err := p.acquire(ctx)
	if err != nil {
		*errp = err
		if ctx.Err() != nil {
			return kindFinal, false
		}
		k := classify(err)
		return k, k != kindFinal
	}
	err = fn(p.mod.ctx, s)
	*errp = err
	switch k := classify(err); k {
	case kindFinal:
		p.release(s)
		return k, false
	case kindLogin:
		if lerr := p.mod.ctx.Login(s.h, p11.CKU_USER, p.cfg.PIN); lerr != nil && !isRV(lerr, p11.CKR_USER_ALREADY_LOGGED_IN) {
			p.drop(s)
			*errp = lerr
			return kindDown, true
		}
		p.release(s)
		return k, true
	case kindHandle:
		p.forgetHandles()
		p.release(s)
		return k, true
	default:
		p.drop(s)
		return k, true
	}
}

func (p *Provider) forgetHandles() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handles = map[string]p11.ObjectHandle{}
	p.index = nil
}

var errNoObject = errors.New("pkcs11: no such object")

// handle returns the key object labelled l (cached), or errNoObject.
func (p *Provider) handle(c *p11.Ctx, s *session, l string) (p11.ObjectHandle, error) {
	p.mu.Lock()
	h, ok := p.handles[l]
	p.mu.Unlock()
	if ok {
		return h, nil
	}
	objs, err := find(c, s, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_LABEL, l),
	})
	if err != nil {
		return 0, err
	}
	if len(objs) == 0 {
		// A token that lost its objects under us may only be gone.
		if _, err := c.GetTokenInfo(s.slot); err != nil {
			return 0, err
		}
		return 0, errNoObject
	}
	p.mu.Lock()
	p.handles[l] = objs[0]
	p.mu.Unlock()
	return objs[0], nil
}

func find(c *p11.Ctx, s *session, tmpl []*p11.Attribute) ([]p11.ObjectHandle, error) {
	if err := c.FindObjectsInit(s.h, tmpl); err != nil {
		return nil, err
	}
	var out []p11.ObjectHandle
	for {
		objs, _, err := c.FindObjects(s.h, 64)
		if err != nil {
			c.FindObjectsFinal(s.h)
			return nil, err
		}
		if len(objs) == 0 {
			break
		}
		out = append(out, objs...)
	}
	return out, c.FindObjectsFinal(s.h)
}

// keys returns the token's CMKs, scanning the token when the last scan is
// older than RefreshEvery (or fresh is set and it is older than a second).
func (p *Provider) keys(ctx context.Context, fresh bool) (map[string]*keyState, error) {
	p.mu.Lock()
	idx, at := p.index, p.indexAt
	p.mu.Unlock()
	age := time.Since(at)
	if idx != nil && age < p.cfg.RefreshEvery && (!fresh || age < time.Second) {
		return idx, nil
	}
	err := p.call(ctx, func(c *p11.Ctx, s *session) error {
		var err error
		idx, err = scan(c, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.index, p.indexAt = idx, time.Now()
	for _, k := range idx {
		for v, h := range k.versions {
			p.handles[label(k.id, v)] = h
		}
	}
	p.mu.Unlock()
	return idx, nil
}

// scan reads every CMK version object of the token.
func scan(c *p11.Ctx, s *session) (map[string]*keyState, error) {
	objs, err := find(c, s, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_TOKEN, true),
	})
	if err != nil {
		return nil, err
	}
	idx := map[string]*keyState{}
	created := map[string]map[uint32]time.Time{}
	enabled := map[string]map[uint32]bool{}
	for _, o := range objs {
		attrs, err := c.GetAttributeValue(s.h, o, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_LABEL, nil),
			p11.NewAttribute(p11.CKA_ID, nil),
			p11.NewAttribute(p11.CKA_DECRYPT, nil),
		})
		if err != nil {
			if classify(err) == kindFinal {
				continue // not ours to read
			}
			return nil, err
		}
		id, v, ok := parseLabel(string(attrs[0].Value))
		if !ok {
			continue
		}
		k := idx[id]
		if k == nil {
			k = &keyState{id: id, versions: map[uint32]p11.ObjectHandle{}}
			idx[id], created[id], enabled[id] = k, map[uint32]time.Time{}, map[uint32]bool{}
		}
		k.versions[v] = o
		k.newest = max(k.newest, v)
		created[id][v] = parseID(attrs[1].Value)
		enabled[id][v] = len(attrs[2].Value) == 1 && attrs[2].Value[0] != 0
	}
	for id, k := range idx {
		k.enabled = enabled[id][k.newest]
		k.rotated = created[id][k.newest]
		k.created = k.rotated
		for _, t := range created[id] {
			if !t.IsZero() && t.Before(k.created) {
				k.created = t
			}
		}
	}
	return idx, nil
}

// A version object's CKA_ID records its creation time.
const idPrefix = "strongroom:"

func makeID(t time.Time) []byte { return []byte(idPrefix + t.UTC().Format(time.RFC3339Nano)) }

func parseID(b []byte) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, strings.TrimPrefix(string(b), idPrefix))
	return t
}

// canonical resolves a key id ("" = the default key).
func canonical(keyID string) (string, error) {
	if keyID == "" {
		return kms.DefaultKeyName, nil
	}
	id, err := kms.ParseKeyID(keyID)
	if err != nil {
		return "", kms.ErrNotFound.WithMessage(fmt.Sprintf("Invalid keyId %q.", short(keyID)))
	}
	return id, nil
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func notFound(id string) error {
	return kms.ErrNotFound.WithMessage(fmt.Sprintf("Key %q does not exist.", short(id)))
}

func disabled(id string) error {
	return kms.ErrDisabled.WithMessage(fmt.Sprintf("Key %q is disabled.", short(id)))
}

// lookup finds a CMK, scanning the token again on a miss (a key created
// by another process).
func (p *Provider) lookup(ctx context.Context, keyID string) (*keyState, error) {
	id, err := canonical(keyID)
	if err != nil {
		return nil, err
	}
	idx, err := p.keys(ctx, false)
	if err != nil {
		return nil, err
	}
	if k := idx[id]; k != nil {
		return k, nil
	}
	if idx, err = p.keys(ctx, true); err != nil {
		return nil, err
	}
	if k := idx[id]; k != nil {
		return k, nil
	}
	return nil, notFound(keyID)
}

// GenerateDataKey implements kms.Provider.
func (p *Provider) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (kms.DataKey, error) {
	return kms.GenerateDataKeyWith(ctx, p, keyID, encCtx)
}

// Encrypt implements kms.Encrypter.
func (p *Provider) Encrypt(ctx context.Context, keyID string, plaintext []byte, encCtx map[string]string) ([]byte, string, error) {
	if err := kms.CheckEncryptSize(plaintext); err != nil {
		return nil, "", err
	}
	k, err := p.lookup(ctx, keyID)
	if err != nil {
		return nil, "", err
	}
	if !k.enabled {
		return nil, "", disabled(k.id)
	}
	ct, err := p.seal(ctx, k.id, k.newest, plaintext, encCtx)
	if err != nil {
		return nil, "", err
	}
	return ct, k.id, nil
}

// Decrypt implements kms.Provider.
func (p *Provider) Decrypt(ctx context.Context, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	h, err := parse(ciphertext, validCMK)
	if err != nil {
		return nil, err
	}
	return p.unseal(ctx, h, ciphertext, encCtx)
}

// DescribeKey implements kms.Provider.
func (p *Provider) DescribeKey(ctx context.Context, keyID string) (kms.KeyInfo, error) {
	k, err := p.lookup(ctx, keyID)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	return k.info(), nil
}

// KeyStateSerial implements kms.StateSerial for the keys this process
// disables (a key disabled elsewhere is noticed when caches expire, and
// refused by the token itself).
func (p *Provider) KeyStateSerial() uint64 { return p.disables.Load() }

// seal wraps pt under version of CMK id.
func (p *Provider) seal(ctx context.Context, id string, version uint32, pt []byte, encCtx map[string]string) ([]byte, error) {
	hdr := appendHeader(nil, p.mech, id, version)
	ad := aad(hdr, encCtx)
	var out []byte
	err := p.call(ctx, func(c *p11.Ctx, s *session) error {
		key, err := p.handle(c, s, label(id, version))
		if err != nil {
			return err
		}
		if p.mech == mechGCM {
			out, err = gcmSeal(c, s, key, hdr, pt, ad)
		} else {
			out, err = kwpSeal(c, s, key, hdr, pt, ad)
		}
		return err
	})
	return out, p.answer(err, id, version)
}

// unseal opens a parsed ciphertext.
func (p *Provider) unseal(ctx context.Context, h header, ct []byte, encCtx map[string]string) ([]byte, error) {
	ad := aad(ct[:h.hdrLen], encCtx)
	var out []byte
	err := p.call(ctx, func(c *p11.Ctx, s *session) error {
		key, err := p.handle(c, s, label(h.keyID, h.version))
		if err != nil {
			return err
		}
		if h.mech == mechGCM {
			out, err = gcmOpen(c, s, key, h.body, ad)
		} else {
			out, err = kwpOpen(c, s, key, h.body, ad)
		}
		return err
	})
	if errors.Is(err, errNoObject) {
		// The key may exist without this version: retired (below the
		// newest), or a forged version number.
		if k, lerr := p.lookup(ctx, h.keyID); lerr == nil && k != nil {
			if h.version < k.newest {
				return nil, retiredErr(k.id, h.version)
			}
			if h.version > 1 {
				return nil, fmt.Errorf("%w (unknown key version)", kms.ErrDecrypt)
			}
		}
	}
	return out, p.answer(err, h.keyID, h.version)
}

// answer turns what the library said into the provider's errors.
func (p *Provider) answer(err error, id string, version uint32) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errNoObject) {
		return notFound(id)
	}
	var rv p11.Error
	if !errors.As(err, &rv) {
		return err
	}
	switch uint(rv) {
	case p11.CKR_KEY_FUNCTION_NOT_PERMITTED:
		p.forgetHandles() // the scan's enabled flag is stale
		return disabled(id)
	case p11.CKR_ENCRYPTED_DATA_INVALID, p11.CKR_ENCRYPTED_DATA_LEN_RANGE, p11.CKR_WRAPPED_KEY_INVALID,
		p11.CKR_WRAPPED_KEY_LEN_RANGE, p11.CKR_DATA_LEN_RANGE, p11.CKR_DATA_INVALID, p11.CKR_MECHANISM_PARAM_INVALID:
		return kms.ErrDecrypt
	}
	return unavailable(err)
}

func gcmSeal(c *p11.Ctx, s *session, key p11.ObjectHandle, hdr, pt, ad []byte) ([]byte, error) {
	iv := make([]byte, 12)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	params := p11.NewGCMParams(iv, ad, gcmTag*8)
	defer params.Free()
	if err := c.EncryptInit(s.h, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}, key); err != nil {
		return nil, err
	}
	sealed, err := c.Encrypt(s.h, pt)
	if err != nil {
		return nil, err
	}
	// Some HSMs choose the IV themselves and return it in the parameters.
	if got := params.IV(); len(got) >= 12 && len(got) < 256 {
		iv = got
	}
	out := make([]byte, 0, len(hdr)+1+len(iv)+len(sealed))
	out = append(append(append(append(out, hdr...), byte(len(iv))), iv...), sealed...)
	return out, nil
}

func gcmOpen(c *p11.Ctx, s *session, key p11.ObjectHandle, body, ad []byte) ([]byte, error) {
	iv, sealed, err := gcmBody(body)
	if err != nil {
		return nil, err
	}
	params := p11.NewGCMParams(iv, ad, gcmTag*8)
	defer params.Free()
	if err := c.DecryptInit(s.h, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}, key); err != nil {
		return nil, err
	}
	pt, err := c.Decrypt(s.h, sealed)
	return pt, authFailure(c, s, err)
}

// authFailure tells a ciphertext that does not authenticate from a token
// that went away: some modules (SoftHSM2) answer both with
// CKR_GENERAL_ERROR. A token that still answers refused the ciphertext.
func authFailure(c *p11.Ctx, s *session, err error) error {
	if isRV(err, p11.CKR_GENERAL_ERROR) || isRV(err, p11.CKR_FUNCTION_FAILED) {
		if _, terr := c.GetTokenInfo(s.slot); terr == nil {
			return kms.ErrDecrypt
		}
	}
	return err
}

// The data key travels into and out of the token as a session object
// (never a token object) that carries it and the digest of the additional
// data: KWP has no additional data of its own.
func sessionSecret(value []byte) []*p11.Attribute {
	t := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_GENERIC_SECRET),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, false),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
	}
	if value != nil {
		t = append(t, p11.NewAttribute(p11.CKA_VALUE, value))
	}
	return t
}

func kwpSeal(c *p11.Ctx, s *session, key p11.ObjectHandle, hdr, pt, ad []byte) ([]byte, error) {
	sum := sha256.Sum256(ad)
	value := append(slices.Clone(pt), sum[:]...)
	defer clear(value)
	obj, err := c.CreateObject(s.h, sessionSecret(value))
	if err != nil {
		return nil, err
	}
	defer c.DestroyObject(s.h, obj)
	wrapped, err := c.WrapKey(s.h, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP_PAD, nil)}, key, obj)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(hdr), wrapped...), nil
}

func kwpOpen(c *p11.Ctx, s *session, key p11.ObjectHandle, wrapped, ad []byte) ([]byte, error) {
	obj, err := c.UnwrapKey(s.h, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP_PAD, nil)}, key, wrapped, sessionSecret(nil))
	if err != nil {
		return nil, authFailure(c, s, err)
	}
	defer c.DestroyObject(s.h, obj)
	attrs, err := c.GetAttributeValue(s.h, obj, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
	if err != nil {
		return nil, err
	}
	value := attrs[0].Value
	sum := sha256.Sum256(ad)
	if len(value) <= len(sum) || subtle.ConstantTimeCompare(value[len(value)-len(sum):], sum[:]) != 1 {
		clear(value)
		return nil, kms.ErrDecrypt
	}
	return value[:len(value)-len(sum)], nil
}

// newVersion makes version v of CMK id (or the root sealing key) in the
// token: AES-256, non-extractable, sensitive, private, persistent.
func newVersion(c *p11.Ctx, s *session, id string, v uint32) (p11.ObjectHandle, error) {
	return c.GenerateKey(s.h, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_WRAP, true),
		p11.NewAttribute(p11.CKA_UNWRAP, true),
		p11.NewAttribute(p11.CKA_LABEL, label(id, v)),
		p11.NewAttribute(p11.CKA_ID, makeID(time.Now())),
	})
}

// CreateKey implements kms.KeyAdmin.
func (p *Provider) CreateKey(ctx context.Context, name string) (kms.KeyInfo, error) {
	id, err := kms.ParseKeyID(name)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	idx, err := p.keys(ctx, true)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	if idx[id] != nil {
		return kms.KeyInfo{}, fmt.Errorf("%w: %q", kms.ErrKeyExists, id)
	}
	return p.addVersion(ctx, id, 1)
}

// RotateKey implements kms.KeyAdmin: a new key object, the next version.
func (p *Provider) RotateKey(ctx context.Context, name string) (kms.KeyInfo, error) {
	if _, err := p.keys(ctx, true); err != nil { // the newest version as the token has it
		return kms.KeyInfo{}, err
	}
	k, err := p.lookup(ctx, name)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	if !k.enabled {
		return kms.KeyInfo{}, disabled(k.id)
	}
	return p.addVersion(ctx, k.id, k.newest+1)
}

func (p *Provider) addVersion(ctx context.Context, id string, v uint32) (kms.KeyInfo, error) {
	err := p.call(ctx, func(c *p11.Ctx, s *session) error {
		_, err := newVersion(c, s, id, v)
		return err
	})
	if err != nil {
		return kms.KeyInfo{}, fmt.Errorf("pkcs11: creating %s: %w", label(id, v), err)
	}
	p.forgetHandles()
	return p.DescribeKey(ctx, id)
}

// DisableKey implements kms.KeyAdmin: CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP
// and CKA_UNWRAP are cleared on every version, so the token refuses it.
func (p *Provider) DisableKey(ctx context.Context, name string) (kms.KeyInfo, error) {
	info, err := p.setEnabled(ctx, name, false)
	if err == nil {
		p.disables.Add(1)
	}
	return info, err
}

// EnableKey implements kms.KeyAdmin.
func (p *Provider) EnableKey(ctx context.Context, name string) (kms.KeyInfo, error) {
	return p.setEnabled(ctx, name, true)
}

func (p *Provider) setEnabled(ctx context.Context, name string, on bool) (kms.KeyInfo, error) {
	if _, err := p.keys(ctx, true); err != nil {
		return kms.KeyInfo{}, err
	}
	k, err := p.lookup(ctx, name)
	if err != nil {
		return kms.KeyInfo{}, err
	}
	// The newest version last: it is the one DescribeKey reports.
	vs := make([]uint32, 0, len(k.versions))
	for v := range k.versions {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	for _, v := range vs {
		h := k.versions[v]
		err := p.call(ctx, func(c *p11.Ctx, s *session) error {
			return c.SetAttributeValue(s.h, h, []*p11.Attribute{
				p11.NewAttribute(p11.CKA_ENCRYPT, on), p11.NewAttribute(p11.CKA_DECRYPT, on),
				p11.NewAttribute(p11.CKA_WRAP, on), p11.NewAttribute(p11.CKA_UNWRAP, on),
			})
		})
		if err != nil {
			return kms.KeyInfo{}, fmt.Errorf("pkcs11: changing %s: %w", label(k.id, v), err)
		}
	}
	p.forgetHandles()
	return p.DescribeKey(ctx, k.id)
}

// ListKeys implements kms.KeyAdmin.
func (p *Provider) ListKeys(ctx context.Context) ([]kms.KeyInfo, error) {
	idx, err := p.keys(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]kms.KeyInfo, 0, len(idx))
	for _, k := range idx {
		out = append(out, k.info())
	}
	slices.SortFunc(out, func(a, b kms.KeyInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// SealRootKey implements kms.RootSealer: the root key wrapped by the
// token's root sealing key (made on first use).
func (p *Provider) SealRootKey(ctx context.Context, rootKey []byte) ([]byte, error) {
	err := p.call(ctx, func(c *p11.Ctx, s *session) error {
		_, err := p.handle(c, s, label(rootName, 1))
		if errors.Is(err, errNoObject) {
			_, err = newVersion(c, s, rootName, 1)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: root sealing key: %w", p.answer(err, rootName, 1))
	}
	return p.seal(ctx, rootName, 1, rootKey, rootContext)
}

// OpenRootKey implements kms.RootSealer.
func (p *Provider) OpenRootKey(ctx context.Context, sealed []byte) ([]byte, error) {
	h, err := parse(sealed, func(id string) bool { return id == rootName })
	if err != nil {
		return nil, err
	}
	return p.unseal(ctx, h, sealed, rootContext)
}
