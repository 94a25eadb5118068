package server

import (
	"testing"

	"github.com/strongroom-dev/strongroom/internal/service"
)

// TestPoliciesDecide: evaluation through the cache, the deciding statement
// named for the audit, and fail-closed on a stored document that does not
// parse (it can only get there by corruption or a grammar change).
func TestPoliciesDecide(t *testing.T) {
	ps := newPolicies()
	bucketDeny := []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"NoBob","Effect":"Deny","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	r := &service.AuthzRequest{Principal: "bob", Action: service.ActGetObject, Resource: "arn:aws:s3:::b/k"}
	tests := []struct {
		name     string
		bucket   []byte
		identity []string
		want     service.Decision
		source   string
	}{
		{"nothing", nil, nil, service.NotApplicable, ""},
		{"canned readonly allows", nil, []string{"readonly"}, service.Allow, "readonly "},
		{"bucket deny beats user allow", bucketDeny, []string{"readonly"}, service.Deny, "bucket policy NoBob"},
		{"corrupt bucket policy fails closed", []byte(`{"Statement":`), []string{"readwrite"}, service.Deny, "bucket policy does not parse"},
		{"corrupt user policy fails closed", nil, []string{`{"Statement":[`}, service.Deny, "user policy does not parse"},
	}
	for _, tt := range tests {
		for range 2 { // the second round hits the parse cache
			d, src := ps.Decide(tt.bucket, tt.identity, r)
			if d != tt.want || (tt.source != "" && len(src) < len(tt.source)) || src[:min(len(src), len(tt.source))] != tt.source {
				t.Fatalf("%s: Decide = %v %q, want %v %q", tt.name, d, src, tt.want, tt.source)
			}
		}
	}
	if err := ps.ValidateBucketPolicy([]byte(`{"Statement":[]}`)); err == nil {
		t.Fatal("an empty statement list validated")
	}
}
