package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func TestCreateBucketLocation(t *testing.T) {
	f := newFixture(t)
	for i, tc := range []struct {
		region string
		want   error
	}{
		{"eu-west-1", nil},
		{"cn-north-4", nil}, // a vendor's region (OBS): the dialect decides what it knows
		{"EU", nil},
		{strings.Repeat("a", 5000), errs.InvalidLocationConstraint},
		{"<b>x</b>", errs.InvalidLocationConstraint},
		{"eu west", errs.InvalidLocationConstraint},
		{"-eu", errs.InvalidLocationConstraint},
	} {
		b, err := f.svc.CreateBucket(context.Background(), f.p, "loc-"+string(rune('a'+i)), tc.region, "")
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("region %.20q: %v, want %v", tc.region, err, tc.want)
		}
		if tc.region == "EU" && err == nil && b.Region != "eu-west-1" {
			t.Errorf("EU stored as %q", b.Region)
		}
	}
}

func TestMatchUploadSSE(t *testing.T) {
	kms := &meta.Encryption{Mode: string(sse.KMS), Algorithm: sse.AES256, KeyID: "k1"}
	managed := &meta.Encryption{Mode: string(sse.Managed), Algorithm: sse.AES256}
	cust := &sse.Spec{Mode: sse.Customer}
	for _, tc := range []struct {
		name string
		enc  *meta.Encryption
		spec *sse.Spec
		ok   bool
	}{
		{"none", kms, nil, true},
		{"same mode", managed, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}, true},
		{"kms, same key", kms, &sse.Spec{Mode: sse.KMS, KeyID: "k1"}, true},
		{"kms, no key named", kms, &sse.Spec{Mode: sse.KMS}, true},
		{"kms, other key", kms, &sse.Spec{Mode: sse.KMS, KeyID: "k2"}, false},
		{"other mode", managed, &sse.Spec{Mode: sse.KMS}, false},
		{"plain upload", nil, &sse.Spec{Mode: sse.Managed}, false},
		{"SM4 on AES", kms, &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4}, false},
		{"customer key passes through", managed, cust, true},
	} {
		got, err := matchUploadSSE(tc.enc, tc.spec)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if err == nil && tc.spec != cust && got != nil {
			t.Errorf("%s: returned %+v, want nil (nothing to add)", tc.name, got)
		}
		if tc.spec == cust && got != cust {
			t.Errorf("%s: customer key lost", tc.name)
		}
	}
}

func TestPartRange(t *testing.T) {
	mp := &meta.Object{Multipart: true, Size: 30, Parts: []meta.Part{{Number: 1, Size: 10}, {Number: 3, Size: 20}}}
	single := &meta.Object{Size: 7, Parts: []meta.Part{{Size: 7}}}
	for _, tc := range []struct {
		o      *meta.Object
		n      int
		off, l int64
		bad    bool
	}{
		{mp, 1, 0, 10, false},
		{mp, 3, 10, 20, false},
		{mp, 2, 0, 0, true}, // not completed: no such part
		{mp, 4, 0, 0, true},
		{single, 1, 0, 7, false},
		{single, 2, 0, 0, true},
	} {
		off, l, err := PartRange(tc.o, tc.n)
		if tc.bad {
			if !errors.Is(err, errs.InvalidPartNumber) {
				t.Errorf("part %d: %v, want InvalidPartNumber", tc.n, err)
			}
			continue
		}
		if err != nil || off != tc.off || l != tc.l {
			t.Errorf("part %d: %d,%d,%v want %d,%d", tc.n, off, l, err, tc.off, tc.l)
		}
	}
}
