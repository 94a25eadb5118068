package meta

import (
	"strings"
	"testing"
)

// TestNewVersionIDShape: every ID decodes back to its sequence and none
// starts with '-' (which the aws CLI would take for a flag). One ID in 64
// would without the redraw, so 5,000 draws find it almost surely.
func TestNewVersionIDShape(t *testing.T) {
	for _, seq := range []uint64{0, 1, 7, 1 << 40, ^uint64(0)} {
		for i := 0; i < 1000; i++ {
			id := NewVersionID(seq)
			if strings.HasPrefix(id, "-") {
				t.Fatalf("NewVersionID(%d) = %q starts with '-'", seq, id)
			}
			got, err := VersionSeq(id)
			if err != nil || got != seq {
				t.Fatalf("VersionSeq(%q) = %d, %v; want %d", id, got, err, seq)
			}
		}
	}
	if _, err := VersionSeq("not-an-id"); err == nil {
		t.Fatal("VersionSeq accepted a malformed ID")
	}
}
