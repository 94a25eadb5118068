package backup

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestOrderChain: archives given in any order come back newest first down
// to the full one; anything that is not one chain is refused.
func TestOrderChain(t *testing.T) {
	full := &Header{ID: "f"}
	i1 := &Header{ID: "i1", Base: "f"}
	i2 := &Header{ID: "i2", Base: "i1"}
	for _, tc := range []struct {
		name string
		hs   []*Header
		want []string // IDs in order; nil: refused
		err  string
	}{
		{"full alone", []*Header{full}, []string{"f"}, ""},
		{"shuffled", []*Header{i1, full, i2}, []string{"i2", "i1", "f"}, ""},
		{"a gap", []*Header{i2, full}, nil, "not given"},
		{"no full", []*Header{i2, i1}, nil, "not given"},
		{"a fork", []*Header{full, i1, {ID: "i1b", Base: "f"}}, nil, "two archives build on f"},
		{"two chains", []*Header{full, {ID: "g"}}, nil, "not one chain"},
		{"twice", []*Header{full, full}, nil, "given twice"},
		{"an archive without ID", []*Header{full, {Format: formatV1}}, nil, "no ID"},
		{"a cycle", []*Header{{ID: "a", Base: "b"}, {ID: "b", Base: "a"}}, nil, "not one chain"},
	} {
		order, err := OrderChain(tc.hs)
		var got []string
		for _, i := range order {
			got = append(got, tc.hs[i].ID)
		}
		if tc.want == nil {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, %v; want an error with %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestReadBase: a complete archive is a base (its ID and every blob its
// metadata references); an archive without its blob list (format 1) or
// cut short is not, and a full archive restores alone while an increment
// does not.
func TestReadBase(t *testing.T) {
	a := archive(t)
	b, err := ReadBase(bytes.NewReader(a))
	if err != nil || b.ID == "" || len(b.Blobs) != 2 {
		t.Fatalf("ReadBase: %+v, %v", b, err)
	}
	v1 := rewrite(t, a, func(h *tar.Header, body []byte) ([]byte, bool) {
		if h.Name == headerName {
			return bytes.Replace(body, []byte(Format), []byte(formatV1), 1), true
		}
		return body, h.Name != refsName
	})
	if _, err := Check(bytes.NewReader(v1)); err != nil {
		t.Fatalf("a format 1 archive no longer checks: %v", err)
	}
	if _, err := ReadBase(bytes.NewReader(v1)); err == nil || !strings.Contains(err.Error(), "take a full backup") {
		t.Errorf("ReadBase of a format 1 archive: %v", err)
	}
	if _, err := ReadBase(bytes.NewReader(a[:len(a)*2/3])); !errors.Is(err, ErrTruncated) {
		t.Errorf("ReadBase of a cut archive: %v, want ErrTruncated", err)
	}
	inc := rewrite(t, a, func(h *tar.Header, body []byte) ([]byte, bool) {
		if h.Name == headerName {
			return bytes.Replace(body, []byte(`"id":`), []byte(`"base":"elsewhere","id":`), 1), true
		}
		return body, true
	})
	// Refused from its header, before anything is written.
	if _, err := Restore(t.Context(), bytes.NewReader(inc), &Target{}); !errors.Is(err, ErrIncrement) {
		t.Errorf("Restore of an increment alone: %v, want ErrIncrement", err)
	}
}
