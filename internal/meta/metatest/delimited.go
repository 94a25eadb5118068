package metatest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// walkRollUp is the reference: the listing by walking every key, rolled up
// the way the service did before the store could skip (a common prefix
// once, in key order, unless the marker starts with it).
func walkRollUp(key, prefix, delimiter, marker string, last *string) (string, bool) {
	if delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	cp := key[:len(prefix)+i+len(delimiter)]
	if cp == *last || strings.HasPrefix(marker, cp) {
		return cp, true // rolled up already
	}
	*last = cp
	return cp, false
}

// randomKeys draws keys from a small alphabet rich in delimiters, NUL
// (escaped in the version index) and a multi-byte character, so prefixes
// nest and collide.
func randomKeys(r *rand.Rand, n int) []string {
	alphabet := []string{"a", "b", "/", "-", "\x00", "é", "z"}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < n {
		var b strings.Builder
		for range 1 + r.IntN(7) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		if k := b.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// TestListDelimitedMatchesWalk is a property test: over random key sets,
// prefixes, delimiters, markers and page sizes, the store's skipping
// listings (objects and versions) return exactly, page by page, what a
// walk over every key returned.
func testListDelimitedMatchesWalk(t *testing.T, be Backend) {
	r := rand.New(rand.NewPCG(1, uint64(testingSeed())))
	s := be.Open(t)
	for round := range 6 {
		bucket := fmt.Sprintf("b%d", round)
		mustBucket(t, s, bucket)
		versioned := round%2 == 1
		if versioned {
			setVersioning(t, s, bucket, meta.VersioningEnabled)
		}
		keys := randomKeys(r, 30+r.IntN(60))
		for _, k := range keys {
			mustPut(t, s, obj(bucket, k))
			if versioned && r.IntN(3) == 0 {
				mustPut(t, s, obj(bucket, k))
			}
			if versioned && r.IntN(4) == 0 {
				if _, err := s.DeleteObjectVersion(ctx, bucket, k, "", nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		for q := range 60 {
			prefix := []string{"", "a", "a/", "b-", "é", "\x00"}[r.IntN(6)]
			delim := []string{"", "/", "-", "a/", "\x00", "é"}[r.IntN(6)]
			page := 1 + r.IntN(9)
			marker := ""
			if q%3 == 0 {
				marker = keys[r.IntN(len(keys))]
			}
			name := fmt.Sprintf("round %d: prefix %q delimiter %q marker %q page %d", round, prefix, delim, marker, page)
			if want, got := walkObjects(t, s, bucket, prefix, delim, marker, page), skipObjects(t, s, bucket, prefix, delim, marker, page); !slices.Equal(got, want) {
				t.Fatalf("%s: objects\n got %q\nwant %q", name, got, want)
			}
			if want, got := walkVersions(t, s, bucket, prefix, delim, marker, page), skipVersions(t, s, bucket, prefix, delim, marker, page); !slices.Equal(got, want) {
				t.Fatalf("%s: versions\n got %q\nwant %q", name, got, want)
			}
		}
	}
}

func testingSeed() int64 { return 20261205 }

// walkObjects pages through the objects by walking, page items at a time,
// each page resumed after the previous page's last key or prefix.
func walkObjects(t *testing.T, s meta.Store, bucket, prefix, delim, marker string, page int) []string {
	var out []string
	for {
		n, last, next := 0, "", ""
		err := s.ListObjects(ctx, bucket, prefix, marker, func(o *meta.Object) error {
			cp, dup := walkRollUp(o.Key, prefix, delim, marker, &last)
			if dup {
				return nil
			}
			if n == page {
				return meta.ErrStop
			}
			n++
			if cp != "" {
				out, next = append(out, "P:"+cp), cp
			} else {
				out, next = append(out, o.Key), o.Key
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < page || next == "" {
			return append(out, "|")
		}
		out, marker = append(out, "|"), next
	}
}

func skipObjects(t *testing.T, s meta.Store, bucket, prefix, delim, marker string, page int) []string {
	var out []string
	for {
		n, next := 0, ""
		err := s.ListObjectsDelimited(ctx, bucket, prefix, delim, marker, func(o *meta.Object, cp string) error {
			if n == page {
				return meta.ErrStop
			}
			n++
			if o == nil {
				out, next = append(out, "P:"+cp), cp
			} else {
				out, next = append(out, o.Key), o.Key
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < page || next == "" {
			return append(out, "|")
		}
		out, marker = append(out, "|"), next
	}
}

type versionPos struct{ key, version string }

func versionItem(o *meta.Object, latest bool) string {
	e := fmt.Sprintf("%s@%s", o.Key, o.VersionID)
	if o.DeleteMarker {
		e += "(DM)"
	}
	if latest {
		e += "*"
	}
	return e
}

func walkVersions(t *testing.T, s meta.Store, bucket, prefix, delim, marker string, page int) []string {
	var out []string
	pos := versionPos{key: marker}
	for {
		n, last := 0, ""
		var next versionPos
		err := s.ListObjectVersions(ctx, bucket, prefix, pos.key, pos.version, func(o *meta.Object, latest bool) error {
			cp, dup := walkRollUp(o.Key, prefix, delim, pos.key, &last)
			if dup {
				return nil
			}
			if n == page {
				return meta.ErrStop
			}
			n++
			if cp != "" {
				out, next = append(out, "P:"+cp), versionPos{key: cp}
			} else {
				out, next = append(out, versionItem(o, latest)), versionPos{o.Key, versionOrNull(o)}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < page || next.key == "" {
			return append(out, "|")
		}
		out, pos = append(out, "|"), next
	}
}

func skipVersions(t *testing.T, s meta.Store, bucket, prefix, delim, marker string, page int) []string {
	var out []string
	pos := versionPos{key: marker}
	for {
		n := 0
		var next versionPos
		err := s.ListVersionsDelimited(ctx, bucket, prefix, delim, pos.key, pos.version, func(o *meta.Object, latest bool, cp string) error {
			if n == page {
				return meta.ErrStop
			}
			n++
			if o == nil {
				out, next = append(out, "P:"+cp), versionPos{key: cp}
			} else {
				out, next = append(out, versionItem(o, latest)), versionPos{o.Key, versionOrNull(o)}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < page || next.key == "" {
			return append(out, "|")
		}
		out, pos = append(out, "|"), next
	}
}

func versionOrNull(o *meta.Object) string {
	if o.VersionID == "" {
		return meta.NullVersion
	}
	return o.VersionID
}

// WalkRollUp is the reference roll-up of a listing that walks every key
// (benchmarks compare the stores' skipping listings with it): cp is key's
// common prefix under prefix and delimiter, dup that it was returned
// already (it is *last, or marker starts with it).
func WalkRollUp(key, prefix, delimiter, marker string, last *string) (cp string, dup bool) {
	return walkRollUp(key, prefix, delimiter, marker, last)
}
