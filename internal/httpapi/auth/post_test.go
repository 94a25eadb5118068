package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// The example of the S3 documentation, "Example: Browser-Based Upload using
// HTTP POST (Using AWS Signature Version 4)": its policy and signature.
const (
	docPostAK     = "AKIAIOSFODNN7EXAMPLE"
	docPostSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docPostPolicy = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
	docPostSig    = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
)

func docPostV4Fields() map[string]string {
	return map[string]string{
		"key":              "user/user1/${filename}",
		"x-amz-credential": docPostAK + "/20151229/us-east-1/s3/aws4_request",
		"x-amz-algorithm":  "AWS4-HMAC-SHA256",
		"x-amz-date":       "20151229T000000Z",
		"policy":           docPostPolicy,
		"x-amz-signature":  docPostSig,
	}
}

func v2PostFields(ak, secret, policy string) map[string]string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policy))
	return map[string]string{"key": "k", "awsaccesskeyid": ak, "policy": policy, "signature": base64.StdEncoding.EncodeToString(m.Sum(nil))}
}

func TestVerifyPost(t *testing.T) {
	v := &Verifier{Creds: creds{docPostAK: docPostSecret}}
	with := func(base map[string]string, k, val string) map[string]string {
		m := maps.Clone(base)
		if val == "\x00" {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	v4 := docPostV4Fields()
	v2 := v2PostFields(docPostAK, docPostSecret, docPostPolicy)
	headerSigned := &Result{AccessKeyID: docPostAK, Scheme: SchemeSigV4}
	missing := func(n string) *errs.Error {
		return errs.InvalidArgument.WithMessage("Bucket POST must contain a field named '" + n + "'.  If it is specified, please check the order of the fields.")
	}
	tests := []struct {
		name    string
		fields  map[string]string
		request *Result
		scheme  Scheme
		code    string
		want    *errs.Error // exact error, when the message matters
	}{
		{name: "sigv4 doc example", fields: v4, scheme: SchemeSigV4Post},
		{name: "sigv2", fields: v2, scheme: SchemeSigV2Post},
		{name: "anonymous", fields: map[string]string{"key": "k"}, scheme: SchemeAnonymous},
		{name: "anonymous with policy only", fields: map[string]string{"key": "k", "policy": docPostPolicy}, scheme: SchemeAnonymous},
		{name: "sigv4 wrong signature", fields: with(v4, "x-amz-signature", "0"+docPostSig[1:]), code: "SignatureDoesNotMatch"},
		{name: "sigv4 signature not hex", fields: with(v4, "x-amz-signature", "zz"), code: "SignatureDoesNotMatch"},
		{name: "sigv4 other policy", fields: with(v4, "policy", docPostPolicy[:len(docPostPolicy)-4]), code: "SignatureDoesNotMatch"},
		{name: "sigv4 wrong region in scope", fields: with(v4, "x-amz-credential", docPostAK+"/20151229/us-west-2/s3/aws4_request"), code: "SignatureDoesNotMatch"},
		{name: "sigv4 wrong service in scope", fields: with(v4, "x-amz-credential", docPostAK+"/20151229/us-east-1/ec2/aws4_request"), code: "AuthorizationQueryParametersError"},
		{name: "sigv4 scope date not x-amz-date", fields: with(v4, "x-amz-date", "20151230T000000Z"), code: "AuthorizationQueryParametersError"},
		{name: "sigv4 bad date format", fields: with(v4, "x-amz-date", "2015-12-29T00:00:00Z"), code: "AuthorizationQueryParametersError"},
		{name: "sigv4 other algorithm", fields: with(v4, "x-amz-algorithm", "AWS4-HMAC-SHA1"), code: "AuthorizationQueryParametersError"},
		{name: "sigv4 unknown key", fields: with(v4, "x-amz-credential", "AKIAUNKNOWN/20151229/us-east-1/s3/aws4_request"), code: "InvalidAccessKeyId"},
		{name: "sigv4 no policy", fields: with(v4, "policy", "\x00"), want: missing("Policy")},
		{name: "sigv4 no date", fields: with(v4, "x-amz-date", "\x00"), want: missing("X-Amz-Date")},
		{name: "sigv4 no signature", fields: with(v4, "x-amz-signature", "\x00"), want: missing("X-Amz-Signature")},
		{name: "sigv2 no access key", fields: with(v2, "awsaccesskeyid", "\x00"), want: missing("AWSAccessKeyId")},
		{name: "sigv2 wrong signature", fields: with(v2, "signature", base64.StdEncoding.EncodeToString(make([]byte, 20))), code: "SignatureDoesNotMatch"},
		{name: "sigv2 signature not base64", fields: with(v2, "signature", "!!"), code: "SignatureDoesNotMatch"},
		{name: "sigv2 unknown key", fields: with(v2, "awsaccesskeyid", "AKIAUNKNOWN"), code: "InvalidAccessKeyId"},
		{name: "both schemes", fields: with(v4, "signature", "x"), code: "InvalidArgument"},
		{name: "signed form on a signed request", fields: v4, request: headerSigned, code: "InvalidArgument"},
		{name: "unsigned form on a signed request", fields: map[string]string{"key": "k"}, request: headerSigned, scheme: SchemeAnonymous},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := v.VerifyPost(context.Background(), tc.fields, tc.request)
			switch {
			case tc.want != nil:
				wantErr(t, err, tc.want)
			case tc.code != "":
				if e := errs.As(err); e == nil || e.Code != tc.code {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			case res.Scheme != tc.scheme:
				t.Fatalf("scheme %s, want %s", res.Scheme, tc.scheme)
			case tc.scheme != SchemeAnonymous && res.AccessKeyID != docPostAK:
				t.Fatalf("access key %q", res.AccessKeyID)
			case tc.scheme == SchemeAnonymous && res.AccessKeyID != "":
				t.Fatalf("anonymous form got access key %q", res.AccessKeyID)
			}
		})
	}
}

func TestPostExempt(t *testing.T) {
	for name, want := range map[string]bool{
		"policy": true, "x-amz-signature": true, "signature": true, "awsaccesskeyid": true, "file": true,
		"x-ignore-submit": true, "key": false, "x-amz-credential": false, "x-amz-date": false, "bucket": false,
		"x-amz-server-side-encryption": false, "x-ignore": false,
	} {
		if got := PostExempt(SchemeSigV4Post, "s3", name); got != want {
			t.Errorf("PostExempt(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestVerifyPostVendors signs forms as each vendor's documentation
// specifies and checks the scheme, and that a wrong secret fails.
func TestVerifyPostVendors(t *testing.T) {
	const ak, secret = "LTAIPOSTFORMKEY", "post-form-secret"
	v := &Verifier{Creds: creds{ak: secret}, Now: at(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))}
	policyJSON := `{"expiration":"2026-12-05T12:00:00.000Z","conditions":[["starts-with","$key",""]]}`
	policy := base64.StdEncoding.EncodeToString([]byte(policyJSON))
	hmacSHA1B64 := func(key, msg string) string {
		m := hmac.New(sha1.New, []byte(key))
		m.Write([]byte(msg))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	ossV4 := func(sk string) map[string]string {
		k := hmacSHA256([]byte("aliyun_v4"+sk), "20261205")
		for _, s := range []string{"cn-hangzhou", "oss", "aliyun_v4_request"} {
			k = hmacSHA256(k, s)
		}
		return map[string]string{"key": "k", "policy": policy, "x-oss-signature-version": "OSS4-HMAC-SHA256",
			"x-oss-credential": ak + "/20261205/cn-hangzhou/oss/aliyun_v4_request", "x-oss-date": "20261205T095900Z",
			"x-oss-signature": hex.EncodeToString(hmacSHA256(k, policy))}
	}
	cos := func(sk, keyTime string) map[string]string {
		sum := sha1.Sum([]byte(policyJSON))
		signKey := hmacSHA1Hex(sk, keyTime)
		return map[string]string{"key": "k", "policy": policy, "q-sign-algorithm": "sha1", "q-ak": ak, "q-key-time": keyTime,
			"q-signature": hmacSHA1Hex(signKey, hex.EncodeToString(sum[:]))}
	}
	valid := "1796462400;1796469600" // 2026-12-05 09:20 to 11:20 UTC
	tests := []struct {
		name   string
		fields map[string]string
		scheme Scheme
		code   string
	}{
		{"oss v1", map[string]string{"key": "k", "policy": policy, "OSSAccessKeyId": ak, "signature": hmacSHA1B64(secret, policy)}, SchemeOSSV1Post, ""},
		{"oss v1 wrong secret", map[string]string{"key": "k", "policy": policy, "OSSAccessKeyId": ak, "signature": hmacSHA1B64("x", policy)}, "", "SignatureDoesNotMatch"},
		{"oss v4", ossV4(secret), SchemeOSSV4Post, ""},
		{"oss v4 wrong secret", ossV4("x"), "", "SignatureDoesNotMatch"},
		{"cos", cos(secret, valid), SchemeCOSPost, ""},
		{"cos wrong secret", cos("x", valid), "", "SignatureDoesNotMatch"},
		{"cos key time over", cos(secret, "1796462400;1796462401"), "", "AccessDenied"},
		{"obs", map[string]string{"key": "k", "policy": policy, "AccessKeyId": ak, "signature": hmacSHA1B64(secret, policy)}, SchemeOBSPost, ""},
		{"obs wrong secret", map[string]string{"key": "k", "policy": policy, "AccessKeyId": ak, "signature": hmacSHA1B64("x", policy)}, "", "SignatureDoesNotMatch"},
		{"oss v1 and s3 v4", map[string]string{"key": "k", "policy": policy, "OSSAccessKeyId": ak, "signature": "x", "x-amz-signature": "y"}, "", "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fields := map[string]string{}
			for k, val := range tc.fields {
				fields[strings.ToLower(k)] = val
			}
			res, err := v.VerifyPost(context.Background(), fields, nil)
			if tc.code != "" {
				if e := errs.As(err); e == nil || e.Code != tc.code {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil || res.Scheme != tc.scheme || res.AccessKeyID != ak {
				t.Fatalf("got %+v, %v; want scheme %s", res, err, tc.scheme)
			}
		})
	}
}
