package policy

import "testing"

func TestPublic(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	for _, tc := range []struct {
		name, doc string
		public    bool
	}{
		{"anyone reads", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), true},
		{"AWS star", stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), true},
		{"named user", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::strongroom:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), false},
		{"deny anyone", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`), false},
		{"source ip", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), false},
		{"source ip everywhere", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}`), true},
		{"not source ip", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), true},
		{"other condition", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`), true},
		{"not principal", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::strongroom:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), true},
		{"source account like star", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"aws:SourceAccount":"*"}}}`), true},
		{"source account equals literal star", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceAccount":"*"}}}`), false},
		{"source ip ::/0", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"::/0"}}}`), true},
		{"OSS everyone", stmt(`{"Effect":"Allow","Principal":["*"],"Action":"oss:GetObject","Resource":"acs:oss:*:*:b/*"}`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Public(); got != tc.public {
				t.Fatalf("Public() = %v, want %v", got, tc.public)
			}
		})
	}
}

// TestTagConditionKeys: the vendors' tag condition keys evaluate against
// the canonical context the service builds.
func TestTagConditionKeys(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"s3", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/Class":"public"}}}]}`},
		{"oss", `{"Version":"1","Statement":[{"Effect":"Allow","Principal":["*"],"Action":"oss:GetObject","Resource":"acs:oss:*:*:b/*","Condition":{"StringEquals":{"oss:ExistingObjectTag/Class":"public"}}}]}`},
		{"obs", `{"Statement":[{"Effect":"Allow","Principal":{"ID":["*"]},"Action":"GetObject","Resource":"b/*","Condition":{"StringEquals":{"ExistingObjectTag/Class":"public"}}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			r := &Request{Action: ActionGetObject, Resource: "arn:aws:s3:::b/k", Context: map[string][]string{KeyExistingObjectTag + "class": {"public"}}}
			if d := p.Evaluate(r); d != Allow {
				t.Fatalf("tagged public: %v", d)
			}
			r.Context = map[string][]string{KeyExistingObjectTag + "class": {"secret"}}
			if d := p.Evaluate(r); d != NotApplicable {
				t.Fatalf("tagged secret: %v", d)
			}
		})
	}
}
