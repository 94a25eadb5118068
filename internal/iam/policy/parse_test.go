package policy

import (
	"bytes"
	"strings"
	"testing"
)

// probe is a request and the decision the policy must give it, so that a
// document that "parses" is also shown to mean what its dialect says.
type probe struct {
	r    *Request
	want Decision
}

func TestParseValidDocuments(t *testing.T) {
	kms := map[string][]string{KeySSE: {"aws:kms"}}
	aes := map[string][]string{KeySSE: {"AES256"}}
	for _, tc := range []struct {
		name     string
		identity bool
		doc      string
		probes   []probe
	}{
		{
			name: "AWS public read",
			doc: `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*",
				"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::site/*"]}]}`,
			probes: []probe{
				{req("", ActionGetObject, "arn:aws:s3:::site/index.html", nil), Allow},
				{req("", ActionPutObject, "arn:aws:s3:::site/index.html", nil), NotApplicable},
				{req("", ActionListBucket, "arn:aws:s3:::site", nil), NotApplicable},
				{req("", ActionGetObject, "arn:aws:s3:::other/index.html", nil), NotApplicable},
			},
		},
		{
			name: "AWS 2008 version, Id, statement object, account root principal",
			doc: `{"Version":"2008-10-17","Id":"P1","Statement":{"Effect":"Allow",
				"Principal":{"AWS":["arn:aws:iam::strongroom:root"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`,
			probes: []probe{
				{req("alice", ActionListBucket, "arn:aws:s3:::b", nil), Allow},
				{req("", ActionListBucket, "arn:aws:s3:::b", nil), NotApplicable},
			},
		},
		{
			name: "AWS deny insecure transport",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
				 "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
				{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
			probes: []probe{
				{req("", ActionGetObject, "arn:aws:s3:::b/k", map[string][]string{KeySecureTransport: {"false"}}), Deny},
				{req("", ActionGetObject, "arn:aws:s3:::b/k", map[string][]string{KeySecureTransport: {"true"}}), Allow},
			},
		},
		{
			name: "OSS bucket policy (Version 1, principal array, acs resources, acs:SourceIp)",
			doc: `{"Version":"1","Statement":[{"Effect":"Allow","Principal":["alice"],
				"Action":["oss:GetObject","oss:ListObjects","oss:GetBucketEncryption"],
				"Resource":["acs:oss:*:*:photos","acs:oss:*:*:photos/*"],
				"Condition":{"IpAddress":{"acs:SourceIp":["192.168.0.0/16","172.16.0.0/12"]}}}]}`,
			probes: []probe{
				{req("alice", ActionGetObject, "arn:aws:s3:::photos/a.jpg", map[string][]string{KeySourceIP: {"192.168.3.4"}}), Allow},
				{req("alice", ActionListBucket, "arn:aws:s3:::photos", map[string][]string{KeySourceIP: {"172.16.0.1"}}), Allow},
				{req("alice", ActionGetEncryptionConfiguration, "arn:aws:s3:::photos", map[string][]string{KeySourceIP: {"172.16.0.1"}}), Allow},
				{req("alice", ActionGetObject, "arn:aws:s3:::photos/a.jpg", map[string][]string{KeySourceIP: {"8.8.8.8"}}), NotApplicable},
				{req("bob", ActionGetObject, "arn:aws:s3:::photos/a.jpg", map[string][]string{KeySourceIP: {"192.168.3.4"}}), NotApplicable},
			},
		},
		{
			name: "OSS empty principal array means everyone; deny without TLS",
			doc: `{"Version":"1","Statement":[{"Effect":"Deny","Principal":[],"Action":["oss:*"],
				"Resource":["acs:oss:*:*:b","acs:oss:*:*:b/*"],"Condition":{"Bool":{"acs:SecureTransport":["false"]}}}]}`,
			probes: []probe{
				{req("", ActionGetObject, "arn:aws:s3:::b/k", map[string][]string{KeySecureTransport: {"false"}}), Deny},
				{req("alice", ActionOSSGetBucketInfo, "arn:aws:s3:::b", map[string][]string{KeySecureTransport: {"false"}}), Deny},
				{req("alice", ActionGetObject, "arn:aws:s3:::b/k", map[string][]string{KeySecureTransport: {"true"}}), NotApplicable},
			},
		},
		{
			name: "OSS deny unencrypted uploads (oss:x-oss-server-side-encryption, vendor value KMS)",
			doc: `{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":"oss:PutObject",
				"Resource":"acs:oss:*:*:b/*","Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption":"KMS"}}}]}`,
			probes: []probe{
				{req("alice", ActionPutObject, "arn:aws:s3:::b/k", nil), Deny},
				{req("alice", ActionPutObject, "arn:aws:s3:::b/k", aes), Deny},
				{req("alice", ActionPutObject, "arn:aws:s3:::b/k", kms), NotApplicable},
			},
		},
		{
			name: "COS bucket policy (lower-case elements, version 2.0, qcs principal, name/cos actions, qcs resource, ip_equal)",
			doc: `{"version":"2.0","statement":[{"principal":{"qcs":["qcs::cam::uin/100000000001:uin/100000000002"]},
				"effect":"allow","action":["name/cos:PutObject","name/cos:GetObject","name/cos:GetBucket"],
				"resource":["qcs::cos:ap-guangzhou:uid/1250000000:examplebucket-1250000000/*",
				            "qcs::cos:ap-guangzhou:uid/1250000000:examplebucket-1250000000/"],
				"condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8","192.168.1.7"]}}}]}`,
			probes: []probe{
				{&Request{Principal: "100000000002", Account: "100000000001", Action: ActionPutObject,
					Resource: "arn:aws:s3:::examplebucket-1250000000/a", Context: map[string][]string{KeySourceIP: {"10.1.2.3"}}}, Allow},
				{&Request{Principal: "100000000002", Account: "100000000001", Action: ActionListBucket,
					Resource: "arn:aws:s3:::examplebucket-1250000000", Context: map[string][]string{KeySourceIP: {"192.168.1.7"}}}, Allow},
				{&Request{Principal: "100000000002", Account: "100000000001", Action: ActionGetObject,
					Resource: "arn:aws:s3:::examplebucket-1250000000/a", Context: map[string][]string{KeySourceIP: {"192.168.1.8"}}}, NotApplicable},
				{&Request{Principal: "100000000003", Account: "100000000001", Action: ActionGetObject,
					Resource: "arn:aws:s3:::examplebucket-1250000000/a", Context: map[string][]string{KeySourceIP: {"10.1.2.3"}}}, NotApplicable},
			},
		},
		{
			name: "COS anyone, cos:* style actions and encryption actions",
			doc: `{"version":"2.0","statement":[{"principal":{"qcs":["qcs::cam::anyone:anyone"]},"effect":"allow",
				"action":["cos:GetBucketEncryption","cos:DeleteBucketEncryption"],
				"resource":["qcs::cos:ap-beijing:uid/1250000000:b-1250000000/"]}]}`,
			probes: []probe{
				{req("", ActionGetEncryptionConfiguration, "arn:aws:s3:::b-1250000000", nil), Allow},
				{req("", ActionDeleteEncryptionConfiguration, "arn:aws:s3:::b-1250000000", nil), Allow},
				{req("", ActionPutEncryptionConfiguration, "arn:aws:s3:::b-1250000000", nil), NotApplicable},
			},
		},
		{
			name: "OBS bucket policy (ID principal, bare actions, plain bucket/object resources, bare condition key)",
			doc: `{"Statement":[{"Sid":"test-obs-policy","Effect":"Allow",
				"Principal":{"ID":["domain/strongroom:user/alice","domain/other"]},
				"Action":["PutObject","GetObject"],"Resource":["test-bucket/test.txt"],
				"Condition":{"IpAddress":{"SourceIp":["114.115.1.0/24"]}}}]}`,
			probes: []probe{
				{req("alice", ActionGetObject, "arn:aws:s3:::test-bucket/test.txt", map[string][]string{KeySourceIP: {"114.115.1.9"}}), Allow},
				{req("alice", ActionGetObject, "arn:aws:s3:::test-bucket/other.txt", map[string][]string{KeySourceIP: {"114.115.1.9"}}), NotApplicable},
				{req("bob", ActionGetObject, "arn:aws:s3:::test-bucket/test.txt", map[string][]string{KeySourceIP: {"114.115.1.9"}}), NotApplicable},
			},
		},
		{
			name: "OBS deny non-KMS uploads (x-obs-server-side-encryption, vendor value kms, short operator)",
			doc: `{"Statement":[{"Sid":"allow","Effect":"Allow","Principal":"*","Action":["*"],"Resource":["testBucket/*"]},
				{"Sid":"deny-plain","Effect":"Deny","Principal":"*","Action":["PutObject"],"Resource":["testBucket/*"],
				 "Condition":{"strneq":{"x-obs-server-side-encryption":["kms"]}}}]}`,
			probes: []probe{
				{req("", ActionPutObject, "arn:aws:s3:::testBucket/k", kms), Allow},
				{req("", ActionPutObject, "arn:aws:s3:::testBucket/k", aes), Deny},
				{req("", ActionPutObject, "arn:aws:s3:::testBucket/k", nil), Deny},
				{req("", ActionGetObject, "arn:aws:s3:::testBucket/k", nil), Allow},
			},
		},
		{
			name:     "OBS IAM identity policy (Version 1.1, obs:bucket actions, obs resources)",
			identity: true,
			doc: `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["obs:bucket:ListAllMyBuckets",
				"obs:bucket:HeadBucket","obs:bucket:ListBucket","obs:bucket:GetBucketLocation"],
				"Resource":["obs:*:*:bucket:*"]},
				{"Effect":"Allow","Action":["obs:object:GetObject"],"Resource":["obs:*:*:object:b/*"]}]}`,
			probes: []probe{
				{req("alice", ActionListBucket, "arn:aws:s3:::b", nil), Allow},
				{req("alice", ActionGetBucketLocation, "arn:aws:s3:::b", nil), Allow},
				{req("alice", ActionGetObject, "arn:aws:s3:::b/k", nil), Allow},
				{req("alice", ActionGetObject, "arn:aws:s3:::c/k", nil), NotApplicable},
				{req("alice", ActionPutObject, "arn:aws:s3:::b/k", nil), NotApplicable},
			},
		},
		{
			name:     "identity policy without Resource applies everywhere",
			identity: true,
			doc:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`,
			probes: []probe{
				{req("alice", ActionGetObject, "arn:aws:s3:::any/k", nil), Allow},
				{req("alice", ActionPutObject, "arn:aws:s3:::any/k", nil), NotApplicable},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p *Policy
			if tc.identity {
				p = mustParseIdentity(t, tc.doc)
			} else {
				p = mustParse(t, tc.doc)
			}
			for i, pr := range tc.probes {
				if got := p.Evaluate(pr.r); got != pr.want {
					t.Errorf("probe %d %+v: got %v, want %v", i, *pr.r, got, pr.want)
				}
			}
		})
	}
}

const okStmt = `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`

func TestParseMalformed(t *testing.T) {
	big := `{"Statement":[` + strings.Repeat(okStmt+",", MaxPolicySize/len(okStmt)) + okStmt + `]}`
	for _, tc := range []struct {
		name, doc, want string
		identity        bool
	}{
		{"empty", ``, "empty policy document", false},
		{"not JSON", `{"Statement":`, "policy is not valid JSON", false},
		{"trailing garbage", `{"Statement":[` + okStmt + `]} x`, "policy is not valid JSON", false},
		{"not an object", `[` + okStmt + `]`, "policy must be a JSON object", false},
		{"too big", big, "policy document is", false},
		{"no Statement", `{"Version":"2012-10-17"}`, "Statement: missing", false},
		{"empty Statement", `{"Statement":[]}`, "Statement: no statements", false},
		{"Statement string", `{"Statement":"x"}`, "Statement: must be an object or an array of objects", false},
		{"statement not object", `{"Statement":[` + okStmt + `,"x"]}`, "Statement[1]: must be an object", false},
		{"unknown top-level key", `{"Statement":[` + okStmt + `],"Foo":1}`, `unknown top-level key "Foo"`, false},
		{"duplicate top-level key", `{"Statement":[` + okStmt + `],"statement":[]}`, `duplicate key "statement"`, false},
		{"bad version", `{"Version":"2020-01-01","Statement":[` + okStmt + `]}`, `Version: unsupported version "2020-01-01" (use "2012-10-17")`, false},
		{"version not string", `{"Version":1,"Statement":[` + okStmt + `]}`, `Version: must be a string`, false},
		{"Id not string", `{"Id":[],"Statement":[` + okStmt + `]}`, `Id: must be a string`, false},
		{"unknown statement key", `{"Statement":[{"Effect":"Allow","Principal":"*","Actions":"s3:GetObject","Resource":"*"}]}`, `Statement[0]: unknown key "Actions"`, false},
		{"duplicate statement key", `{"Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0]: duplicate key "Effect"`, false},
		{"Sid not string", `{"Statement":[{"Sid":1,"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Sid: must be a string`, false},
		{"missing Effect", `{"Statement":[{"Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0]: missing Effect`, false},
		{"unknown Effect", `{"Statement":[{"Effect":"Permit","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Effect: must be "Allow" or "Deny", not "Permit"`, false},
		{"Effect not string", `{"Statement":[{"Effect":true,"Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Effect: must be a string`, false},
		{"Action and NotAction", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}]}`, `Statement[0]: both Action and NotAction`, false},
		{"no Action", `{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}`, `Statement[0]: missing Action or NotAction`, false},
		{"unknown namespace", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","foo:Bar"],"Resource":"*"}]}`, `Statement[0].Action: unknown action namespace "foo" in "foo:Bar"`, false},
		{"unknown action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjet","Resource":"*"}]}`, `Statement[0].Action: unknown action "s3:GetObjet"`, false},
		{"unknown OBS bare action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"Frobnicate","Resource":"*"}]}`, `Statement[0].Action: unknown action "Frobnicate"`, false},
		{"s3 DeleteEncryptionConfiguration is not an S3 name", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:DeleteEncryptionConfiguration","Resource":"*"}]}`, `Statement[0].Action: unknown action "s3:DeleteEncryptionConfiguration"`, false},
		{"pattern matching nothing", `{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:Frob*","Resource":"*"}]}`, `Statement[0].NotAction: action pattern "s3:Frob*" matches no action`, false},
		{"empty action list", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}]}`, `Statement[0].Action: empty array`, false},
		{"empty action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"","Resource":"*"}]}`, `Statement[0].Action: empty string`, false},
		{"action not string", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"}]}`, `Statement[0].Action: must be a string or an array of strings`, false},
		{"Resource and NotResource", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","NotResource":"*"}]}`, `Statement[0]: both Resource and NotResource`, false},
		{"no Resource", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, `Statement[0]: missing Resource or NotResource`, false},
		{"non-S3 ARN", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:sqs:us-east-1:1:q"}]}`, `Statement[0].Resource: "arn:aws:sqs:us-east-1:1:q" is not an S3 resource ARN (arn:aws:s3:::bucket/key)`, false},
		{"unknown resource form", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotResource":"foo:bar/x"}]}`, `Statement[0].NotResource: unknown resource form "foo:bar/x"`, false},
		{"bad OSS resource", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"acs:ecs:*:*:x"}]}`, `Statement[0].Resource: "acs:ecs:*:*:x" is not an OSS resource (acs:oss:*:*:bucket/key)`, false},
		{"no Principal", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0]: missing Principal or NotPrincipal`, false},
		{"Principal and NotPrincipal", `{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0]: both Principal and NotPrincipal`, false},
		{"Principal plain string", `{"Statement":[{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Principal: must be "*" or an object such as {"AWS": [...]}, not "alice"`, false},
		{"unknown principal type", `{"Statement":[{"Effect":"Allow","Principal":{"Foo":"x"},"Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Principal: unknown principal type "Foo" (want AWS, CanonicalUser, qcs or ID)`, false},
		{"principal wildcard", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Principal: AWS: "arn:aws:iam::*:root": wildcards are only allowed as the whole principal "*"`, false},
		{"principal bad ARN", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:s3:::b"},"Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].NotPrincipal: AWS: "arn:aws:s3:::b" is not an IAM principal ARN`, false},
		{"principal empty object", `{"Statement":[{"Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Principal: names no principal`, false},
		{"bad qcs principal", `{"Statement":[{"Effect":"Allow","Principal":{"qcs":"alice"},"Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Principal: qcs: "alice" is not a COS principal (qcs::cam::uin/<account>:uin/<user>)`, false},
		{"bad OBS principal", `{"Statement":[{"Effect":"Allow","Principal":{"ID":"user/alice"},"Action":"s3:GetObject","Resource":"*"}]}`, `Statement[0].Principal: ID: "user/alice" is not an OBS principal (domain/<account>[:user/<user>])`, false},
		{"identity policy with Principal", `{"Statement":[` + okStmt + `]}`, `Statement[0]: Principal is not allowed in a user (identity) policy`, true},
		{"identity policy with NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"s3:GetObject"}]}`, `Statement[0]: NotPrincipal is not allowed in a user (identity) policy`, true},
		{"unknown operator", `{"Statement":[` + okStmt + `,{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}]}`, `Statement[1].Condition: unknown operator "StringEqualz"`, false},
		{"bare IfExists", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"IfExists":{"aws:username":"x"}}}]}`, `Statement[0].Condition: unknown operator "IfExists"`, false},
		{"NullIfExists", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}]}`, `Statement[0].Condition: operator "NullIfExists": Null takes neither IfExists nor ForAnyValue/ForAllValues`, false},
		{"ForAnyValue:Null", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:Null":{"aws:username":"true"}}}]}`, `Statement[0].Condition: operator "ForAnyValue:Null": Null takes neither IfExists nor ForAnyValue/ForAllValues`, false},
		{"Condition not object", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":[]}]}`, `Statement[0].Condition: must be an object`, false},
		{"operator block not object", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":"x"}}]}`, `Statement[0].Condition.StringEquals: must be an object of condition keys`, false},
		{"empty operator block", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{}}}]}`, `Statement[0].Condition.StringEquals: no condition keys`, false},
		{"duplicate operator", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"a:b":"x"},"stringequals":{"a:c":"y"}}}]}`, `Statement[0].Condition: duplicate operator "stringequals"`, false},
		{"duplicate condition key", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"x","AWS:UserName":"y"}}}]}`, `Statement[0].Condition.StringEquals: duplicate condition key "AWS:UserName"`, false},
		{"empty condition key", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"":"x"}}}]}`, `Statement[0].Condition.StringEquals[""]: empty condition key`, false},
		{"null value", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}]}`, `Statement[0].Condition.StringEquals["aws:username"]: values must be strings, numbers or booleans`, false},
		{"object value", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:username":[{}]}}}]}`, `Statement[0].Condition.StringEquals["aws:username"]: values must be strings, numbers or booleans`, false},
		{"no values", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}]}`, `Statement[0].Condition.StringEquals["aws:username"]: no values`, false},
		{"not a number", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}]}`, `Statement[0].Condition.NumericLessThan["s3:max-keys"]: "ten" is not a number`, false},
		{"NaN", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericEquals":{"s3:max-keys":"NaN"}}}]}`, `Statement[0].Condition.NumericEquals["s3:max-keys"]: "NaN" is not a number`, false},
		{"not a date", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}}]}`, `Statement[0].Condition.DateLessThan["aws:CurrentTime"]: "yesterday" is not a date (ISO 8601, e.g. 2026-01-02T15:04:05Z, or epoch seconds)`, false},
		{"not a bool", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}`, `Statement[0].Condition.Bool["aws:SecureTransport"]: "yes" is not true or false`, false},
		{"Null not a bool", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"Null":{"aws:SecureTransport":"maybe"}}}]}`, `Statement[0].Condition.Null["aws:SecureTransport"]: "maybe" is not true or false`, false},
		{"not an IP", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}}]}`, `Statement[0].Condition.IpAddress["aws:SourceIp"]: "300.1.1.1/8" is not an IP address or CIDR block`, false},
		{"not an ARN", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"bucket"}}}]}`, `Statement[0].Condition.ArnLike["aws:SourceArn"]: "bucket" is not an ARN (arn:partition:service:region:account:resource)`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.identity {
				_, err = ParseIdentity([]byte(tc.doc))
			} else {
				_, err = Parse([]byte(tc.doc))
			}
			got := malformedMessage(t, err)
			if tc.name == "too big" {
				if !strings.HasPrefix(got, tc.want) {
					t.Fatalf("message %q, want prefix %q", got, tc.want)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("message\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestJSONReturnsDocument(t *testing.T) {
	doc := []byte(`{ "Version": "2012-10-17", "Statement": [` + okStmt + `] }`)
	p, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	doc[2] = 'X' // the policy keeps its own copy
	got := p.JSON()
	if !bytes.Equal(got, []byte(`{ "Version": "2012-10-17", "Statement": [`+okStmt+`] }`)) {
		t.Fatalf("JSON() = %s", got)
	}
	got[0] = 'X' // and hands out copies
	if p.JSON()[0] != '{' {
		t.Fatal("JSON() exposes the policy's own buffer")
	}
	if p.Version() != "2012-10-17" || p.ID() != "" {
		t.Fatalf("Version %q ID %q", p.Version(), p.ID())
	}
}
