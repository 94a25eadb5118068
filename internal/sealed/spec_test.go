package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"os"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// TestSpecMatchesGolden decodes the golden vectors following only the byte
// format written in doc.go, with its own HKDF (refHKDF) and GCM calls and
// none of the package's code, so doc.go cannot drift from what is on disk.
func TestSpecMatchesGolden(t *testing.T) {
	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []goldenVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		blob := unhex(t, v.Sealed)
		oek := unhex(t, v.ObjectKey)
		hdr := blob[:42]
		if string(hdr[:4]) != "SRSB" || hdr[4] != 1 {
			t.Fatalf("vector %d: bad magic/version", i)
		}
		var h func() hash.Hash
		var name string
		var l int
		switch hdr[5] {
		case 1:
			h, name, l = sha256.New, "AES-256-GCM", 32
		case 2:
			h, name, l = sm3.New, "SM4-GCM", 16
		default:
			t.Fatalf("vector %d: algorithm %d", i, hdr[5])
		}
		s := int(binary.BigEndian.Uint32(hdr[6:10]))
		info := binary.BigEndian.AppendUint32([]byte("strongroom/sealed/v1 part key "+name), uint32(v.PartNumber))
		partKey := refHKDF(h, oek, nil, info, l)
		if !bytes.Equal(partKey, unhex(t, v.PartKey)) {
			t.Fatalf("vector %d: part key differs from the spec", i)
		}
		blobKey := refHKDF(h, partKey, hdr[10:42], append([]byte("strongroom/sealed/v1 blob key"), hdr...), l)
		var block cipher.Block
		if l == 32 {
			block, err = aes.NewCipher(blobKey)
		} else {
			block, err = sm4.NewCipher(blobKey)
		}
		if err != nil {
			t.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		var pt []byte
		body := blob[42:]
		for idx := uint64(0); ; idx++ {
			n := min(len(body), s+16)
			last := n == len(body)
			nonce := make([]byte, 12)
			binary.BigEndian.PutUint64(nonce[3:11], idx)
			if last {
				nonce[11] = 1
			}
			seg, err := gcm.Open(nil, nonce, body[:n], nil)
			if err != nil {
				t.Fatalf("vector %d: segment %d does not open per the spec", i, idx)
			}
			pt = append(pt, seg...)
			body = body[n:]
			if last {
				break
			}
		}
		if !bytes.Equal(pt, unhex(t, v.Plaintext)) {
			t.Fatalf("vector %d: plaintext differs", i)
		}
	}
}
