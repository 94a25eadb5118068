package policy

import (
	"errors"
	"fmt"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
		`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::strongroom:user/a","b"]},"NotAction":["s3:Get*"],"NotResource":"arn:aws:s3:::b/?x*",
		  "Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"k*"},"NumericLessThanIfExists":{"s3:max-keys":[1,"2.5"]},"Null":{"x":true},
		  "IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"DateLessThan":{"aws:CurrentTime":"2026-01-01"},"ArnLike":{"aws:SourceArn":"arn:*:s3:::*"}}}}`,
		`{"Version":"1","Statement":[{"Effect":"Allow","Principal":[],"Action":["oss:*"],"Resource":["acs:oss:*:*:b/*"],"Condition":{"IpAddress":{"acs:SourceIp":"1.2.3.4"}}}]}`,
		`{"version":"2.0","statement":[{"principal":{"qcs":["qcs::cam::uin/1:uin/2"]},"effect":"allow","action":["name/cos:Get*"],"resource":["qcs::cos:r:uid/1:b-1/"],"condition":{"for_any_value:string_equal_if_exist":{"qcs:ip":"x"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"ID":["domain/a:user/*"]},"Action":["Get*"],"Resource":["b/*"],"Condition":{"strneq":{"x-obs-server-side-encryption":"kms"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"obs:bucket:*","Resource":"obs:*:*:bucket:*"}]}`,
		`{"Statement":[]}`, `[]`, `{`, ``, `{"Statement":[{"Effect":"Allow","Effect":"Deny"}]}`,
	} {
		f.Add([]byte(seed))
	}
	reqs := []*Request{
		req("", ActionGetObject, "arn:aws:s3:::b/x", nil),
		req("a", ActionPutObject, "arn:aws:s3:::b", ctx{KeySourceIP: {"10.1.1.1"}, "aws:tagkeys": {"k1", "z"}, KeyMaxKeys: {"2"}}),
		req("b", "s3:weird", "", ctx{KeyCurrentTime: {"2025-01-01T00:00:00Z"}, "aws:sourcearn": {"arn:aws:s3:::b"}, "x": {""}}),
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, parse := range []func([]byte) (*Policy, error){Parse, ParseIdentity} {
			p, err := parse(doc)
			if err != nil {
				if !errors.Is(err, errs.MalformedPolicy) || errs.As(err).Message == "" {
					t.Fatalf("error %v is not a MalformedPolicy with a message", err)
				}
				continue
			}
			for _, r := range reqs {
				d1, _ := p.Explain(r)
				if d2 := Evaluate(r, p); d1 != d2 {
					t.Fatalf("Explain %v, Evaluate %v", d1, d2)
				}
			}
			// The stored document reparses.
			if _, err := parse(p.JSON()); err != nil {
				t.Fatalf("JSON() does not reparse: %v", err)
			}
		}
	})
}

// benchPolicy is a realistic 10-statement bucket policy.
func benchPolicy(tb testing.TB) *Policy {
	return mustParse(tb, `{"Version":"2012-10-17","Statement":[
	 {"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b0","arn:aws:s3:::b0/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
	 {"Sid":"DenyWrongSSE","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b0/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
	 {"Sid":"DenyNoSSE","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b0/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},
	 {"Sid":"DenyOutside","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::strongroom:user/admin"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b1/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}},
	 {"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b2/public/*"},
	 {"Sid":"Users","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::strongroom:user/user1","arn:aws:iam::strongroom:user/user2"]},"Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::b1","arn:aws:s3:::b1/*"]},
	 {"Sid":"Home","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::strongroom:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b1","Condition":{"StringLike":{"s3:prefix":["home/*","shared/*"]}}},
	 {"Sid":"OSS","Effect":"Allow","Principal":["user3"],"Action":["oss:GetObject","oss:PutObject"],"Resource":"acs:oss:*:*:b1/oss/*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}},
	 {"Sid":"Office","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/24"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}},
	 {"Sid":"Encryption","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::strongroom:user/user4"},"Action":["oss:GetBucketEncryption","cos:PutBucketEncryption"],"Resource":"arn:aws:s3:::b*"}
	]}`)
}

func BenchmarkEvaluate(b *testing.B) {
	p := benchPolicy(b)
	reqs := []*Request{
		// Allowed by the 9th statement after passing every Deny.
		req("user0", ActionGetObject, "arn:aws:s3:::b1/docs/report.pdf", ctx{KeySecureTransport: {"true"}, KeySourceIP: {"10.0.0.7"}, KeyCurrentTime: {"2026-05-01T10:00:00Z"}}),
		// Denied by the 2nd statement.
		req("user1", ActionPutObject, "arn:aws:s3:::b0/x", ctx{KeySecureTransport: {"true"}, KeySSE: {"AES256"}}),
		// Nothing applies.
		req("", ActionListBucket, "arn:aws:s3:::b3", ctx{KeySecureTransport: {"true"}, KeySourceIP: {"203.0.113.9"}}),
	}
	want := []Decision{Allow, Deny, NotApplicable}
	for i, r := range reqs {
		if d := p.Evaluate(r); d != want[i] {
			b.Fatalf("request %d: %v, want %v", i, d, want[i])
		}
	}
	for i, r := range reqs {
		b.Run(fmt.Sprint(want[i]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(r)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	doc := benchPolicy(b).JSON()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}
