package kms

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// counters counts provider calls per operation. The zero value is ready.
type counters struct {
	generate, decrypt, describe, encrypt atomic.Uint64
}

func (c *counters) snapshot() map[string]uint64 {
	return map[string]uint64{
		OpGenerateDataKey: c.generate.Load(),
		OpDecrypt:         c.decrypt.Load(),
		OpDescribeKey:     c.describe.Load(),
		OpEncrypt:         c.encrypt.Load(),
	}
}

func (c *counters) reset() {
	c.generate.Store(0)
	c.decrypt.Store(0)
	c.describe.Store(0)
	c.encrypt.Store(0)
}

// Counting wraps any Provider and counts calls per operation, successful or
// not, so tests (and metrics) can see how many KMS calls a request made.
// It is safe for concurrent use.
type Counting struct {
	p       Provider
	c       counters
	observe Observer
}

// Observer is told of every call a Counting forwards: its operation name,
// how long the provider took and the error it returned (metrics).
type Observer func(op string, took time.Duration, err error)

// SetObserver installs o; call it before the provider is used.
func (c *Counting) SetObserver(o Observer) { c.observe = o }

// done reports a call that began at start to the observer.
func (c *Counting) done(op string, start time.Time, err error) {
	if c.observe != nil {
		c.observe(op, time.Since(start), err)
	}
}

var (
	_ Provider    = (*Counting)(nil)
	_ Encrypter   = (*Counting)(nil)
	_ StateSerial = (*Counting)(nil)
)

// NewCounting returns p wrapped in a call counter.
func NewCounting(p Provider) *Counting { return &Counting{p: p} }

// Unwrap returns the wrapped provider.
func (c *Counting) Unwrap() Provider { return c.p }

// Calls returns the number of calls so far per operation name (OpDecrypt,
// OpGenerateDataKey, OpDescribeKey, OpEncrypt); every name is present.
func (c *Counting) Calls() map[string]uint64 { return c.c.snapshot() }

// Reset sets every counter to zero.
func (c *Counting) Reset() { c.c.reset() }

// GenerateDataKey counts and forwards.
func (c *Counting) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (DataKey, error) {
	c.c.generate.Add(1)
	start := time.Now()
	dk, err := c.p.GenerateDataKey(ctx, keyID, encCtx)
	c.done(OpGenerateDataKey, start, err)
	return dk, err
}

// Decrypt counts and forwards.
func (c *Counting) Decrypt(ctx context.Context, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	c.c.decrypt.Add(1)
	start := time.Now()
	key, err := c.p.Decrypt(ctx, ciphertext, encCtx)
	c.done(OpDecrypt, start, err)
	return key, err
}

// DescribeKey counts and forwards.
func (c *Counting) DescribeKey(ctx context.Context, keyID string) (KeyInfo, error) {
	c.c.describe.Add(1)
	start := time.Now()
	info, err := c.p.DescribeKey(ctx, keyID)
	c.done(OpDescribeKey, start, err)
	return info, err
}

// Encrypt counts and forwards if the wrapped provider is an Encrypter; else
// it fails with an error matching errors.ErrUnsupported.
func (c *Counting) Encrypt(ctx context.Context, keyID string, plaintext []byte, encCtx map[string]string) ([]byte, string, error) {
	c.c.encrypt.Add(1)
	e, ok := c.p.(Encrypter)
	if !ok {
		return nil, "", fmt.Errorf("kms: %T cannot encrypt: %w", c.p, errors.ErrUnsupported)
	}
	start := time.Now()
	ct, id, err := e.Encrypt(ctx, keyID, plaintext, encCtx)
	c.done(OpEncrypt, start, err)
	return ct, id, err
}

// KeyStateSerial forwards to the wrapped provider's StateSerial; 0 (never
// changes) when it has none.
func (c *Counting) KeyStateSerial() uint64 {
	if s, ok := c.p.(StateSerial); ok {
		return s.KeyStateSerial()
	}
	return 0
}
