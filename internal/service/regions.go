package service

import (
	"context"
	"strings"
)

// knownRegions are the location constraints CreateBucket takes besides the
// server's own region: AWS's region names (EU is S3's legacy name for
// eu-west-1). Anything else (a typo, 5000 characters, markup) is
// InvalidLocationConstraint rather than stored and echoed back.
var knownRegions = map[string]bool{
	"EU":             true,
	"af-south-1":     true,
	"ap-east-1":      true,
	"ap-east-2":      true,
	"ap-northeast-1": true,
	"ap-northeast-2": true,
	"ap-northeast-3": true,
	"ap-south-1":     true,
	"ap-south-2":     true,
	"ap-southeast-1": true,
	"ap-southeast-2": true,
	"ap-southeast-3": true,
	"ap-southeast-4": true,
	"ap-southeast-5": true,
	"ap-southeast-6": true,
	"ap-southeast-7": true,
	"ca-central-1":   true,
	"ca-west-1":      true,
	"cn-north-1":     true,
	"cn-northwest-1": true,
	"eu-central-1":   true,
	"eu-central-2":   true,
	"eu-north-1":     true,
	"eu-south-1":     true,
	"eu-south-2":     true,
	"eu-west-1":      true,
	"eu-west-2":      true,
	"eu-west-3":      true,
	"il-central-1":   true,
	"me-central-1":   true,
	"me-south-1":     true,
	"mx-central-1":   true,
	"sa-east-1":      true,
	"us-east-1":      true,
	"us-east-2":      true,
	"us-gov-east-1":  true,
	"us-gov-west-1":  true,
	"us-west-1":      true,
	"us-west-2":      true,
}

// KnownRegion reports whether a location constraint names the server's
// region or an AWS one (what the S3 dialect takes).
func (s *Service) KnownRegion(region string) bool {
	return region == s.region || knownRegions[region]
}

// wellFormedRegion reports whether a location constraint looks like a
// region name of any vendor (letters, digits and inner hyphens, at most 64
// characters): the vendors name their regions their own way, but a
// constraint is stored and echoed, so nothing else is taken.
func wellFormedRegion(region string) bool {
	if len(region) > 64 || strings.HasPrefix(region, "-") || strings.HasSuffix(region, "-") {
		return false
	}
	for _, c := range region {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SigningRegions are the regions a SigV4 request on bucket may be signed
// for, the expected one first: the server's and the bucket's; for a bucket
// that does not exist (yet: CreateBucket signs for its location) any
// region CreateBucket takes. Names only: no authorization is involved, as
// S3 tells anyone a bucket's region. nil when signed, the region the
// request was signed for, is the server's (always taken; no lookup).
func (s *Service) SigningRegions(ctx context.Context, bucket, signed string) []string {
	if signed == s.region {
		return nil
	}
	if bucket == "" {
		return []string{s.region}
	}
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		out := []string{s.region}
		for r := range knownRegions {
			out = append(out, r)
		}
		return out
	}
	if b.Region == s.region {
		return []string{s.region}
	}
	return []string{b.Region, s.region}
}
