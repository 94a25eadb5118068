package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"**", "x", true},
		{"a*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "ab", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"?", "", false},
		{"?", "é", true}, // one character, two bytes
		{"??", "é", false},
		{"a*b*c", "axbyc", true},
		{"a*b*c", "axbyd", false},
		{"*a", "bbba", true},
		{"*a", "bbab", false},
		{"a*", "a", true},
		{"*/*", "dir/file", true},
		{"*/*", "file", false},
		{"abc", "ABC", false},
		{"a*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false},
	} {
		if got := wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestCanonicalAction(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string // nil: not ok
	}{
		{"s3:GetObject", []string{ActionGetObject}},
		{"S3:GETOBJECT", []string{ActionGetObject}},
		{"oss:GetBucketEncryption", []string{ActionGetEncryptionConfiguration}},
		{"oss:PutBucketEncryption", []string{ActionPutEncryptionConfiguration}},
		{"oss:DeleteBucketEncryption", []string{ActionDeleteEncryptionConfiguration}},
		{"cos:GetBucket", []string{ActionListBucket}},
		{"name/cos:GetObject", []string{ActionGetObject}},
		{"obs:object:GetObject", []string{ActionGetObject}},
		{"obs:bucket:ListBucket", []string{ActionListBucket}},
		{"PutEncryptionConfiguration", []string{ActionDeleteEncryptionConfiguration, ActionPutEncryptionConfiguration}},
		{"s3:PutEncryptionConfiguration", []string{ActionDeleteEncryptionConfiguration, ActionPutEncryptionConfiguration}},
		{"s3:*EncryptionConfiguration", []string{ActionDeleteEncryptionConfiguration, ActionGetEncryptionConfiguration, ActionPutEncryptionConfiguration}},
		{"oss:*BucketEncryption", []string{ActionDeleteEncryptionConfiguration, ActionGetEncryptionConfiguration, ActionPutEncryptionConfiguration}},
		{"cos:*BucketPolicy", []string{ActionDeleteBucketPolicy, ActionGetBucketPolicy, ActionPutBucketPolicy}},
		{"s3:ListBucket?ersions", []string{ActionListBucketVersions}},
		{"oss:GetBucketInfo", []string{ActionOSSGetBucketInfo}},
		{"oss:*BucketWorm", []string{ActionOSSAbortBucketWorm, ActionOSSCompleteBucketWorm, ActionOSSExtendBucketWorm, ActionOSSGetBucketWorm, ActionOSSInitiateBucketWorm}},
		{"s3:DeleteEncryptionConfiguration", nil},
		{"s3:Nope", nil},
		{"nope:GetObject", nil},
		{"obs-bare:GetObject", nil},
		{"s3:", nil},
		{"", nil},
		{"s3:Zz*", nil},
		{"name/oss:GetObject", nil},
	} {
		got, ok := CanonicalAction(tc.name)
		if tc.want == nil {
			if ok {
				t.Errorf("CanonicalAction(%q) = %v, want not ok", tc.name, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, tc.want) {
			t.Errorf("CanonicalAction(%q) = %v %v, want %v", tc.name, got, ok, tc.want)
		}
	}
	for _, all := range []string{"*", "s3:*", "oss:*", "cos:*", "name/cos:*", "obs:*:*", "obs:*"} {
		got, ok := CanonicalAction(all)
		if !ok || !slices.Equal(got, CanonicalActions()) {
			t.Errorf("CanonicalAction(%q) is not every action", all)
		}
	}
}

// Every mapping resolves to canonical names; names are unique within a
// dialect; every canonical constant is reachable from some dialect name.
func TestActionTable(t *testing.T) {
	canon := map[string]bool{}
	for _, c := range CanonicalActions() {
		canon[c] = true
		if !IsCanonicalAction(c) {
			t.Errorf("IsCanonicalAction(%q) false", c)
		}
	}
	seen := map[string]bool{}
	counts := map[string]int{}
	for _, m := range ActionMappings() {
		counts[m.Dialect]++
		key := strings.ToLower(m.Name)
		if seen[key] {
			t.Errorf("duplicate mapping for %q", m.Name)
		}
		seen[key] = true
		if len(m.Canonical) == 0 {
			t.Errorf("%q maps to nothing", m.Name)
		}
		for _, c := range m.Canonical {
			if !canon[c] {
				t.Errorf("%q maps to non-canonical %q", m.Name, c)
			}
		}
		got, ok := CanonicalAction(m.Name)
		if !ok {
			t.Errorf("CanonicalAction(%q) not ok", m.Name)
		}
		want := slices.Clone(m.Canonical)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("CanonicalAction(%q) = %v, table says %v", m.Name, got, want)
		}
	}
	for _, d := range []string{"s3", "oss", "cos", "obs"} {
		if counts[d] == 0 {
			t.Errorf("no %s mappings", d)
		}
	}
	for _, c := range []string{ActionGetObject, ActionPutObject, ActionDeleteObject, ActionListBucket, ActionListAllMyBuckets,
		ActionCreateBucket, ActionDeleteBucket, ActionGetBucketLocation, ActionPutEncryptionConfiguration,
		ActionGetEncryptionConfiguration, ActionDeleteEncryptionConfiguration, ActionGetBucketPolicy, ActionPutBucketPolicy,
		ActionDeleteBucketPolicy, ActionGetBucketAcl, ActionPutBucketAcl, ActionGetObjectAcl, ActionPutObjectAcl,
		ActionListMultipartUploadParts, ActionListBucketMultipartUploads, ActionAbortMultipartUpload} {
		if !canon[c] {
			t.Errorf("%q is not canonical", c)
		}
		for _, d := range []string{"oss", "cos", "obs"} {
			found := false
			for _, m := range ActionMappings() {
				if m.Dialect == d && slices.Contains(m.Canonical, c) {
					found = true
				}
			}
			if !found && !(d == "obs" && c == ActionDeleteEncryptionConfiguration) {
				t.Logf("note: no %s name maps to %s", d, c)
			}
		}
	}
	for _, v := range VendorOnlyActions() {
		if !canon[v] {
			t.Errorf("vendor-only %q not canonical", v)
		}
	}
	// Mutating the returned table does not change the package's.
	ms := ActionMappings()
	ms[0].Canonical[0] = "x"
	if ActionMappings()[0].Canonical[0] == "x" {
		t.Error("ActionMappings exposes internal state")
	}
}

func TestCanonicalResource(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"*", "*"},
		{"arn:aws:s3:::bucket/key*", "arn:aws:s3:::bucket/key*"},
		{"arn:aws:s3:::*", "*"},
		{"acs:oss:*:*:bucket/key*", "arn:aws:s3:::bucket/key*"},
		{"acs:oss:cn-hangzhou:123:bucket", "arn:aws:s3:::bucket"},
		{"qcs::cos:ap-guangzhou:uid/1250000000:examplebucket-1250000000/*", "arn:aws:s3:::examplebucket-1250000000/*"},
		{"qcs::cos:ap-guangzhou:uid/1250000000:examplebucket-1250000000/", "arn:aws:s3:::examplebucket-1250000000"},
		{"qcs::cos:ap-guangzhou:uid/1250000000:b/dir/key:with:colons", "arn:aws:s3:::b/dir/key:with:colons"},
		{"bucket/key*", "arn:aws:s3:::bucket/key*"},
		{"bucket", "arn:aws:s3:::bucket"},
		{"obs:*:*:object:bucket/key*", "arn:aws:s3:::bucket/key*"},
		{"obs:*:*:bucket:bucket", "arn:aws:s3:::bucket"},
		{"arn:aws:s3:::b/key:with:colons", "arn:aws:s3:::b/key:with:colons"},
		{"arn:aws:iam::1:user/x", ""},
		{"arn:aws:s3:us-east-1::b", ""},
		{"acs:oss:*:*:", ""},
		{"arn:aws:s3:::/key", ""},
		{"qcs::cvm:ap:uid/1:x", ""},
		{"obs:*:*:other:x", ""},
		{"obs:*:*:bucket:b/k", ""},
		{"weird:bucket", ""},
		{"", ""},
	} {
		got, ok := CanonicalResource(tc.in)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("CanonicalResource(%q) = %q %v, want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestConditionKeyTable(t *testing.T) {
	for in, want := range map[string]string{
		"aws:SourceIp":                            KeySourceIP,
		"acs:SourceIp":                            KeySourceIP,
		"qcs:ip":                                  KeySourceIP,
		"SourceIp":                                KeySourceIP,
		"obs:SourceIp":                            KeySourceIP,
		"acs:SecureTransport":                     KeySecureTransport,
		"cos:secure-transport":                    KeySecureTransport,
		"SecureTransport":                         KeySecureTransport,
		"CurrentTime":                             KeyCurrentTime,
		"g:UserName":                              KeyUsername,
		"oss:x-oss-server-side-encryption":        KeySSE,
		"cos:x-cos-server-side-encryption":        KeySSE,
		"x-obs-server-side-encryption":            KeySSE,
		"obs:x-obs-server-side-encryption":        KeySSE,
		"x-obs-server-side-encryption-kms-key-id": KeySSEKMSKeyID,
		"cos:x-cos-server-side-encryption-customer-algorithm": KeySSECustomerAlgorithm,
		"oss:Prefix":                KeyPrefix,
		"prefix":                    KeyPrefix,
		"max-keys":                  KeyMaxKeys,
		"delimiter":                 KeyDelimiter,
		"S3:X-Amz-Acl":              KeyACL,
		"some:Unknown-Key":          "some:unknown-key",
		"s3:ExistingObjectTag/Env":  KeyExistingObjectTag + "env",
		"oss:ExistingObjectTag/Env": KeyExistingObjectTag + "env",
		"ExistingObjectTag/Env":     KeyExistingObjectTag + "env",
		"obs:RequestObjectTag/team": KeyRequestObjectTag + "team",
		"oss:RequestObjectTagKeys":  KeyRequestObjectTagKeys,
		"s3:RequestObjectTagKeys":   KeyRequestObjectTagKeys,
		"oss:ExistingObjectTag/":    "oss:existingobjecttag/",
	} {
		if got := CanonicalConditionKey(in); got != want {
			t.Errorf("CanonicalConditionKey(%q) = %q, want %q", in, got, want)
		}
	}
	seen := map[string]bool{}
	for _, m := range ConditionKeyMappings() {
		lk := strings.ToLower(m.Name)
		if seen[lk] {
			t.Errorf("duplicate key mapping %q", m.Name)
		}
		seen[lk] = true
		if m.Canonical != strings.ToLower(m.Canonical) || !strings.Contains(m.Canonical, ":") {
			t.Errorf("%q maps to non-canonical key %q", m.Name, m.Canonical)
		}
	}
	ms := ConditionKeyMappings()
	for i := range ms {
		if ms[i].Values != nil {
			ms[i].Values["kms"] = "x"
		}
	}
	if keyAlias["x-obs-server-side-encryption"].Values["kms"] != "aws:kms" {
		t.Error("ConditionKeyMappings exposes internal state")
	}
}
