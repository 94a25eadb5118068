package auth

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestOBSTolerance: the OBS SDK's encryption headers under the other
// prefix may arrive unsigned only to fill in what the signature left
// unset: never overriding a signed value, never adding a key to a signed
// method (or a method to a signed key), never anything but the listed
// fields. Both directions: SigV2 (signs x-amz-*, tolerates x-obs-*) and
// the native OBS signature (signs x-obs-*, tolerates x-amz-*).
func TestOBSTolerance(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	v := &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)}
	date := now.Format(http.TimeFormat)
	type hdrs = map[string]string
	cases := []struct {
		name             string
		native           bool // OBS signature, else SigV2
		signed, unsigned hdrs
		refused          bool
		tolerated        []string // res.unsigned when accepted
	}{
		{name: "signed aws:kms, unsigned AES256 override",
			signed: hdrs{"x-amz-server-side-encryption": "aws:kms"}, unsigned: hdrs{"x-obs-server-side-encryption": "AES256"}, refused: true},
		{name: "signed aws:kms, unsigned key id picks the key",
			signed: hdrs{"x-amz-server-side-encryption": "aws:kms"}, unsigned: hdrs{"x-obs-server-side-encryption-kms-key-id": "attacker"}, refused: true},
		{name: "signed aws:kms, unsigned S3-named key id",
			signed: hdrs{"x-amz-server-side-encryption": "aws:kms"}, unsigned: hdrs{"x-obs-server-side-encryption-aws-kms-key-id": "attacker"}, refused: true},
		{name: "signed key, unsigned key under the other name",
			signed:   hdrs{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "mine"},
			unsigned: hdrs{"x-obs-server-side-encryption-kms-key-id": "attacker"}, refused: true},
		{name: "signed key, unsigned method",
			signed: hdrs{"x-amz-server-side-encryption-aws-kms-key-id": "mine"}, unsigned: hdrs{"x-obs-server-side-encryption": "AES256"}, refused: true},
		{name: "signed data algorithm, unsigned override",
			signed: hdrs{"x-amz-server-side-data-encryption": "SM4"}, unsigned: hdrs{"x-obs-server-side-data-encryption": "AES256"}, refused: true},
		{name: "unsigned SSE-C key", unsigned: hdrs{"x-obs-server-side-encryption-customer-algorithm": "AES256"}, refused: true},
		{name: "unsigned KMS context", signed: hdrs{"x-amz-server-side-encryption": "aws:kms"},
			unsigned: hdrs{"x-obs-server-side-encryption-context": "e30="}, refused: true},
		{name: "unsigned other header", unsigned: hdrs{"x-obs-acl": "public-read"}, refused: true},

		{name: "nothing signed: the SDK's custom headers fill in",
			unsigned:  hdrs{"x-obs-server-side-encryption": "kms", "x-obs-server-side-encryption-kms-key-id": "k", "x-obs-server-side-data-encryption": "SM4"},
			tolerated: []string{"x-obs-server-side-data-encryption", "x-obs-server-side-encryption", "x-obs-server-side-encryption-kms-key-id"}},
		{name: "signed method and key, unsigned data algorithm and project",
			signed:    hdrs{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "k"},
			unsigned:  hdrs{"x-obs-server-side-data-encryption": "SM4", "x-obs-sse-kms-key-project-id": "p"},
			tolerated: []string{"x-obs-server-side-data-encryption", "x-obs-sse-kms-key-project-id"}},

		{name: "native: signed kms, unsigned x-amz AES256 override", native: true,
			signed: hdrs{"x-obs-server-side-encryption": "kms"}, unsigned: hdrs{"x-amz-server-side-encryption": "AES256"}, refused: true},
		{name: "native: signed kms, unsigned x-amz key id", native: true,
			signed: hdrs{"x-obs-server-side-encryption": "kms"}, unsigned: hdrs{"x-amz-server-side-encryption-aws-kms-key-id": "attacker"}, refused: true},
		{name: "native: nothing signed, x-amz method and key", native: true,
			unsigned:  hdrs{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "k"},
			tolerated: []string{"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rawRequest(t, "PUT /bkt/k HTTP/1.1\nHost: 127.0.0.1:9000\nDate: "+date)
			for k, val := range c.signed {
				r.Header.Set(k, val)
			}
			scheme := "AWS "
			sts := v2StringToSign(r, date, v2Resource(r, "", false))
			if c.native {
				scheme, sts = "OBS ", obsStringToSign(r, date, obsResource(r, ""))
			}
			r.Header.Set("Authorization", scheme+rtAK+":"+base64Std(hmacSHA1(rtSecret, sts)))
			for k, val := range c.unsigned {
				r.Header.Set(k, val)
				if !c.refused && !MayGoUnsigned(r)(k) {
					t.Errorf("MayGoUnsigned(%s) = false", k)
				}
			}
			res, _, err := verifyAndRead(v, r, "")
			if c.refused {
				wantErr(t, err, errHeadersNotSigned)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(res.unsigned))
			if !slices.Equal(got, c.tolerated) {
				t.Fatalf("tolerated %v, want %v", got, c.tolerated)
			}
			// A dialect that does not read the prefix refuses them.
			wantErr(t, res.CheckTolerated(func(string) bool { return false }), errHeadersNotSigned)
			wantErr(t, res.CheckTolerated(func(string) bool { return true }), nil)
		})
	}
}

// TestMayGoUnsigned: only the schemes with a tolerance, only its prefix,
// only the listed fields.
func TestMayGoUnsigned(t *testing.T) {
	for _, c := range []struct {
		authz, target, name string
		want                bool
	}{
		{"AWS a:b", "/b/k", "x-obs-server-side-encryption", true},
		{"AWS a:b", "/b/k", "x-amz-server-side-encryption", false},
		{"AWS a:b", "/b/k", "x-obs-acl", false},
		{"OBS a:b", "/b/k", "x-amz-server-side-encryption-aws-kms-key-id", true},
		{"OBS a:b", "/b/k", "x-obs-server-side-encryption", false},
		{"", "/b/k?AWSAccessKeyId=a&Expires=1&Signature=s", "x-obs-server-side-data-encryption", true},
		{"", "/b/k?AccessKeyId=a&Expires=1&Signature=s", "x-amz-server-side-encryption", true},
		{"AWS4-HMAC-SHA256 Credential=a/1/r/s3/aws4_request, SignedHeaders=host, Signature=s", "/b/k", "x-obs-server-side-encryption", false},
		{"", "/b/k", "x-obs-server-side-encryption", false},
	} {
		r := rawRequest(t, "PUT "+c.target+" HTTP/1.1\nHost: h")
		if c.authz != "" {
			r.Header.Set("Authorization", c.authz)
		}
		if got := MayGoUnsigned(r)(c.name); got != c.want {
			t.Errorf("%q %s %s: %v, want %v", c.authz, c.target, c.name, got, c.want)
		}
	}
}
