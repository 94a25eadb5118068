package blob

import (
	"bytes"
	"testing"
)

func TestPadding(t *testing.T) {
	for _, tc := range []struct{ n, q, want int64 }{
		{0, PadQuantum, 0},
		{1, PadQuantum, PadQuantum - 1},
		{PadQuantum - 1, PadQuantum, 1},
		{PadQuantum, PadQuantum, 0},
		{PadQuantum + 1, PadQuantum, PadQuantum - 1},
		{3*PadQuantum + 58, PadQuantum, PadQuantum - 58},
		{12345, 0, 0},
		{12345, -1, 0},
	} {
		if got := Padding(tc.n, tc.q); got != tc.want {
			t.Errorf("Padding(%d, %d) = %d, want %d", tc.n, tc.q, got, tc.want)
		}
	}
}

func TestWritePaddingIsRandom(t *testing.T) {
	var b bytes.Buffer
	if err := WritePadding(&b, 100, 4096); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 4096-100 {
		t.Fatalf("wrote %d bytes of padding, want %d", b.Len(), 4096-100)
	}
	// Zeros would show the tier where the ciphertext ends.
	if zeros := bytes.Count(b.Bytes(), []byte{0}); zeros > b.Len()/64 {
		t.Fatalf("padding has %d zero bytes of %d: not random", zeros, b.Len())
	}
}
