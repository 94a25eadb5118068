package bench

import (
	"slices"
	"testing"
	"time"
)

// TestLoadKeyOrder: both orders name the same N distinct keys; the
// bulk-import order is ascending, the default one is not.
func TestLoadKeyOrder(t *testing.T) {
	for _, n := range []int{999, 1000, 2000} {
		scattered, sorted := LoadConfig{Objects: n}, LoadConfig{Objects: n, Sorted: true}
		var a, b []string
		for i := range n {
			a = append(a, scattered.key(i))
			b = append(b, sorted.key(i))
		}
		if !slices.IsSorted(b) {
			t.Errorf("n=%d: sorted order is not ascending", n)
		}
		if slices.IsSorted(a) {
			t.Errorf("n=%d: scattered order is ascending", n)
		}
		slices.Sort(a)
		if !slices.Equal(a, b) || len(slices.Compact(b)) != n {
			t.Errorf("n=%d: the orders name different or repeated keys", n)
		}
	}
}

// TestRateCurve: one sample per tenth of the objects, each with the rate
// of its own stretch.
func TestRateCurve(t *testing.T) {
	c := newRateCurve(100, time.Now().Add(-time.Second))
	for i := int64(1); i <= 100; i++ {
		c.add(i)
	}
	s := c.samples()
	if len(s) != 10 || s[0].Objects != 10 || s[9].Objects != 100 {
		t.Fatalf("samples %+v", s)
	}
	for _, x := range s {
		if x.Rate <= 0 || x.Seconds <= 0 {
			t.Errorf("sample %+v", x)
		}
	}
}
