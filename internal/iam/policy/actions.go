package policy

import (
	"slices"
	"sort"
	"strings"
)

// Canonical actions. Requests are evaluated with these names whatever
// dialect they arrived through; policy documents may name actions in any
// dialect (see ActionMappings). The canonical set is S3's action names, plus
// one strongroom-internal action (ActionDeleteEncryptionConfiguration) and a
// few vendor operations that have no S3 equivalent (see VendorOnlyActions).
const (
	ActionGetObject                   = "s3:GetObject"
	ActionPutObject                   = "s3:PutObject"
	ActionDeleteObject                = "s3:DeleteObject"
	ActionGetObjectVersion            = "s3:GetObjectVersion"
	ActionDeleteObjectVersion         = "s3:DeleteObjectVersion"
	ActionGetObjectAcl                = "s3:GetObjectAcl"
	ActionPutObjectAcl                = "s3:PutObjectAcl"
	ActionRestoreObject               = "s3:RestoreObject"
	ActionAbortMultipartUpload        = "s3:AbortMultipartUpload"
	ActionListMultipartUploadParts    = "s3:ListMultipartUploadParts"
	ActionListBucket                  = "s3:ListBucket"
	ActionListBucketVersions          = "s3:ListBucketVersions"
	ActionListBucketMultipartUploads  = "s3:ListBucketMultipartUploads"
	ActionListAllMyBuckets            = "s3:ListAllMyBuckets"
	ActionCreateBucket                = "s3:CreateBucket"
	ActionDeleteBucket                = "s3:DeleteBucket"
	ActionGetBucketLocation           = "s3:GetBucketLocation"
	ActionGetBucketAcl                = "s3:GetBucketAcl"
	ActionPutBucketAcl                = "s3:PutBucketAcl"
	ActionGetBucketPolicy             = "s3:GetBucketPolicy"
	ActionPutBucketPolicy             = "s3:PutBucketPolicy"
	ActionDeleteBucketPolicy          = "s3:DeleteBucketPolicy"
	ActionGetEncryptionConfiguration  = "s3:GetEncryptionConfiguration"
	ActionPutEncryptionConfiguration  = "s3:PutEncryptionConfiguration"
	ActionGetBucketVersioning         = "s3:GetBucketVersioning"
	ActionPutBucketVersioning         = "s3:PutBucketVersioning"
	ActionGetBucketTagging            = "s3:GetBucketTagging"
	ActionPutBucketTagging            = "s3:PutBucketTagging"
	ActionGetObjectTagging            = "s3:GetObjectTagging"
	ActionPutObjectTagging            = "s3:PutObjectTagging"
	ActionDeleteObjectTagging         = "s3:DeleteObjectTagging"
	ActionGetBucketCORS               = "s3:GetBucketCORS"
	ActionPutBucketCORS               = "s3:PutBucketCORS"
	ActionGetLifecycleConfiguration   = "s3:GetLifecycleConfiguration"
	ActionPutLifecycleConfiguration   = "s3:PutLifecycleConfiguration"
	ActionGetBucketPublicAccessBlock  = "s3:GetBucketPublicAccessBlock"
	ActionPutBucketPublicAccessBlock  = "s3:PutBucketPublicAccessBlock"
	ActionGetReplicationConfiguration = "s3:GetReplicationConfiguration"
	ActionPutReplicationConfiguration = "s3:PutReplicationConfiguration"

	// ActionDeleteEncryptionConfiguration is the canonical action of a
	// DeleteBucketEncryption request (S3 DELETE /?encryption, and the OSS,
	// COS and OBS equivalents). It is not an S3 action name and cannot be
	// written as "s3:DeleteEncryptionConfiguration" in a policy (AWS rejects
	// that name too). Each dialect's own rule decides who may delete:
	//   - S3 and OBS document that deleting the encryption configuration
	//     requires PutEncryptionConfiguration, so "s3:PutEncryptionConfiguration"
	//     and OBS "PutEncryptionConfiguration" grant both put and delete;
	//   - OSS and COS have separate actions, so "oss:PutBucketEncryption" /
	//     "cos:PutBucketEncryption" grant only put and
	//     "oss:DeleteBucketEncryption" / "cos:DeleteBucketEncryption" only
	//     delete.
	// A policy written in one dialect therefore never grants more than that
	// dialect's documentation says it does.
	ActionDeleteEncryptionConfiguration = "s3:DeleteEncryptionConfiguration"
)

// s3Names lists the S3 actions accepted in the S3 dialect (beyond those the
// server implements, so that real-world policies parse). Each maps to
// itself, except PutEncryptionConfiguration (see above).
var s3Names = []string{
	"AbortMultipartUpload", "BypassGovernanceRetention", "CreateBucket",
	"DeleteBucket", "DeleteBucketOwnershipControls", "DeleteBucketPolicy",
	"DeleteBucketWebsite", "DeleteObject", "DeleteObjectTagging",
	"DeleteObjectVersion", "DeleteObjectVersionTagging",
	"GetAccelerateConfiguration", "GetAccountPublicAccessBlock",
	"GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
	"GetBucketLocation", "GetBucketLogging", "GetBucketNotification",
	"GetBucketObjectLockConfiguration", "GetBucketOwnershipControls",
	"GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
	"GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning",
	"GetBucketWebsite", "GetEncryptionConfiguration",
	"GetIntelligentTieringConfiguration", "GetInventoryConfiguration",
	"GetLifecycleConfiguration", "GetMetricsConfiguration", "GetObject",
	"GetObjectAcl", "GetObjectAttributes", "GetObjectLegalHold",
	"GetObjectRetention", "GetObjectTagging", "GetObjectTorrent",
	"GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
	"GetObjectVersionForReplication", "GetObjectVersionTagging",
	"GetObjectVersionTorrent", "GetReplicationConfiguration",
	"ListAllMyBuckets", "ListBucket", "ListBucketMultipartUploads",
	"ListBucketVersions", "ListMultipartUploadParts",
	"ObjectOwnerOverrideToBucketOwner", "PutAccelerateConfiguration",
	"PutAccountPublicAccessBlock", "PutAnalyticsConfiguration",
	"PutBucketAcl", "PutBucketCORS", "PutBucketLogging",
	"PutBucketNotification", "PutBucketObjectLockConfiguration",
	"PutBucketOwnershipControls", "PutBucketPolicy",
	"PutBucketPublicAccessBlock", "PutBucketRequestPayment",
	"PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
	"PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
	"PutInventoryConfiguration", "PutLifecycleConfiguration",
	"PutMetricsConfiguration", "PutObject", "PutObjectAcl",
	"PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
	"PutObjectVersionAcl", "PutObjectVersionTagging",
	"PutReplicationConfiguration", "ReplicateDelete", "ReplicateObject",
	"ReplicateTags", "RestoreObject",
}

// Vendor operations without an S3 equivalent keep their vendor name as
// their canonical name. Only "*" and "<namespace>:*" policies (and the
// vendor's own names) reach them.
const (
	ActionOSSGetBucketInfo     = "oss:GetBucketInfo"
	ActionOSSGetBucketStat     = "oss:GetBucketStat"
	ActionOSSListBucketSpaces  = "oss:ListBucketSpaces"
	ActionOSSGetVodPlaylist    = "oss:GetVodPlaylist"
	ActionOSSPostVodPlaylist   = "oss:PostVodPlaylist"
	ActionOSSPublishRtmpStream = "oss:PublishRtmpStream"
	ActionOSSPutSymlink        = "oss:PutSymlink"
	ActionOSSGetSymlink        = "oss:GetSymlink"
	ActionCOSOptionsObject     = "cos:OptionsObject"
	// OSS's bucket retention policy (WORM).
	ActionOSSInitiateBucketWorm = "oss:InitiateBucketWorm"
	ActionOSSAbortBucketWorm    = "oss:AbortBucketWorm"
	ActionOSSCompleteBucketWorm = "oss:CompleteBucketWorm"
	ActionOSSExtendBucketWorm   = "oss:ExtendBucketWorm"
	ActionOSSGetBucketWorm      = "oss:GetBucketWorm"
)

// VendorOnlyActions lists the canonical actions that are vendor operations
// without an S3 equivalent.
func VendorOnlyActions() []string {
	return []string{ActionOSSGetBucketInfo, ActionOSSGetBucketStat, ActionOSSListBucketSpaces,
		ActionOSSGetVodPlaylist, ActionOSSPostVodPlaylist, ActionOSSPublishRtmpStream,
		ActionOSSPutSymlink, ActionOSSGetSymlink, ActionCOSOptionsObject,
		ActionOSSInitiateBucketWorm, ActionOSSAbortBucketWorm, ActionOSSCompleteBucketWorm,
		ActionOSSExtendBucketWorm, ActionOSSGetBucketWorm}
}

// ActionMapping is one row of the action table: a name as written in a
// policy of some dialect and the canonical actions it stands for.
type ActionMapping struct {
	Dialect   string   // "s3", "oss", "cos" or "obs"
	Name      string   // as written in a policy; matched case-insensitively
	Canonical []string // canonical actions
	// Confirmed is false where the vendor name was not found in the
	// vendor's documentation and the obvious name was mapped instead.
	Confirmed bool
}

type vendorRow struct {
	name      string
	canonical []string
	confirmed bool
}

func one(a string) []string { return []string{a} }

// ossRows: Alibaba Cloud OSS RAM / bucket-policy actions.
var ossRows = []vendorRow{
	{"oss:ListBuckets", one(ActionListAllMyBuckets), true},
	{"oss:PutBucket", one(ActionCreateBucket), true},
	{"oss:DeleteBucket", one(ActionDeleteBucket), true},
	{"oss:ListObjects", one(ActionListBucket), true},
	{"oss:ListObjectVersions", one(ActionListBucketVersions), true},
	{"oss:GetBucketInfo", one(ActionOSSGetBucketInfo), true},
	{"oss:GetBucketStat", one(ActionOSSGetBucketStat), true},
	{"oss:ListBucketSpaces", one(ActionOSSListBucketSpaces), true},
	{"oss:GetBucketLocation", one(ActionGetBucketLocation), true},
	{"oss:GetBucketAcl", one(ActionGetBucketAcl), true},
	{"oss:PutBucketAcl", one(ActionPutBucketAcl), true},
	{"oss:GetBucketPolicy", one(ActionGetBucketPolicy), true},
	{"oss:PutBucketPolicy", one(ActionPutBucketPolicy), true},
	{"oss:DeleteBucketPolicy", one(ActionDeleteBucketPolicy), true},
	{"oss:GetBucketEncryption", one(ActionGetEncryptionConfiguration), true},
	{"oss:PutBucketEncryption", one(ActionPutEncryptionConfiguration), true},
	{"oss:DeleteBucketEncryption", one(ActionDeleteEncryptionConfiguration), true},
	{"oss:GetBucketVersioning", one(ActionGetBucketVersioning), false},
	{"oss:PutBucketVersioning", one(ActionPutBucketVersioning), true},
	{"oss:GetBucketTagging", one(ActionGetBucketTagging), true},
	{"oss:PutBucketTagging", one(ActionPutBucketTagging), false},
	{"oss:DeleteBucketTagging", one(ActionPutBucketTagging), false},
	{"oss:GetBucketCors", one(ActionGetBucketCORS), false},
	{"oss:PutBucketCors", one(ActionPutBucketCORS), false},
	{"oss:DeleteBucketCors", one(ActionPutBucketCORS), false},
	{"oss:GetBucketLifecycle", one(ActionGetLifecycleConfiguration), false},
	{"oss:PutBucketLifecycle", one(ActionPutLifecycleConfiguration), false},
	{"oss:DeleteBucketLifecycle", one(ActionPutLifecycleConfiguration), false},
	{"oss:GetBucketReplication", one(ActionGetReplicationConfiguration), false},
	{"oss:PutBucketReplication", one(ActionPutReplicationConfiguration), false},
	{"oss:GetBucketPublicAccessBlock", one(ActionGetBucketPublicAccessBlock), false},
	{"oss:PutBucketPublicAccessBlock", one(ActionPutBucketPublicAccessBlock), true},
	{"oss:DeleteBucketPublicAccessBlock", one(ActionPutBucketPublicAccessBlock), true},
	{"oss:ListMultipartUploads", one(ActionListBucketMultipartUploads), false},
	{"oss:GetObject", one(ActionGetObject), true},
	{"oss:PutObject", one(ActionPutObject), true},
	{"oss:DeleteObject", one(ActionDeleteObject), true},
	{"oss:GetObjectAcl", one(ActionGetObjectAcl), true},
	{"oss:PutObjectAcl", one(ActionPutObjectAcl), true},
	{"oss:GetObjectVersion", one(ActionGetObjectVersion), true},
	{"oss:GetObjectVersionAcl", one("s3:GetObjectVersionAcl"), true},
	{"oss:PutObjectVersionAcl", one("s3:PutObjectVersionAcl"), false},
	{"oss:DeleteObjectVersion", one(ActionDeleteObjectVersion), false},
	{"oss:RestoreObject", one(ActionRestoreObject), true},
	{"oss:RestoreObjectVersion", one(ActionRestoreObject), true},
	{"oss:AbortMultipartUpload", one(ActionAbortMultipartUpload), true},
	{"oss:ListParts", one(ActionListMultipartUploadParts), true},
	{"oss:GetObjectTagging", one(ActionGetObjectTagging), false},
	{"oss:PutObjectTagging", one(ActionPutObjectTagging), false},
	{"oss:DeleteObjectTagging", one(ActionDeleteObjectTagging), false},
	{"oss:GetVodPlaylist", one(ActionOSSGetVodPlaylist), true},
	{"oss:PostVodPlaylist", one(ActionOSSPostVodPlaylist), true},
	{"oss:PublishRtmpStream", one(ActionOSSPublishRtmpStream), true},
	{"oss:PutSymlink", one(ActionOSSPutSymlink), false},
	{"oss:GetSymlink", one(ActionOSSGetSymlink), false},
	{"oss:InitiateBucketWorm", one(ActionOSSInitiateBucketWorm), true},
	{"oss:AbortBucketWorm", one(ActionOSSAbortBucketWorm), true},
	{"oss:CompleteBucketWorm", one(ActionOSSCompleteBucketWorm), true},
	{"oss:ExtendBucketWorm", one(ActionOSSExtendBucketWorm), true},
	{"oss:GetBucketWorm", one(ActionOSSGetBucketWorm), true},
}

// cosRows: Tencent Cloud COS (CAM) actions; "name/cos:X" is accepted too.
// COS splits uploads into several actions that S3 covers with PutObject;
// each maps to s3:PutObject, so granting any of them grants every upload
// path (and denying any of them denies every upload path).
var cosRows = []vendorRow{
	{"cos:GetService", one(ActionListAllMyBuckets), true},
	{"cos:PutBucket", one(ActionCreateBucket), true},
	{"cos:DeleteBucket", one(ActionDeleteBucket), true},
	{"cos:HeadBucket", one(ActionListBucket), true},
	{"cos:GetBucket", one(ActionListBucket), true},
	{"cos:GetBucketObjectVersions", one(ActionListBucketVersions), true},
	{"cos:ListMultipartUploads", one(ActionListBucketMultipartUploads), true},
	{"cos:GetBucketLocation", one(ActionGetBucketLocation), false},
	{"cos:GetBucketACL", one(ActionGetBucketAcl), true},
	{"cos:PutBucketACL", one(ActionPutBucketAcl), true},
	{"cos:GetBucketPolicy", one(ActionGetBucketPolicy), true},
	{"cos:PutBucketPolicy", one(ActionPutBucketPolicy), true},
	{"cos:DeleteBucketPolicy", one(ActionDeleteBucketPolicy), true},
	{"cos:GetBucketEncryption", one(ActionGetEncryptionConfiguration), true},
	{"cos:PutBucketEncryption", one(ActionPutEncryptionConfiguration), true},
	{"cos:DeleteBucketEncryption", one(ActionDeleteEncryptionConfiguration), true},
	{"cos:GetBucketVersioning", one(ActionGetBucketVersioning), false},
	{"cos:PutBucketVersioning", one(ActionPutBucketVersioning), false},
	{"cos:GetBucketTagging", one(ActionGetBucketTagging), false},
	{"cos:PutBucketTagging", one(ActionPutBucketTagging), false},
	{"cos:DeleteBucketTagging", one(ActionPutBucketTagging), false},
	{"cos:GetBucketCORS", one(ActionGetBucketCORS), false},
	{"cos:PutBucketCORS", one(ActionPutBucketCORS), false},
	{"cos:DeleteBucketCORS", one(ActionPutBucketCORS), false},
	{"cos:GetBucketLifecycle", one(ActionGetLifecycleConfiguration), false},
	{"cos:PutBucketLifecycle", one(ActionPutLifecycleConfiguration), false},
	{"cos:DeleteBucketLifecycle", one(ActionPutLifecycleConfiguration), false},
	{"cos:GetObject", one(ActionGetObject), true},
	{"cos:HeadObject", one(ActionGetObject), true},
	{"cos:OptionsObject", one(ActionCOSOptionsObject), true},
	{"cos:PutObject", one(ActionPutObject), true},
	{"cos:PostObject", one(ActionPutObject), true},
	{"cos:PutObjectCopy", one(ActionPutObject), false},
	{"cos:AppendObject", one(ActionPutObject), false},
	{"cos:InitiateMultipartUpload", one(ActionPutObject), true},
	{"cos:UploadPart", one(ActionPutObject), true},
	{"cos:UploadPartCopy", one(ActionPutObject), false},
	{"cos:CompleteMultipartUpload", one(ActionPutObject), true},
	{"cos:AbortMultipartUpload", one(ActionAbortMultipartUpload), true},
	{"cos:ListParts", one(ActionListMultipartUploadParts), true},
	{"cos:DeleteObject", one(ActionDeleteObject), true},
	{"cos:DeleteMultipleObjects", one(ActionDeleteObject), false},
	{"cos:GetObjectACL", one(ActionGetObjectAcl), false},
	{"cos:PutObjectACL", one(ActionPutObjectAcl), false},
	{"cos:PostObjectRestore", one(ActionRestoreObject), true},
	{"cos:GetObjectTagging", one(ActionGetObjectTagging), false},
	{"cos:PutObjectTagging", one(ActionPutObjectTagging), false},
	{"cos:DeleteObjectTagging", one(ActionDeleteObjectTagging), false},
}

// obsRows: Huawei Cloud OBS actions. Bucket policies write them bare
// ("GetObject"); IAM policies write "obs:object:GetObject" /
// "obs:bucket:ListBucket". Both forms are accepted. OBS has no
// DeleteEncryptionConfiguration: its documentation says deleting the bucket
// encryption configuration requires PutEncryptionConfiguration, so that name
// grants both put and delete, as in S3.
var obsRows = []struct {
	scope, name string
	canonical   []string
	confirmed   bool
}{
	{"bucket", "ListAllMyBuckets", one(ActionListAllMyBuckets), true},
	{"bucket", "CreateBucket", one(ActionCreateBucket), true},
	{"bucket", "DeleteBucket", one(ActionDeleteBucket), true},
	{"bucket", "HeadBucket", one(ActionListBucket), true},
	{"bucket", "ListBucket", one(ActionListBucket), true},
	{"bucket", "ListBucketVersions", one(ActionListBucketVersions), true},
	{"bucket", "ListBucketMultipartUploads", one(ActionListBucketMultipartUploads), true},
	{"bucket", "GetBucketLocation", one(ActionGetBucketLocation), true},
	{"bucket", "GetBucketAcl", one(ActionGetBucketAcl), true},
	{"bucket", "PutBucketAcl", one(ActionPutBucketAcl), true},
	{"bucket", "GetBucketPolicy", one(ActionGetBucketPolicy), true},
	{"bucket", "PutBucketPolicy", one(ActionPutBucketPolicy), true},
	{"bucket", "DeleteBucketPolicy", one(ActionDeleteBucketPolicy), true},
	{"bucket", "GetEncryptionConfiguration", one(ActionGetEncryptionConfiguration), true},
	{"bucket", "PutEncryptionConfiguration", []string{ActionPutEncryptionConfiguration, ActionDeleteEncryptionConfiguration}, true},
	{"bucket", "GetBucketVersioning", one(ActionGetBucketVersioning), true},
	{"bucket", "PutBucketVersioning", one(ActionPutBucketVersioning), true},
	{"bucket", "GetBucketCORS", one(ActionGetBucketCORS), true},
	{"bucket", "PutBucketCORS", one(ActionPutBucketCORS), true},
	{"bucket", "GetBucketLogging", one("s3:GetBucketLogging"), true},
	{"bucket", "PutBucketLogging", one("s3:PutBucketLogging"), true},
	{"bucket", "GetBucketWebsite", one("s3:GetBucketWebsite"), true},
	{"bucket", "PutBucketWebsite", one("s3:PutBucketWebsite"), true},
	{"bucket", "DeleteBucketWebsite", one("s3:DeleteBucketWebsite"), true},
	{"bucket", "GetLifecycleConfiguration", one(ActionGetLifecycleConfiguration), true},
	{"bucket", "PutLifecycleConfiguration", one(ActionPutLifecycleConfiguration), true},
	{"bucket", "GetBucketTagging", one(ActionGetBucketTagging), false},
	{"bucket", "PutBucketTagging", one(ActionPutBucketTagging), false},
	{"bucket", "DeleteBucketTagging", one(ActionPutBucketTagging), false},
	{"object", "GetObject", one(ActionGetObject), true},
	{"object", "GetObjectVersion", one(ActionGetObjectVersion), true},
	{"object", "PutObject", one(ActionPutObject), true},
	{"object", "GetObjectAcl", one(ActionGetObjectAcl), true},
	{"object", "GetObjectVersionAcl", one("s3:GetObjectVersionAcl"), true},
	{"object", "PutObjectAcl", one(ActionPutObjectAcl), true},
	{"object", "PutObjectVersionAcl", one("s3:PutObjectVersionAcl"), true},
	{"object", "DeleteObject", one(ActionDeleteObject), true},
	{"object", "DeleteObjectVersion", one(ActionDeleteObjectVersion), true},
	{"object", "ListMultipartUploadParts", one(ActionListMultipartUploadParts), true},
	{"object", "AbortMultipartUpload", one(ActionAbortMultipartUpload), true},
	{"object", "RestoreObject", one(ActionRestoreObject), false},
}

// Tables built once, during package initialization, and read-only
// afterwards.
var (
	actionTable    []ActionMapping
	byDialect      map[string]map[string][]string // dialect -> lower(name) -> canonical
	canonicalList  []string                       // sorted
	canonicalByLC  map[string]string              // lower(canonical) -> canonical
	canonicalExact map[string]struct{}
	_              = buildActionTables()
)

func buildActionTables() bool {
	byDialect = map[string]map[string][]string{"s3": {}, "oss": {}, "cos": {}, "obs": {}, "obs-bare": {}}
	add := func(dialect, table, name string, canonical []string, confirmed bool) {
		byDialect[table][strings.ToLower(name)] = canonical
		actionTable = append(actionTable, ActionMapping{Dialect: dialect, Name: name, Canonical: canonical, Confirmed: confirmed})
	}
	for _, n := range s3Names {
		c := one("s3:" + n)
		if n == "PutEncryptionConfiguration" {
			c = []string{ActionPutEncryptionConfiguration, ActionDeleteEncryptionConfiguration}
		}
		add("s3", "s3", "s3:"+n, c, true)
	}
	for _, r := range ossRows {
		add("oss", "oss", r.name, r.canonical, r.confirmed)
	}
	for _, r := range cosRows {
		add("cos", "cos", r.name, r.canonical, r.confirmed)
	}
	for _, r := range obsRows {
		add("obs", "obs", "obs:"+r.scope+":"+r.name, r.canonical, r.confirmed)
		add("obs", "obs-bare", r.name, r.canonical, r.confirmed)
	}

	seen := map[string]bool{}
	for _, m := range actionTable {
		for _, c := range m.Canonical {
			seen[c] = true
		}
	}
	canonicalByLC = make(map[string]string, len(seen))
	canonicalExact = make(map[string]struct{}, len(seen))
	for c := range seen {
		canonicalExact[c] = struct{}{}
		canonicalList = append(canonicalList, c)
		canonicalByLC[strings.ToLower(c)] = c
	}
	sort.Strings(canonicalList)
	return true
}

// ActionMappings returns the action table: every dialect name accepted in
// a policy and the canonical actions it maps to.
func ActionMappings() []ActionMapping {
	out := make([]ActionMapping, len(actionTable))
	for i, m := range actionTable {
		m.Canonical = slices.Clone(m.Canonical)
		out[i] = m
	}
	return out
}

// CanonicalActions returns every canonical action, sorted.
func CanonicalActions() []string { return slices.Clone(canonicalList) }

// IsCanonicalAction reports whether a is a canonical action name (exactly).
func IsCanonicalAction(a string) bool {
	c, ok := canonicalByLC[strings.ToLower(a)]
	return ok && c == a
}

// CanonicalAction maps an action name or pattern as written in a policy of
// any dialect to the canonical actions it stands for. "*" and a namespace
// wildcard ("s3:*", "oss:*", "cos:*", "name/cos:*", "obs:*:*") stand for
// every canonical action. Other patterns ('*', '?') are expanded against
// the names of their own dialect, then mapped. It reports false for names
// that are malformed, in an unknown namespace, unknown, or patterns that
// match nothing.
func CanonicalAction(name string) ([]string, bool) {
	set, all, err := resolveAction(name)
	if err != nil {
		return nil, false
	}
	if all {
		return CanonicalActions(), true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, true
}

// resolveAction returns the canonical set a policy action names, or all.
// Errors are messages without the path prefix.
func resolveAction(name string) (set map[string]struct{}, all bool, err error) {
	if name == "" {
		return nil, false, errorf("empty action")
	}
	if name == "*" {
		return nil, true, nil
	}
	lc := strings.ToLower(name)
	if strings.HasPrefix(lc, "name/") && strings.HasPrefix(lc[5:], "cos:") {
		lc = lc[5:] // COS writes "name/cos:GetObject"
	}
	table := "obs-bare"
	rest := lc
	if i := strings.IndexByte(lc, ':'); i >= 0 {
		table, rest = lc[:i], lc[i+1:]
		if _, ok := byDialect[table]; !ok || table == "obs-bare" {
			return nil, false, errorf("unknown action namespace %q in %q", name[:strings.IndexByte(name, ':')], name)
		}
	}
	if rest == "" {
		return nil, false, errorf("empty action name in %q", name)
	}
	if strings.Trim(rest, "*:") == "" && strings.Contains(rest, "*") {
		return nil, true, nil // "s3:*", "obs:*:*", ...
	}
	names := byDialect[table]
	if !hasWildcard(lc) {
		c, ok := names[lc]
		if !ok {
			return nil, false, errorf("unknown action %q", name)
		}
		set = make(map[string]struct{}, len(c))
		for _, a := range c {
			set[a] = struct{}{}
		}
		return set, false, nil
	}
	set = map[string]struct{}{}
	for n, c := range names {
		if wildcard(lc, n) {
			for _, a := range c {
				set[a] = struct{}{}
			}
		}
	}
	if len(set) == 0 {
		return nil, false, errorf("action pattern %q matches no action", name)
	}
	return set, false, nil
}
