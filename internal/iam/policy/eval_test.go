package policy

import (
	"fmt"
	"sync"
	"testing"
)

func TestPrecedence(t *testing.T) {
	both := mustParse(t, `{"Statement":[
		{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"},
		{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}]}`)
	// The Deny comes first here: order must not matter.
	denyFirst := mustParse(t, `{"Statement":[
		{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"},
		{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`)
	allowOnly := mustParse(t, `{"Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	denyOnly := mustParse(t, `{"Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	ident := mustParseIdentity(t, `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`)

	get := req("alice", ActionGetObject, "arn:aws:s3:::b/k", nil)
	del := req("alice", ActionDeleteObject, "arn:aws:s3:::b/k", nil)
	put := req("alice", ActionPutObject, "arn:aws:s3:::b/k", nil)
	other := req("alice", ActionGetObject, "arn:aws:s3:::c/k", nil)

	for _, tc := range []struct {
		name     string
		p        *Policy
		r        *Request
		want     Decision
		wantFrom string
	}{
		{"allow and deny: deny wins", both, del, Deny, "D"},
		{"allow and deny, deny first", denyFirst, del, Deny, "D"},
		{"allow only", both, get, Allow, "A"},
		{"allow, deny first, deny does not apply", denyFirst, get, Allow, "A"},
		{"nothing applies", both, other, NotApplicable, ""},
		{"deny only", denyOnly, get, Deny, "D"},
	} {
		d, from := tc.p.Explain(tc.r)
		if d != tc.want || from != tc.wantFrom || tc.p.Evaluate(tc.r) != tc.want {
			t.Errorf("%s: got %v from %q, want %v from %q", tc.name, d, from, tc.want, tc.wantFrom)
		}
	}

	for _, tc := range []struct {
		name string
		ps   []*Policy
		r    *Request
		want Decision
	}{
		{"no policies", nil, get, NotApplicable},
		{"nil policies skipped", []*Policy{nil, nil}, get, NotApplicable},
		{"allow in bucket policy", []*Policy{allowOnly, ident}, get, Allow},
		{"allow in identity policy", []*Policy{allowOnly, ident}, put, Allow},
		{"deny in one policy beats allow in another", []*Policy{ident, allowOnly, denyOnly}, get, Deny},
		{"deny first", []*Policy{denyOnly, allowOnly}, get, Deny},
		{"neither", []*Policy{allowOnly, ident}, del, NotApplicable},
	} {
		if got := Evaluate(tc.r, tc.ps...); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if Evaluate(nil, allowOnly) != NotApplicable || (*Policy)(nil).Evaluate(get) != NotApplicable {
		t.Error("nil request or policy must be NotApplicable")
	}
	for d, s := range map[Decision]string{NotApplicable: "NotApplicable", Allow: "Allow", Deny: "Deny", 7: "Decision(7)"} {
		if d.String() != s {
			t.Errorf("%d.String() = %q", d, d.String())
		}
	}
}

// condPolicy builds an Allow statement whose only restriction is cond.
func condPolicy(t *testing.T, cond string) *Policy {
	t.Helper()
	return mustParse(t, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":`+cond+`}]}`)
}

type ctx = map[string][]string

func TestConditionOperators(t *testing.T) {
	now := "2026-03-01T12:00:00Z"
	for _, tc := range []struct {
		cond string
		ctx  ctx
		want bool // the condition holds
	}{
		// String
		{`{"StringEquals":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"StringEquals":{"aws:username":"alice"}}`, ctx{"aws:username": {"Alice"}}, false},
		{`{"StringEquals":{"aws:username":["bob","alice"]}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"StringEquals":{"aws:username":"alice"}}`, ctx{}, false},
		{`{"StringEquals":{"aws:username":"alice"}}`, ctx{"aws:username": {}}, false},
		{`{"StringEquals":{"aws:username":"a*"}}`, ctx{"aws:username": {"alice"}}, false},
		{`{"StringEqualsIfExists":{"aws:username":"alice"}}`, ctx{}, true},
		{`{"StringEqualsIfExists":{"aws:username":"alice"}}`, ctx{"aws:username": {"bob"}}, false},
		{`{"StringEqualsIfExists":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"StringNotEquals":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, false},
		{`{"StringNotEquals":{"aws:username":"alice"}}`, ctx{"aws:username": {"bob"}}, true},
		{`{"StringNotEquals":{"aws:username":"alice"}}`, ctx{}, true},
		{`{"StringNotEquals":{"aws:username":["alice","bob"]}}`, ctx{"aws:username": {"bob"}}, false},
		{`{"StringNotEquals":{"aws:username":["alice","bob"]}}`, ctx{"aws:username": {"carol"}}, true},
		{`{"StringNotEqualsIfExists":{"aws:username":"alice"}}`, ctx{}, true},
		{`{"StringNotEqualsIfExists":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, false},
		{`{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx{}, false},
		{`{"StringEqualsIgnoreCaseIfExists":{"aws:username":"ALICE"}}`, ctx{}, true},
		{`{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx{"aws:username": {"alice"}}, false},
		{`{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx{"aws:username": {"bob"}}, true},
		{`{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx{}, true},
		{`{"StringLike":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"home/alice/"}}, true},
		{`{"StringLike":{"s3:prefix":"home/?"}}`, ctx{"s3:prefix": {"home/a"}}, true},
		{`{"StringLike":{"s3:prefix":"home/?"}}`, ctx{"s3:prefix": {"home/ab"}}, false},
		{`{"StringLike":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"Home/x"}}, false},
		{`{"StringLike":{"s3:prefix":"home/*"}}`, ctx{}, false},
		{`{"StringLikeIfExists":{"s3:prefix":"home/*"}}`, ctx{}, true},
		{`{"StringNotLike":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"home/x"}}, false},
		{`{"StringNotLike":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"etc/x"}}, true},
		{`{"StringNotLike":{"s3:prefix":"home/*"}}`, ctx{}, true},
		{`{"StringNotLikeIfExists":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"home/x"}}, false},
		// Numeric
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"10"}}, true},
		{`{"NumericEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"10.0"}}, true},
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"11"}}, false},
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, ctx{}, false},
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"ten"}}, false},
		{`{"NumericEqualsIfExists":{"s3:max-keys":"10"}}`, ctx{}, true},
		{`{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"10"}}, false},
		{`{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"11"}}, true},
		{`{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx{}, true},
		{`{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"ten"}}, false},
		{`{"NumericNotEqualsIfExists":{"s3:max-keys":"10"}}`, ctx{}, true},
		{`{"NumericLessThan":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"99"}}, true},
		{`{"NumericLessThan":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"100"}}, false},
		{`{"NumericLessThan":{"s3:max-keys":"100"}}`, ctx{}, false},
		{`{"NumericLessThanIfExists":{"s3:max-keys":"100"}}`, ctx{}, true},
		{`{"NumericLessThanEquals":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"100"}}, true},
		{`{"NumericLessThanEquals":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"101"}}, false},
		{`{"NumericLessThanEquals":{"s3:max-keys":"100"}}`, ctx{}, false},
		{`{"NumericGreaterThan":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"101"}}, true},
		{`{"NumericGreaterThan":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"100"}}, false},
		{`{"NumericGreaterThan":{"s3:max-keys":"100"}}`, ctx{}, false},
		{`{"NumericGreaterThanEquals":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"100"}}, true},
		{`{"NumericGreaterThanEquals":{"s3:max-keys":"100"}}`, ctx{"s3:max-keys": {"99"}}, false},
		{`{"NumericGreaterThanEqualsIfExists":{"s3:max-keys":"100"}}`, ctx{}, true},
		{`{"NumericLessThan":{"s3:max-keys":["5","100"]}}`, ctx{"s3:max-keys": {"50"}}, true},
		// Date
		{`{"DateEquals":{"aws:CurrentTime":"2026-03-01T12:00:00Z"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateEquals":{"aws:CurrentTime":"2026-03-01T13:00:00+01:00"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateEquals":{"aws:CurrentTime":"2026-03-01T12:00:01Z"}}`, ctx{"aws:currenttime": {now}}, false},
		{`{"DateEquals":{"aws:CurrentTime":"2026-03-01T12:00:00Z"}}`, ctx{}, false},
		{`{"DateEqualsIfExists":{"aws:CurrentTime":"2026-03-01T12:00:00Z"}}`, ctx{}, true},
		{`{"DateNotEquals":{"aws:CurrentTime":"2026-03-01T12:00:00Z"}}`, ctx{"aws:currenttime": {now}}, false},
		{`{"DateNotEquals":{"aws:CurrentTime":"2026-01-01"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateNotEquals":{"aws:CurrentTime":"2026-01-01"}}`, ctx{}, true},
		{`{"DateLessThan":{"aws:CurrentTime":"2026-12-31T00:00:00Z"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx{"aws:currenttime": {now}}, false},
		{`{"DateLessThan":{"aws:CurrentTime":"2026-12-31T00:00:00Z"}}`, ctx{}, false},
		{`{"DateLessThanEquals":{"aws:CurrentTime":"2026-03-01T12:00:00Z"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateLessThanEquals":{"aws:CurrentTime":"2026-03-01T11:59:59Z"}}`, ctx{"aws:currenttime": {now}}, false},
		{`{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01"}}`, ctx{"aws:currenttime": {now}}, false},
		{`{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01"}}`, ctx{}, false},
		{`{"DateGreaterThanEquals":{"aws:CurrentTime":"1772366400"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"DateGreaterThanEquals":{"aws:CurrentTime":"1772366401"}}`, ctx{"aws:currenttime": {now}}, false},
		{`{"DateGreaterThanEqualsIfExists":{"aws:CurrentTime":"2027-01-01"}}`, ctx{}, true},
		{`{"DateLessThan":{"aws:CurrentTime":"2026-12-31T00:00:00Z"}}`, ctx{"aws:currenttime": {"soon"}}, false},
		// Bool
		{`{"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:securetransport": {"true"}}, true},
		{`{"Bool":{"aws:SecureTransport":true}}`, ctx{"aws:securetransport": {"TRUE"}}, true},
		{`{"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:securetransport": {"false"}}, false},
		{`{"Bool":{"aws:SecureTransport":"false"}}`, ctx{}, false},
		{`{"Bool":{"aws:SecureTransport":"false"}}`, ctx{"aws:securetransport": {"yes"}}, false},
		{`{"BoolIfExists":{"aws:SecureTransport":"false"}}`, ctx{}, true},
		{`{"BoolIfExists":{"aws:SecureTransport":"false"}}`, ctx{"aws:securetransport": {"true"}}, false},
		// IP
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.1.2.3"}}, true},
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"11.1.2.3"}}, false},
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"::ffff:10.1.2.3"}}, true},
		{`{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}`, ctx{"aws:sourceip": {"127.0.0.1"}}, true},
		{`{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}`, ctx{"aws:sourceip": {"127.0.0.2"}}, false},
		{`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx{"aws:sourceip": {"2001:db8:1::5"}}, true},
		{`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx{"aws:sourceip": {"2001:db9::5"}}, false},
		{`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx{"aws:sourceip": {"10.1.2.3"}}, false},
		{`{"IpAddress":{"aws:SourceIp":["192.168.0.0/16","10.0.0.0/8"]}}`, ctx{"aws:sourceip": {"10.9.9.9"}}, true},
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{}, false},
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"not-an-ip"}}, false},
		{`{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{}, true},
		{`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.1.2.3"}}, false},
		{`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"11.1.2.3"}}, true},
		{`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{}, true},
		{`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"not-an-ip"}}, false},
		{`{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.1.2.3"}}, false},
		// ARN
		{`{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::b"}}, true},
		{`{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::c"}}, false},
		{`{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{}, false},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b*"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::b/k"}}, true},
		{`{"ArnLike":{"aws:SourceArn":"arn:*:iam::*:user/?lice"}}`, ctx{"aws:sourcearn": {"arn:aws:iam::1:user/alice"}}, true},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:user/*"}}`, ctx{"aws:sourcearn": {"arn:aws:iam::1:role/x"}}, false},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b*"}}`, ctx{"aws:sourcearn": {"not-an-arn"}}, false},
		{`{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::b*"}}`, ctx{}, true},
		{`{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::b"}}, false},
		{`{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{}, true},
		{`{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b*"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::c"}}, true},
		{`{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b*"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::b2"}}, false},
		{`{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b*"}}`, ctx{}, true},
		// Null
		{`{"Null":{"s3:x-amz-server-side-encryption":"true"}}`, ctx{}, true},
		{`{"Null":{"s3:x-amz-server-side-encryption":"true"}}`, ctx{KeySSE: {}}, true},
		{`{"Null":{"s3:x-amz-server-side-encryption":"true"}}`, ctx{KeySSE: {"AES256"}}, false},
		{`{"Null":{"s3:x-amz-server-side-encryption":false}}`, ctx{KeySSE: {"AES256"}}, true},
		{`{"Null":{"s3:x-amz-server-side-encryption":"false"}}`, ctx{}, false},
		{`{"Null":{"s3:x-amz-server-side-encryption":["true","false"]}}`, ctx{}, true},
		// ANDs: keys in a block, and blocks
		{`{"StringEquals":{"aws:username":"alice","s3:prefix":"home/"}}`, ctx{"aws:username": {"alice"}, "s3:prefix": {"home/"}}, true},
		{`{"StringEquals":{"aws:username":"alice","s3:prefix":"home/"}}`, ctx{"aws:username": {"alice"}, "s3:prefix": {"etc/"}}, false},
		{`{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:username": {"alice"}, "aws:securetransport": {"true"}}, true},
		{`{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:username": {"alice"}}, false},
		// Keys are case-insensitive, operators too; vendor spellings
		{`{"StringEquals":{"AWS:UserName":"alice"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"stringequals":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"streq":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"string_equal":{"aws:username":"alice"}}`, ctx{"aws:username": {"alice"}}, true},
		{`{"string_not_equal_if_exist":{"aws:username":"alice"}}`, ctx{}, true},
		{`{"numeric_greater_than_equal":{"s3:max-keys":"5"}}`, ctx{"s3:max-keys": {"5"}}, true},
		{`{"numlteq":{"max-keys":"100"}}`, ctx{"s3:max-keys": {"100"}}, true},
		{`{"dategt":{"CurrentTime":"2026-01-01"}}`, ctx{"aws:currenttime": {now}}, true},
		{`{"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.0.0.1"}}, false},
		{`{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.0.0.1"}}, true},
		{`{"IpAddress":{"SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.0.0.1"}}, true},
		{`{"Bool":{"cos:secure-transport":"true"}}`, ctx{"aws:securetransport": {"true"}}, true},
		{`{"Bool":{"acs:SecureTransport":"true"}}`, ctx{"aws:securetransport": {"false"}}, false},
		{`{"StringEquals":{"oss:x-oss-server-side-encryption":"KMS"}}`, ctx{KeySSE: {"aws:kms"}}, true},
		{`{"StringEquals":{"cos:x-cos-server-side-encryption":"cos/kms"}}`, ctx{KeySSE: {"aws:kms"}}, true},
		{`{"StringEquals":{"cos:x-cos-server-side-encryption":"AES256"}}`, ctx{KeySSE: {"AES256"}}, true},
		{`{"StringEquals":{"x-obs-server-side-encryption":"kms"}}`, ctx{KeySSE: {"aws:kms"}}, true},
		{`{"StringEquals":{"x-obs-server-side-encryption":"kms"}}`, ctx{KeySSE: {"AES256"}}, false},
		{`{"StringEquals":{"s3:x-amz-server-side-encryption":"kms"}}`, ctx{KeySSE: {"aws:kms"}}, false}, // S3 values are not translated
		{`{"null_equal":{"cos:x-cos-server-side-encryption":"true"}}`, ctx{}, true},
		{`{"StringLike":{"oss:Prefix":"home/*"}}`, ctx{"s3:prefix": {"home/x"}}, true},
	} {
		p := condPolicy(t, tc.cond)
		want := NotApplicable
		if tc.want {
			want = Allow
		}
		if got := p.Evaluate(req("alice", ActionGetObject, "arn:aws:s3:::b/k", tc.ctx)); got != want {
			t.Errorf("%s with %v: got %v, want %v", tc.cond, tc.ctx, got, want)
		}
	}
}

func TestSetQualifiers(t *testing.T) {
	for _, tc := range []struct {
		cond string
		ctx  ctx
		want bool
	}{
		// ForAnyValue: some request value matches; missing is false.
		{`{"ForAnyValue:StringEquals":{"aws:tagkeys":["a","b"]}}`, ctx{"aws:tagkeys": {"x", "b"}}, true},
		{`{"ForAnyValue:StringEquals":{"aws:tagkeys":["a","b"]}}`, ctx{"aws:tagkeys": {"x", "y"}}, false},
		{`{"ForAnyValue:StringEquals":{"aws:tagkeys":["a","b"]}}`, ctx{}, false},
		{`{"ForAnyValue:StringEqualsIfExists":{"aws:tagkeys":["a"]}}`, ctx{}, true},
		{`{"ForAnyValue:StringLike":{"aws:tagkeys":"a*"}}`, ctx{"aws:tagkeys": {"x", "ab"}}, true},
		{`{"ForAnyValue:StringNotEquals":{"aws:tagkeys":["a","b"]}}`, ctx{"aws:tagkeys": {"a", "c"}}, true},
		{`{"ForAnyValue:StringNotEquals":{"aws:tagkeys":["a","b"]}}`, ctx{"aws:tagkeys": {"a", "b"}}, false},
		{`{"ForAnyValue:StringNotEquals":{"aws:tagkeys":["a","b"]}}`, ctx{}, false},
		{`{"for_any_value:string_equal":{"aws:tagkeys":"a"}}`, ctx{"aws:tagkeys": {"a"}}, true},
		{`{"ForAnyValue:NumericLessThan":{"aws:nums":"10"}}`, ctx{"aws:nums": {"20", "5"}}, true},
		{`{"ForAnyValue:IpAddress":{"aws:sourceip":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"1.1.1.1", "10.0.0.1"}}, true},
		// ForAllValues: every request value matches; missing is true.
		{`{"ForAllValues:StringEquals":{"aws:tagkeys":["a","b"]}}`, ctx{"aws:tagkeys": {"a", "b"}}, true},
		{`{"ForAllValues:StringEquals":{"aws:tagkeys":["a","b"]}}`, ctx{"aws:tagkeys": {"a", "c"}}, false},
		{`{"ForAllValues:StringEquals":{"aws:tagkeys":["a","b"]}}`, ctx{}, true},
		{`{"ForAllValues:StringLike":{"aws:tagkeys":"key1*"}}`, ctx{"aws:tagkeys": {"key1:a", "key1:b"}}, true},
		{`{"ForAllValues:StringNotLike":{"aws:tagkeys":"key1*"}}`, ctx{"aws:tagkeys": {"key1:legal"}}, false},
		{`{"ForAllValues:StringNotLike":{"aws:tagkeys":"key1*"}}`, ctx{"aws:tagkeys": {"key2:audit"}}, true},
		{`{"ForAllValues:StringNotLike":{"aws:tagkeys":"key1*"}}`, ctx{}, true},
		{`{"for_all_value:string_equal":{"aws:tagkeys":"a"}}`, ctx{"aws:tagkeys": {"a", "a"}}, true},
		{`{"ForAllValues:NumericLessThan":{"aws:nums":"10"}}`, ctx{"aws:nums": {"20", "5"}}, false},
		// Without a qualifier, a multi-valued key: positive operators need
		// one match, negated operators need every value to match none.
		{`{"StringEquals":{"aws:tagkeys":"a"}}`, ctx{"aws:tagkeys": {"x", "a"}}, true},
		{`{"StringNotEquals":{"aws:tagkeys":"a"}}`, ctx{"aws:tagkeys": {"x", "a"}}, false},
		{`{"StringNotEquals":{"aws:tagkeys":"a"}}`, ctx{"aws:tagkeys": {"x", "y"}}, true},
	} {
		p := condPolicy(t, tc.cond)
		want := NotApplicable
		if tc.want {
			want = Allow
		}
		if got := p.Evaluate(req("alice", ActionGetObject, "arn:aws:s3:::b/k", tc.ctx)); got != want {
			t.Errorf("%s with %v: got %v, want %v", tc.cond, tc.ctx, got, want)
		}
	}
}

func TestNotActionNotResourceNotPrincipal(t *testing.T) {
	p := mustParse(t, `{"Statement":[
		{"Sid":"AllowAllButSecret","Effect":"Allow","Principal":"*","Action":"s3:*","NotResource":["arn:aws:s3:::b/secret/*"]},
		{"Sid":"DenyAllButRead","Effect":"Deny","Principal":"*","NotAction":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/ro/*"},
		{"Sid":"DenyDeleteButAdmin","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::strongroom:user/admin"]},"Action":"s3:DeleteObject","Resource":"*"}]}`)
	for _, tc := range []struct {
		r        *Request
		want     Decision
		wantFrom string
	}{
		{req("alice", ActionGetObject, "arn:aws:s3:::b/public/x", nil), Allow, "AllowAllButSecret"},
		{req("alice", ActionGetObject, "arn:aws:s3:::b/secret/x", nil), NotApplicable, ""},
		{req("alice", ActionGetObject, "arn:aws:s3:::b/ro/x", nil), Allow, "AllowAllButSecret"},
		{req("alice", ActionPutObject, "arn:aws:s3:::b/ro/x", nil), Deny, "DenyAllButRead"},
		{req("alice", ActionPutObject, "arn:aws:s3:::b/rw/x", nil), Allow, "AllowAllButSecret"},
		{req("alice", ActionDeleteObject, "arn:aws:s3:::b/rw/x", nil), Deny, "DenyDeleteButAdmin"},
		{req("", ActionDeleteObject, "arn:aws:s3:::b/rw/x", nil), Deny, "DenyDeleteButAdmin"},
		{req("admin", ActionDeleteObject, "arn:aws:s3:::b/rw/x", nil), Allow, "AllowAllButSecret"},
		{&Request{Principal: "admin", Account: "other", Action: ActionDeleteObject, Resource: "arn:aws:s3:::b/rw/x"}, Deny, "DenyDeleteButAdmin"},
	} {
		if d, from := p.Explain(tc.r); d != tc.want || from != tc.wantFrom {
			t.Errorf("%+v: got %v from %q, want %v from %q", *tc.r, d, from, tc.want, tc.wantFrom)
		}
	}
	star := mustParse(t, `{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"s3:*","Resource":"*"}]}`)
	if d := star.Evaluate(req("alice", ActionGetObject, "arn:aws:s3:::b/k", nil)); d != NotApplicable {
		t.Errorf("NotPrincipal * applies to %v", d)
	}
}

func TestPrincipals(t *testing.T) {
	alice := req("alice", ActionGetObject, "arn:aws:s3:::b/k", nil)
	bob := req("bob", ActionGetObject, "arn:aws:s3:::b/k", nil)
	anon := req("", ActionGetObject, "arn:aws:s3:::b/k", nil)
	aliceElsewhere := &Request{Principal: "alice", Account: "other", Action: ActionGetObject, Resource: "arn:aws:s3:::b/k"}
	for _, tc := range []struct {
		principal                  string
		alice, bob, anon, aliceElw bool
	}{
		{`"*"`, true, true, true, true},
		{`{"AWS":"*"}`, true, true, true, true},
		{`["*"]`, true, true, true, true},
		{`[]`, true, true, true, true},
		{`{"AWS":"arn:aws:iam::strongroom:user/alice"}`, true, false, false, false},
		{`{"AWS":"arn:aws:iam::strongroom:user/team/alice"}`, true, false, false, false},
		{`{"AWS":["arn:aws:iam::strongroom:root"]}`, true, true, false, false},
		{`{"AWS":"arn:aws:iam::other:root"}`, false, false, false, true},
		{`{"AWS":"alice"}`, true, false, false, true},
		{`["alice","carol"]`, true, false, false, true},
		{`{"AWS":"arn:aws:iam::strongroom:role/admin"}`, false, false, false, false},
		{`{"AWS":"arn:aws:sts::strongroom:assumed-role/r/s"}`, false, false, false, false},
		{`{"CanonicalUser":"bob"}`, false, true, false, false},
		{`{"Service":"obs"}`, false, false, false, false},
		{`{"qcs":"qcs::cam::anyone:anyone"}`, true, true, true, true},
		{`{"qcs":["qcs::cam::uin/strongroom:uin/alice"]}`, true, false, false, false},
		{`{"qcs":["qcs::cam::uin/strongroom:uin/strongroom"]}`, true, true, false, false},
		{`{"ID":"*"}`, true, true, true, true},
		{`{"ID":["domain/strongroom:user/bob"]}`, false, true, false, false},
		{`{"ID":["domain/strongroom:user/*"]}`, true, true, false, false},
		{`{"ID":["domain/strongroom"]}`, true, true, false, false},
		{`{"AWS":"arn:aws:iam::other:user/bob","ID":"domain/other:user/alice"}`, false, false, false, true},
	} {
		p := mustParse(t, `{"Statement":[{"Effect":"Allow","Principal":`+tc.principal+`,"Action":"s3:GetObject","Resource":"*"}]}`)
		for _, c := range []struct {
			who  string
			r    *Request
			want bool
		}{{"alice", alice, tc.alice}, {"bob", bob, tc.bob}, {"anonymous", anon, tc.anon}, {"alice@other", aliceElsewhere, tc.aliceElw}} {
			if got := p.Evaluate(c.r) == Allow; got != c.want {
				t.Errorf("Principal %s, %s: allowed=%v, want %v", tc.principal, c.who, got, c.want)
			}
		}
	}
}

func TestResourceMatching(t *testing.T) {
	for _, tc := range []struct {
		resource string
		arn      string
		want     bool
	}{
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key", false},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket2", false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/key", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket2/key", false},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket/key", true},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket2", true},
		{"arn:aws:s3:::b?cket", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::b?cket", "arn:aws:s3:::bcket", false},
		{"arn:aws:s3:::bucket/home/*/docs/*", "arn:aws:s3:::bucket/home/alice/docs/x", true},
		{"arn:aws:s3:::bucket/home/*/docs/*", "arn:aws:s3:::bucket/home/alice/pics/x", false},
		{"arn:aws:s3:::bucket/Key", "arn:aws:s3:::bucket/key", false},
		{"arn:aws:s3:::*", "arn:aws:s3:::any/thing", true},
		{"*", "arn:aws:s3:::any", true},
		{"arn:aws-cn:s3:::bucket/*", "arn:aws:s3:::bucket/k", true},
		{"acs:oss:*:*:bucket", "arn:aws:s3:::bucket", true},
		{"acs:oss:*:1234:bucket/*", "arn:aws:s3:::bucket/k", true},
		{"acs:oss:*:*:*", "arn:aws:s3:::x/y", true},
		{"qcs::cos:ap-guangzhou:uid/1250000000:b-1250000000/*", "arn:aws:s3:::b-1250000000/k", true},
		{"qcs::cos:ap-guangzhou:uid/1250000000:b-1250000000/", "arn:aws:s3:::b-1250000000", true},
		{"qcs::cos:ap-guangzhou:uid/1250000000:b-1250000000/", "arn:aws:s3:::b-1250000000/k", false},
		{"test-bucket", "arn:aws:s3:::test-bucket", true},
		{"test-bucket/*.jpg", "arn:aws:s3:::test-bucket/a/b.jpg", true},
		{"test-bucket/*.jpg", "arn:aws:s3:::test-bucket/a/b.png", false},
		{"obs:*:*:bucket:*", "arn:aws:s3:::b", true},
		{"obs:*:*:bucket:*", "arn:aws:s3:::b/k", false},
		{"obs:*:*:bucket:b", "arn:aws:s3:::b", true},
		{"obs:*:*:object:b/*", "arn:aws:s3:::b/k", true},
		{"obs:*:*:object:b/*", "arn:aws:s3:::b", false},
	} {
		p := mustParse(t, fmt.Sprintf(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":%q}]}`, tc.resource))
		if got := p.Evaluate(req("alice", ActionGetObject, tc.arn, nil)) == Allow; got != tc.want {
			t.Errorf("Resource %q vs %q: %v, want %v", tc.resource, tc.arn, got, tc.want)
		}
	}
}

func TestCrossDialectActions(t *testing.T) {
	const bucket = "arn:aws:s3:::b"
	for _, tc := range []struct {
		action  string // as written in the policy
		request string // canonical action of the request
		want    bool
	}{
		{"oss:GetBucketEncryption", ActionGetEncryptionConfiguration, true},
		{"oss:GetBucketEncryption", ActionPutEncryptionConfiguration, false},
		{"cos:GetBucketEncryption", ActionGetEncryptionConfiguration, true},
		{"name/cos:GetBucketEncryption", ActionGetEncryptionConfiguration, true},
		{"obs:bucket:GetEncryptionConfiguration", ActionGetEncryptionConfiguration, true},
		{"GetEncryptionConfiguration", ActionGetEncryptionConfiguration, true},
		{"s3:GetEncryptionConfiguration", ActionGetEncryptionConfiguration, true},
		// DeleteBucketEncryption, per dialect.
		{"s3:PutEncryptionConfiguration", ActionDeleteEncryptionConfiguration, true},
		{"s3:PutEncryptionConfiguration", ActionPutEncryptionConfiguration, true},
		{"PutEncryptionConfiguration", ActionDeleteEncryptionConfiguration, true},
		{"obs:bucket:PutEncryptionConfiguration", ActionDeleteEncryptionConfiguration, true},
		{"oss:PutBucketEncryption", ActionPutEncryptionConfiguration, true},
		{"oss:PutBucketEncryption", ActionDeleteEncryptionConfiguration, false},
		{"oss:DeleteBucketEncryption", ActionDeleteEncryptionConfiguration, true},
		{"oss:DeleteBucketEncryption", ActionPutEncryptionConfiguration, false},
		{"cos:PutBucketEncryption", ActionDeleteEncryptionConfiguration, false},
		{"cos:DeleteBucketEncryption", ActionDeleteEncryptionConfiguration, true},
		{"s3:Put*", ActionDeleteEncryptionConfiguration, true},
		{"s3:Delete*", ActionDeleteEncryptionConfiguration, false},
		{"s3:Delete*", ActionDeleteBucketPolicy, true},
		// Listing and other names that differ.
		{"oss:ListObjects", ActionListBucket, true},
		{"cos:GetBucket", ActionListBucket, true},
		{"cos:HeadBucket", ActionListBucket, true},
		{"obs:bucket:HeadBucket", ActionListBucket, true},
		{"oss:ListBuckets", ActionListAllMyBuckets, true},
		{"cos:GetService", ActionListAllMyBuckets, true},
		{"oss:ListParts", ActionListMultipartUploadParts, true},
		{"cos:InitiateMultipartUpload", ActionPutObject, true},
		{"cos:PutBucketACL", ActionPutBucketAcl, true},
		{"oss:PutBucket", ActionCreateBucket, true},
		{"cos:PutBucket", ActionCreateBucket, true},
		{"cos:PutBucket", ActionPutBucketPolicy, false},
		// Wildcards, mapped through the dialect's own names.
		{"s3:Get*", ActionGetEncryptionConfiguration, true},
		{"s3:Get*", ActionPutObject, false},
		{"s3:Get*", ActionListBucket, false},
		{"s3:*Object", ActionGetObject, true},
		{"s3:?etObject", ActionGetObject, true},
		{"cos:Get*", ActionListBucket, true}, // cos:GetBucket is a list
		{"cos:Get*", ActionGetObject, true},
		{"cos:Get*", ActionPutObject, false},
		{"oss:Get*", ActionGetEncryptionConfiguration, true},
		{"oss:Get*", ActionOSSGetBucketWorm, true},
		{"oss:Get*", ActionOSSInitiateBucketWorm, false},
		{"oss:List*", ActionListBucket, true},
		{"Get*", ActionGetObject, true}, // OBS bucket-policy form
		{"List*", ActionListBucket, true},
		{"obs:object:*", ActionGetObject, true},
		{"obs:object:*", ActionListBucket, false}, // object actions only
		{"obs:object:Get*", ActionGetObject, true},
		{"obs:object:Get*", ActionListBucket, false},
		// Everything.
		{"*", ActionDeleteBucket, true},
		{"s3:*", ActionOSSGetBucketInfo, true},
		{"oss:*", ActionDeleteEncryptionConfiguration, true},
		{"cos:*", ActionGetObject, true},
		{"obs:*:*", ActionGetObject, true},
		// Case-insensitive names; non-canonical case in the request.
		{"S3:getobject", ActionGetObject, true},
		{"OSS:GETOBJECT", ActionGetObject, true},
		{"s3:GetObject", "s3:getobject", true},
		{"s3:GetObject", "s3:PutObject", false},
		{"s3:GetObject", "s3:Unknown", false},
	} {
		p := mustParse(t, fmt.Sprintf(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":%q,"Resource":"*"}]}`, tc.action))
		if got := p.Evaluate(req("alice", tc.request, bucket, nil)) == Allow; got != tc.want {
			t.Errorf("policy action %q, request %q: allowed=%v, want %v", tc.action, tc.request, got, tc.want)
		}
	}
}

// The classic AWS policy: deny PutObject unless the request asks for
// SSE-KMS with key X, as AWS documents it (StringNotEquals and Null).
func TestDenyUnlessKMSWithKey(t *testing.T) {
	const keyX = "arn:aws:kms:us-east-1:111122223333:key/x"
	p := mustParse(t, `{
	  "Version": "2012-10-17",
	  "Id": "PutObjectPolicy",
	  "Statement": [
	    {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*",
	     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::secure/*",
	     "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}},
	    {"Sid": "DenyUnencryptedObjectUploads", "Effect": "Deny", "Principal": "*",
	     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::secure/*",
	     "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
	    {"Sid": "DenyWrongKey", "Effect": "Deny", "Principal": "*",
	     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::secure/*",
	     "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "`+keyX+`"}}},
	    {"Sid": "AllowAlice", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::strongroom:user/alice"},
	     "Action": "s3:*", "Resource": ["arn:aws:s3:::secure", "arn:aws:s3:::secure/*"]}
	  ]
	}`)
	put := func(c ctx) *Request { return req("alice", ActionPutObject, "arn:aws:s3:::secure/doc", c) }
	for _, tc := range []struct {
		name     string
		r        *Request
		want     Decision
		wantFrom string
	}{
		{"plain PUT", put(nil), Deny, "DenyIncorrectEncryptionHeader"},
		{"SSE-S3", put(ctx{KeySSE: {"AES256"}}), Deny, "DenyIncorrectEncryptionHeader"},
		{"SSE-C", put(ctx{KeySSECustomerAlgorithm: {"AES256"}}), Deny, "DenyIncorrectEncryptionHeader"},
		{"SSE-KMS, key X", put(ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {keyX}}), Allow, "AllowAlice"},
		{"SSE-KMS, other key", put(ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {"arn:aws:kms:us-east-1:111122223333:key/y"}}), Deny, "DenyWrongKey"},
		{"SSE-KMS, no key named", put(ctx{KeySSE: {"aws:kms"}}), Deny, "DenyWrongKey"},
		{"SSE-KMS with key X, other bucket", req("alice", ActionPutObject, "arn:aws:s3:::open/doc", ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {keyX}}), NotApplicable, ""},
		{"GET is not affected", req("alice", ActionGetObject, "arn:aws:s3:::secure/doc", nil), Allow, "AllowAlice"},
		{"anonymous encrypted PUT: not denied, not allowed", req("", ActionPutObject, "arn:aws:s3:::secure/doc", ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {keyX}}), NotApplicable, ""},
		// UploadPart is canonical s3:PutObject; the server passes the SSE of
		// the upload it belongs to.
		{"UploadPart of an upload started with key X", put(ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {keyX}}), Allow, "AllowAlice"},
	} {
		if d, from := p.Explain(tc.r); d != tc.want || from != tc.wantFrom {
			t.Errorf("%s: got %v from %q, want %v from %q", tc.name, d, from, tc.want, tc.wantFrom)
		}
	}

	// Both keys in one StringNotEquals block are ANDed: the statement denies
	// only when both differ, which is why AWS documents separate statements.
	and := mustParse(t, `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::secure/*",
		"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms","s3:x-amz-server-side-encryption-aws-kms-key-id":"`+keyX+`"}}}]}`)
	if d := and.Evaluate(put(ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {"other"}})); d != NotApplicable {
		t.Errorf("ANDed negated keys: wrong key alone denied (%v)", d)
	}
	if d := and.Evaluate(put(nil)); d != Deny {
		t.Errorf("ANDed negated keys: plain PUT %v, want Deny", d)
	}

	// The same rule written for OSS, COS and OBS requests governs canonical
	// requests alike.
	for _, doc := range []string{
		`{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:secure/*"],
			"Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption":"KMS"}}},
			{"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:secure/*"],
			"Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption-key-id":"` + keyX + `"}}}]}`,
		`{"version":"2.0","statement":[{"principal":{"qcs":["qcs::cam::anyone:anyone"]},"effect":"deny","action":["name/cos:PutObject"],
			"resource":["qcs::cos:ap-beijing:uid/1:secure/*"],"condition":{"string_not_equal":{"cos:x-cos-server-side-encryption":"cos/kms"}}},
			{"principal":{"qcs":["qcs::cam::anyone:anyone"]},"effect":"deny","action":["name/cos:PutObject"],
			"resource":["qcs::cos:ap-beijing:uid/1:secure/*"],"condition":{"string_not_equal":{"cos:x-cos-server-side-encryption-cos-kms-key-id":"` + keyX + `"}}}]}`,
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":["PutObject"],"Resource":["secure/*"],
			"Condition":{"StringNotEquals":{"x-obs-server-side-encryption":"kms"}}},
			{"Effect":"Deny","Principal":"*","Action":["PutObject"],"Resource":["secure/*"],
			"Condition":{"StringNotEquals":{"x-obs-server-side-encryption-kms-key-id":"` + keyX + `"}}}]}`,
	} {
		v := mustParse(t, doc)
		if d := v.Evaluate(put(nil)); d != Deny {
			t.Errorf("%s\nplain PUT: %v, want Deny", doc, d)
		}
		if d := v.Evaluate(put(ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {"other"}})); d != Deny {
			t.Errorf("%s\nwrong key: %v, want Deny", doc, d)
		}
		if d := v.Evaluate(put(ctx{KeySSE: {"aws:kms"}, KeySSEKMSKeyID: {keyX}})); d != NotApplicable {
			t.Errorf("%s\nkey X: %v, want NotApplicable", doc, d)
		}
	}
}

func TestCanned(t *testing.T) {
	obj, bucket := "arn:aws:s3:::b/k", "arn:aws:s3:::b"
	for _, tc := range []struct {
		name, action, resource string
		want                   Decision
	}{
		{"readonly", ActionGetObject, obj, Allow},
		{"readonly", ActionGetBucketLocation, bucket, Allow},
		{"readonly", ActionListBucket, bucket, Allow},
		{"readonly", ActionListAllMyBuckets, "arn:aws:s3:::*", Allow},
		{"readonly", ActionGetObjectVersion, obj, Allow},
		{"readonly", ActionPutObject, obj, NotApplicable},
		{"readonly", ActionDeleteObject, obj, NotApplicable},
		{"readonly", ActionPutBucketPolicy, bucket, NotApplicable},
		{"writeonly", ActionPutObject, obj, Allow},
		{"writeonly", ActionGetObject, obj, NotApplicable},
		{"readwrite", ActionDeleteBucket, bucket, Allow},
		{"readwrite", ActionPutEncryptionConfiguration, bucket, Allow},
		{"readwrite", ActionDeleteEncryptionConfiguration, bucket, Allow},
	} {
		p, ok := Canned(tc.name)
		if !ok {
			t.Fatalf("Canned(%q) missing", tc.name)
		}
		if got := p.Evaluate(req("alice", tc.action, tc.resource, nil)); got != tc.want {
			t.Errorf("%s %s %s: %v, want %v", tc.name, tc.action, tc.resource, got, tc.want)
		}
	}
	for _, n := range CannedNames() {
		p, ok := Canned(n)
		if !ok {
			t.Fatalf("Canned(%q) missing", n)
		}
		if _, err := ParseIdentity(p.JSON()); err != nil {
			t.Errorf("canned %s does not reparse: %v", n, err)
		}
	}
	if _, ok := Canned("admin"); ok {
		t.Error("Canned(admin) exists")
	}
}

// Policies are immutable: evaluating one from many goroutines is safe
// (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	p := benchPolicy(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				r := req(fmt.Sprintf("user%d", (g+i)%5), ActionGetObject, fmt.Sprintf("arn:aws:s3:::b%d/k", i%3),
					ctx{KeySourceIP: {"10.0.0.1"}, KeySecureTransport: {"true"}})
				_ = Evaluate(r, p, p)
			}
		}()
	}
	wg.Wait()
}
