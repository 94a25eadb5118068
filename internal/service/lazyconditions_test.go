package service

import (
	"reflect"
	"testing"
)

// A principal's policy-condition facts may be computed on first need;
// set ones win, and a principal with neither has none.
func TestPrincipalConditions(t *testing.T) {
	calls := 0
	lazy := func() map[string][]string {
		calls++
		return map[string][]string{"aws:sourceip": {"127.0.0.1"}}
	}
	set := map[string][]string{"aws:securetransport": {"true"}}
	if got := (Principal{LazyConditions: lazy}).conditions(); !reflect.DeepEqual(got, lazy()) || calls != 2 {
		t.Errorf("lazy: %v after %d calls", got, calls)
	}
	if got := (Principal{Conditions: set, LazyConditions: lazy}).conditions(); !reflect.DeepEqual(got, set) || calls != 2 {
		t.Errorf("set and lazy: %v after %d calls", got, calls)
	}
	if got := (Principal{}).conditions(); got != nil {
		t.Errorf("none: %v", got)
	}
}
