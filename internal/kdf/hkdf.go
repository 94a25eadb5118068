// Package kdf is HKDF-SHA256 (RFC 5869) and HMAC-SHA256 for the request
// path: the same bytes as crypto/hkdf.Key(sha256.New, ...) and crypto/hmac,
// computed without allocating.
//
// Why it exists: a 4 KiB SSE-S3 GET derives three keys (the keyring's
// wrapping key, the part key and the blob key). Through crypto/hkdf each
// derivation allocates about 16 objects (two HMACs, each with two hash
// states and marshalled pads) and cost about 20% of the GET's CPU, several
// times the SHA-256 compressions themselves. Here the hash state and the
// padded keys live on the stack and are cleared before returning.
//
// In FIPS 140 mode (GODEBUG=fips140=on or =only) Key and HMAC defer to
// crypto/hkdf and crypto/hmac, so they stay inside the validated module.
package kdf

import (
	"crypto/fips140"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
)

const (
	blockSize = 64 // SHA-256 block size, the HMAC key size
	size      = sha256.Size
	// MaxLen is the longest output HKDF-SHA256 can produce.
	MaxLen = 255 * size
)

// Key fills out with HKDF-SHA256(ikm = secret, salt, info): exactly the
// len(out) bytes crypto/hkdf.Key(sha256.New, secret, salt, string(info),
// len(out)) returns (a nil or empty salt is HashLen zero bytes in both).
// It panics if len(out) is 0 or more than MaxLen.
func Key(out, secret, salt, info []byte) {
	if len(out) == 0 || len(out) > MaxLen {
		panic("kdf: bad output length")
	}
	if fips140.Enabled() {
		k, err := hkdf.Key(sha256.New, secret, salt, string(info), len(out))
		if err != nil {
			panic("kdf: hkdf: " + err.Error())
		}
		copy(out, k)
		clear(k)
		return
	}
	// Extract: PRK = HMAC(salt, secret). An empty salt pads to the same
	// 64 zero bytes as RFC 5869's HashLen zeros.
	var k0 [blockSize]byte
	padKey(&k0, salt)
	var prk [size]byte
	mac(&prk, &k0, secret, nil, nil, "")
	// Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
	padKey(&k0, prk[:])
	var t, prev [size]byte
	ctr := [1]byte{0}
	var p []byte
	for n := 0; n < len(out); {
		ctr[0]++
		mac(&t, &k0, p, info, ctr[:], "")
		n += copy(out[n:], t[:])
		prev = t
		p = prev[:]
	}
	clear(k0[:])
	clear(prk[:])
	clear(t[:])
	clear(prev[:])
}

// padKey sets k0 to HMAC's K0 for key: the key zero-padded to the block
// size, or its hash zero-padded when it is longer than a block.
func padKey(k0 *[blockSize]byte, key []byte) {
	clear(k0[:])
	if len(key) > blockSize {
		s := sha256.Sum256(key)
		copy(k0[:], s[:])
		clear(s[:])
		return
	}
	copy(k0[:], key)
}

// mac sets out to HMAC-SHA256(K0, a || b || c || s). s goes through a
// stack buffer: converting it to a slice would allocate.
func mac(out *[size]byte, k0 *[blockSize]byte, a, b, c []byte, s string) {
	var pad [blockSize]byte
	for i := range pad {
		pad[i] = k0[i] ^ 0x36
	}
	h := sha256.New()
	h.Write(pad[:])
	h.Write(a)
	h.Write(b)
	h.Write(c)
	var chunk [256]byte
	for len(s) > 0 {
		n := copy(chunk[:], s)
		h.Write(chunk[:n])
		s = s[n:]
	}
	var inner [size]byte
	h.Sum(inner[:0])
	for i := range pad {
		pad[i] = k0[i] ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:])
	h.Write(inner[:])
	h.Sum(out[:0])
	h.Reset()
	clear(pad[:])
	clear(inner[:])
}

// HMAC sets out to HMAC-SHA256(key, msg), as crypto/hmac computes it,
// without allocating (SigV4 checks one per request). msg is a string, as
// SigV4's string to sign is.
func HMAC(out *[size]byte, key []byte, msg string) {
	if fips140.Enabled() {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		m.Sum(out[:0])
		return
	}
	var k0 [blockSize]byte
	padKey(&k0, key)
	mac(out, &k0, nil, nil, nil, msg)
	clear(k0[:])
}
