package kms

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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
	p Provider
	c counters
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
	return c.p.GenerateDataKey(ctx, keyID, encCtx)
}

// Decrypt counts and forwards.
func (c *Counting) Decrypt(ctx context.Context, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	c.c.decrypt.Add(1)
	return c.p.Decrypt(ctx, ciphertext, encCtx)
}

// DescribeKey counts and forwards.
func (c *Counting) DescribeKey(ctx context.Context, keyID string) (KeyInfo, error) {
	c.c.describe.Add(1)
	return c.p.DescribeKey(ctx, keyID)
}

// Encrypt counts and forwards if the wrapped provider is an Encrypter; else
// it fails with an error matching errors.ErrUnsupported.
func (c *Counting) Encrypt(ctx context.Context, keyID string, plaintext []byte, encCtx map[string]string) ([]byte, string, error) {
	c.c.encrypt.Add(1)
	e, ok := c.p.(Encrypter)
	if !ok {
		return nil, "", fmt.Errorf("kms: %T cannot encrypt: %w", c.p, errors.ErrUnsupported)
	}
	return e.Encrypt(ctx, keyID, plaintext, encCtx)
}

// KeyStateSerial forwards to the wrapped provider's StateSerial; 0 (never
// changes) when it has none.
func (c *Counting) KeyStateSerial() uint64 {
	if s, ok := c.p.(StateSerial); ok {
		return s.KeyStateSerial()
	}
	return 0
}
