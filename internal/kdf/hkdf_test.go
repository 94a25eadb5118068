package kdf

import (
	"bytes"
	"crypto/fips140"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// RFC 5869 appendix A, test cases 1 to 3 (SHA-256).
func TestRFC5869(t *testing.T) {
	hx := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	long := func(from byte, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = from + byte(i)
		}
		return b
	}
	cases := []struct {
		name            string
		ikm, salt, info []byte
		okm             string
	}{
		{"basic", bytes.Repeat([]byte{0x0b}, 22), hx("000102030405060708090a0b0c"), hx("f0f1f2f3f4f5f6f7f8f9"),
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
		{"long inputs", long(0x00, 80), long(0x60, 80), long(0xb0, 80),
			"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
		{"no salt or info", bytes.Repeat([]byte{0x0b}, 22), nil, nil,
			"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := hx(c.okm)
			got := make([]byte, len(want))
			Key(got, c.ikm, c.salt, c.info)
			if !bytes.Equal(got, want) {
				t.Fatalf("got %x\nwant %x", got, want)
			}
		})
	}
}

// Key must return what crypto/hkdf returns, for every length of secret,
// salt (including empty, and longer than a block), info and output.
func TestMatchesCryptoHKDF(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	for i := range 3000 {
		secret := rnd(r.IntN(100))
		salt := rnd(r.IntN(140))
		if i%7 == 0 {
			salt = nil
		}
		info := rnd(r.IntN(200))
		n := 1 + r.IntN(200)
		if i%50 == 0 {
			n = MaxLen
		}
		want, err := hkdf.Key(sha256.New, secret, salt, string(info), n)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		Key(got, secret, salt, info)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (secret %d, salt %d, info %d, out %d bytes): got %x, want %x",
				i, len(secret), len(salt), len(info), n, got, want)
		}
	}
}

func TestBadLength(t *testing.T) {
	for _, n := range []int{0, MaxLen + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%d bytes: no panic", n)
				}
			}()
			Key(make([]byte, n), []byte("s"), nil, nil)
		}()
	}
}

func TestNoAllocs(t *testing.T) {
	if fips140.Enabled() {
		t.Skip("FIPS 140 mode: crypto/hkdf allocates")
	}
	secret, salt, info := make([]byte, 32), make([]byte, 32), make([]byte, 71)
	var out [44]byte
	if n := testing.AllocsPerRun(100, func() { Key(out[:], secret, salt, info) }); n != 0 {
		t.Errorf("%v allocations per Key, want 0", n)
	}
}

func BenchmarkKey(b *testing.B) {
	secret, salt, info := make([]byte, 32), make([]byte, 32), make([]byte, 71)
	var out [32]byte
	b.Run("kdf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Key(out[:], secret, salt, info)
		}
	})
	b.Run("crypto-hkdf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, _ := hkdf.Key(sha256.New, secret, salt, string(info), 32)
			copy(out[:], k)
		}
	})
}

// HMAC must return what crypto/hmac returns, for keys shorter and longer
// than a block and messages across the chunk size.
func TestHMACMatchesCryptoHMAC(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		key := make([]byte, r.IntN(150))
		msg := make([]byte, r.IntN(1100))
		for _, b := range [][]byte{key, msg} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		want := m.Sum(nil)
		var got [32]byte
		HMAC(&got, key, string(msg))
		if !bytes.Equal(got[:], want) {
			t.Fatalf("case %d (key %d, msg %d bytes): got %x, want %x", i, len(key), len(msg), got, want)
		}
	}
	msg := string(make([]byte, 700))
	var out [32]byte
	key := make([]byte, 32)
	if fips140.Enabled() {
		return // crypto/hmac's allocations
	}
	if n := testing.AllocsPerRun(100, func() { HMAC(&out, key, msg) }); n != 0 {
		t.Errorf("%v allocations per HMAC, want 0", n)
	}
}
