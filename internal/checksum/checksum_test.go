package checksum

import (
	"bytes"
	"crypto/md5"
	"hash"
	"hash/crc64"
	"testing"
)

func TestKnownValues(t *testing.T) {
	tests := []struct{ in, alg, want string }{
		{"hello trailer", CRC32, "WzGbuw=="}, // the aws-chunked example in dialects.md
		{"hello trailer", SHA256, "4W6YUvEL9tzY87UiPfd6bPr7YixE+K58sLZ2rlKRC1Q="},
		{"123456789", CRC64ECMA, "11051210869376104954"}, // CRC-64/XZ check value 0x995DC9BBDF1939FA
		{"123456789", CRC32C, "4waSgw=="},                // check value 0xE3069283
	}
	for _, tt := range tests {
		s := NewSet(nil, tt.alg)
		s.Write([]byte(tt.in))
		if got := s.Values()[tt.alg]; got != tt.want {
			t.Errorf("%s = %s, want %s", tt.alg, got, tt.want)
		}
	}
}

func TestCombineCRC64ECMA(t *testing.T) {
	tab := crc64.MakeTable(crc64.ECMA)
	for _, split := range []int{0, 1, 7, 100, 4095} {
		a := bytes.Repeat([]byte("abc"), 1400)[:split]
		b := bytes.Repeat([]byte("xyz"), 1000)
		whole := crc64.Checksum(append(append([]byte{}, a...), b...), tab)
		got := CombineCRC64ECMA(crc64.Checksum(a, tab), crc64.Checksum(b, tab), int64(len(b)))
		if got != whole {
			t.Fatalf("split %d: combine %d, want %d", split, got, whole)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"crc32": CRC32, "Sha256": SHA256, "md5": "", "": "", "crc64nvme": CRC64NVME} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkSet measures one pass of the hashes uploads compute, per
// combination a request can ask for, on 1 MiB chunks (the copy buffer).
func BenchmarkSet(b *testing.B) {
	chunk := bytes.Repeat([]byte("strongroom"), 1<<20/10)
	for _, tc := range []struct {
		name string
		md5  bool
		algs []string
	}{
		{"MD5", true, nil},
		{"MD5+CRC32", true, []string{CRC32}},
		{"CRC32C", false, []string{CRC32C}},
		{"CRC64NVME", false, []string{CRC64NVME}},
		{"CRC64ECMA", false, []string{CRC64ECMA}},
		{"SHA256", false, []string{SHA256}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var h hash.Hash
			if tc.md5 {
				h = md5.New()
			}
			s := NewSet(h, tc.algs...)
			b.SetBytes(int64(len(chunk)))
			for b.Loop() {
				s.Write(chunk)
			}
		})
	}
}
