package service

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

// validRegion reports whether a requested location constraint names a
// region this server takes: its own, or a known one.
func (s *Service) validRegion(region string) bool {
	return region == s.region || knownRegions[region]
}
