//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"sync"

	p11 "github.com/miekg/pkcs11"
)

// module is one loaded PKCS#11 library. Cryptoki is initialised once per
// process (a second C_Initialize fails, and C_Finalize ends every caller's
// sessions), so providers of the same module share it: this registry is
// the process-wide state the standard imposes, not a convenience.
type module struct {
	path string
	// mu is held for reading by every call into the library and for
	// writing while it is finalised and initialised again (reinit), so no
	// call runs against a library being torn down.
	mu   sync.RWMutex
	ctx  *p11.Ctx
	gen  uint64 // grows with every reinit; sessions of older generations are gone
	refs int    // guarded by modules.mu
}

var modules = struct {
	mu sync.Mutex
	m  map[string]*module
}{m: map[string]*module{}}

func isRV(err error, rv uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == rv
}

// loadModule loads and initialises the library at path, or shares the one
// already loaded.
func loadModule(path string) (*module, error) {
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if m := modules.m[path]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %s", path)
	}
	if err := ctx.Initialize(); err != nil && !isRV(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("pkcs11: initialising module %s: %w", path, err)
	}
	m := &module{path: path, ctx: ctx, gen: 1, refs: 1}
	modules.m[path] = m
	return m, nil
}

// release drops a reference; the last one finalises and unloads.
func (m *module) release() {
	modules.mu.Lock()
	defer modules.mu.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(modules.m, m.path)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctx.Finalize()
	m.ctx.Destroy()
}

// reinit finalises and initialises the library again (what makes a module
// notice a token that was removed and put back), unless someone already
// did since generation seen. It returns the current generation.
func (m *module) reinit(seen uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != seen {
		return m.gen, nil
	}
	m.ctx.Finalize()
	if err := m.ctx.Initialize(); err != nil && !isRV(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		return m.gen, err
	}
	m.gen++
	return m.gen, nil
}

func (m *module) generation() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen
}
