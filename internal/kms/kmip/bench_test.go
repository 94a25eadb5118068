package kmip

import "testing"

// The KMS round trip a PUT (GenerateDataKey) or a GET (Decrypt) of an
// SSE-KMS object without a bucket key pays, against PyKMIP on loopback.
func BenchmarkGenerateDataKey(b *testing.B) {
	p := open(b)
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::bench/key"}
	for b.Loop() {
		dk, err := p.GenerateDataKey(bg, "", encCtx)
		if err != nil {
			b.Fatal(err)
		}
		clear(dk.Plaintext)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	p := open(b)
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::bench/key"}
	dk, err := p.GenerateDataKey(bg, "", encCtx)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		pt, err := p.Decrypt(bg, dk.Ciphertext, encCtx)
		if err != nil {
			b.Fatal(err)
		}
		clear(pt)
	}
}
