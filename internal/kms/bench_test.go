package kms

import "testing"

var benchCtx = map[string]string{"bucket": "bench-bucket", "key": "some/object/key.bin"}

func BenchmarkGenerateDataKey(b *testing.B) {
	k, _, _ := newKeyring(b)
	b.ReportAllocs()
	for b.Loop() {
		dk, err := k.GenerateDataKey(bg, "", benchCtx)
		if err != nil {
			b.Fatal(err)
		}
		clear(dk.Plaintext)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	k, _, _ := newKeyring(b)
	dk, err := k.GenerateDataKey(bg, "", benchCtx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		pt, err := k.Decrypt(bg, dk.Ciphertext, benchCtx)
		if err != nil {
			b.Fatal(err)
		}
		clear(pt)
	}
}

func BenchmarkGenerateDataKeyParallel(b *testing.B) {
	k, _, _ := newKeyring(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			dk, err := k.GenerateDataKey(bg, "", benchCtx)
			if err != nil {
				b.Error(err)
				return
			}
			clear(dk.Plaintext)
		}
	})
}

func BenchmarkDecryptParallel(b *testing.B) {
	k, _, _ := newKeyring(b)
	dk, err := k.GenerateDataKey(bg, "", benchCtx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			pt, err := k.Decrypt(bg, dk.Ciphertext, benchCtx)
			if err != nil {
				b.Error(err)
				return
			}
			clear(pt)
		}
	})
}
