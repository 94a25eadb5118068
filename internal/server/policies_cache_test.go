package server

import "testing"

// TestBucketPolicyLookupCopiesNothing: a cached bucket policy is found by
// its bytes without building a key (the document is not copied per
// request).
func TestBucketPolicyLookupCopiesNothing(t *testing.T) {
	ps := newPolicies()
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	if _, err := ps.parseBucket(doc); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ps.parseBucket(doc); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per cached lookup", n)
	}
}
