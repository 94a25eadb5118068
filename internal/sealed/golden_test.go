package sealed

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the current code (only for a new format version)")

// The golden vectors pin format version 1 byte for byte: key derivation,
// header, nonces, segmentation. If this test fails, the code no longer
// writes (or reads) what existing objects on disk contain. Do not
// regenerate the file to make it pass; add a new version instead.
const goldenFile = "testdata/golden.json"

type goldenVector struct {
	Algorithm   string `json:"algorithm"`
	ObjectKey   string `json:"object_key"` // hex, the OEK
	PartNumber  int    `json:"part_number"`
	PartKey     string `json:"part_key"` // hex, PartKey(algorithm, object_key, part_number)
	SegmentSize int    `json:"segment_size"`
	Salt        string `json:"salt"`      // hex
	Plaintext   string `json:"plaintext"` // hex
	Sealed      string `json:"sealed"`    // hex, the whole blob
}

// goldenInputs are the inputs of the committed vectors.
func goldenInputs() []goldenVector {
	oek := make([]byte, 32)
	for i := range oek {
		oek[i] = byte(i)
	}
	salt := make([]byte, SaltSize)
	for i := range salt {
		salt[i] = 0xa0 + byte(i)
	}
	var out []goldenVector
	for _, alg := range algs {
		for _, tc := range []struct {
			part, seg int
			pt        []byte
		}{
			{0, 16, nil},
			{1, 16, []byte("strongroom")},
			{2, 16, []byte("0123456789abcdef")},                  // exactly one segment
			{3, 16, []byte("0123456789abcdef0123456789abcdef!")}, // two full segments and one byte
			{10000, DefaultSegmentSize, []byte("a default-size segment")},
		} {
			out = append(out, goldenVector{
				Algorithm:   alg.String(),
				ObjectKey:   hex.EncodeToString(oek),
				PartNumber:  tc.part,
				SegmentSize: tc.seg,
				Salt:        hex.EncodeToString(salt),
				Plaintext:   hex.EncodeToString(tc.pt),
			})
		}
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sealGolden fills in PartKey and Sealed from the vector's inputs.
func sealGolden(t *testing.T, v goldenVector) goldenVector {
	alg, err := ParseAlgorithm(v.Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	pk := PartKey(alg, unhex(t, v.ObjectKey), v.PartNumber)
	var salt [SaltSize]byte
	copy(salt[:], unhex(t, v.Salt))
	var buf bytes.Buffer
	w, err := newWriter(&buf, alg, pk, v.SegmentSize, salt)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(unhex(t, v.Plaintext))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	v.PartKey = hex.EncodeToString(pk)
	v.Sealed = hex.EncodeToString(buf.Bytes())
	return v
}

func TestGolden(t *testing.T) {
	if *update {
		var vs []goldenVector
		for _, v := range goldenInputs() {
			vs = append(vs, sealGolden(t, v))
		}
		b, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d vectors to %s", len(vs), goldenFile)
	}

	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []goldenVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(goldenInputs()) {
		t.Fatalf("%s has %d vectors, want %d", goldenFile, len(vs), len(goldenInputs()))
	}
	for i, v := range vs {
		alg, _ := ParseAlgorithm(v.Algorithm)
		// Reading: what is on disk must stay readable.
		pk := unhex(t, v.PartKey)
		sealed := unhex(t, v.Sealed)
		r, err := NewReader(bytes.NewReader(sealed), int64(len(sealed)), pk)
		if err != nil {
			t.Fatalf("vector %d: NewReader: %v", i, err)
		}
		if r.Algorithm() != alg || r.SegmentSize() != v.SegmentSize {
			t.Fatalf("vector %d: header says %v/%d", i, r.Algorithm(), r.SegmentSize())
		}
		pt := unhex(t, v.Plaintext)
		got, err := openAll(t, sealed, pk, pt)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("vector %d: opened %x, %v; want %x", i, got, err, pt)
		}
		// Writing: the same inputs must produce the same bytes.
		again := sealGolden(t, v)
		if again.PartKey != v.PartKey {
			t.Errorf("vector %d: PartKey changed:\n got %s\nwant %s", i, again.PartKey, v.PartKey)
		}
		if again.Sealed != v.Sealed {
			t.Errorf("vector %d: sealed output changed:\n got %s\nwant %s", i, again.Sealed, v.Sealed)
		}
		if int64(len(sealed)) != SealedSize(int64(len(pt)), v.SegmentSize) {
			t.Errorf("vector %d: stored size %d, SealedSize %d", i, len(sealed), SealedSize(int64(len(pt)), v.SegmentSize))
		}
	}
}
