package postpolicy

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func doc(conditions string) string {
	return `{"expiration": "2026-01-02T04:00:00.000Z", "conditions": [` + conditions + `]}`
}

func exemptS3(name string) bool {
	return name == "policy" || name == "x-amz-signature" || strings.HasPrefix(name, "x-ignore-")
}

func TestCheck(t *testing.T) {
	base := map[string]string{"bucket": "b", "key": "user/eric/photo.jpg"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	covered := `{"bucket": "b"}, ["starts-with", "$key", "user/eric/"]`
	tests := []struct {
		name   string
		doc    string
		fields map[string]string
		want   *errs.Error // nil: allowed
	}{
		{"eq object and starts-with hold", doc(covered), base, nil},
		{"eq list holds", doc(`["eq", "$bucket", "b"], ["eq", "$key", "user/eric/photo.jpg"]`), base, nil},
		{"field names are case-insensitive", doc(`{"BUCKET": "b"}, ["STARTS-WITH", "$Key", "user/"]`), base, nil},
		{"eq fails", doc(`{"bucket": "b"}, ["eq", "$key", "user/other"]`), base,
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["eq", "$key", "user/other"]`)},
		{"eq object fails", doc(`{"bucket": "other"}, ["starts-with", "$key", ""]`), base,
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other"]`)},
		{"eq on an absent field fails", doc(covered + `, {"acl": "private"}`), base,
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]`)},
		{"eq values are case-sensitive", doc(`{"bucket": "B"}, ["starts-with", "$key", ""]`), base,
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "B"]`)},
		{"condition without $ never holds", doc(`{"bucket": "b"}, ["eq", "key", "user/eric/photo.jpg"]`), base,
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["eq", "key", "user/eric/photo.jpg"]`)},
		{"starts-with fails", doc(`{"bucket": "b"}, ["starts-with", "$key", "user/bob/"]`), base,
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/bob/"]`)},
		{"starts-with empty allows an absent field", doc(covered + `, ["starts-with", "$acl", ""]`), base, nil},
		{"content-type list all match", doc(covered + `, ["starts-with", "$Content-Type", "image/"]`), with("content-type", "image/png, image/gif"), nil},
		{"content-type list one differs", doc(covered + `, ["starts-with", "$Content-Type", "image/"]`), with("content-type", "image/png,text/html"),
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]`)},
		{"an SSE-C key in a failed condition is not echoed", doc(covered + `, {"x-amz-server-side-encryption-customer-key": "c2VjcmV0"}`), with("x-amz-server-side-encryption-customer-key", "other"),
			errs.AccessDenied.WithMessage(`Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-server-side-encryption-customer-key", "***"]`)},
		{"extra field", doc(covered), with("x-amz-meta-note", "hi"),
			errs.AccessDenied.WithMessage("Invalid according to Policy: Extra input fields: x-amz-meta-note")},
		{"bucket must be covered", doc(`["starts-with", "$key", ""]`), base,
			errs.AccessDenied.WithMessage("Invalid according to Policy: Extra input fields: bucket")},
		{"extra SSE field", doc(covered), with("x-amz-server-side-encryption", "AES256"),
			errs.AccessDenied.WithMessage("Invalid according to Policy: Extra input fields: x-amz-server-side-encryption")},
		{"exempt fields", doc(covered), with("policy", "p", "x-amz-signature", "s", "x-ignore-submit", "Upload"), nil},
		{"content-length-range alone covers nothing", doc(covered + `, ["content-length-range", 1, 10]`), base, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(base64.StdEncoding.EncodeToString([]byte(tc.doc)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			err = p.Check(now, tc.fields, exemptS3)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if e := errs.As(err); e == nil || e.Code != tc.want.Code || e.Message != tc.want.Message {
				t.Fatalf("error %v, want %s %q", err, tc.want.Code, tc.want.Message)
			}
		})
	}
}

func TestTrailingCommas(t *testing.T) {
	// As the OBS SDK's CreateBrowserBasedSignature writes it.
	p, err := ParseDocument([]byte(`{"expiration":"2026-01-02T04:00:00Z","conditions":[{"bucket":"b"},{"key":"a,]"},]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(now, map[string]string{"bucket": "b", "key": "a,]"}, exemptS3); err != nil {
		t.Fatalf("a comma inside a value was touched: %v", err)
	}
}

func TestExpired(t *testing.T) {
	p, err := ParseDocument([]byte(`{"expiration": "2026-01-02T03:04:05Z", "conditions": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(now.Add(-time.Second), map[string]string{}, exemptS3); err != nil {
		t.Fatalf("valid policy refused: %v", err)
	}
	err = p.Check(now, map[string]string{}, exemptS3)
	if e := errs.As(err); e == nil || e.Code != "AccessDenied" || e.Message != "Invalid according to Policy: Policy expired." {
		t.Fatalf("expired policy: %v", err)
	}
}

func TestParseInvalid(t *testing.T) {
	for name, d := range map[string]string{
		"not json":               `expiration`,
		"not an object":          `[]`,
		"no expiration":          `{"conditions": []}`,
		"no conditions":          `{"expiration": "2026-01-02T04:00:00Z"}`,
		"expiration with offset": `{"expiration": "2026-01-02T04:00:00+00:00", "conditions": []}`,
		"expiration no date":     `{"expiration": "tomorrow", "conditions": []}`,
		"expiration a number":    `{"expiration": 1767326400, "conditions": []}`,
		"conditions not a list":  `{"expiration": "2026-01-02T04:00:00Z", "conditions": {}}`,
		"empty simple condition": doc(`{}`),
		"two properties":         doc(`{"acl": "private", "key": "k"}`),
		"value not text":         doc(`{"acl": 1}`),
		"condition a string":     doc(`"bucket"`),
		"list without a value":   doc(`["eq", "$key"]`),
		"unknown operation":      doc(`["ends-with", "$key", "x"]`),
		"range without maximum":  doc(`["content-length-range", 0]`),
		"range negative":         doc(`["content-length-range", -1, 10]`),
		"range not a number":     doc(`["content-length-range", 0, "x"]`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDocument([]byte(d))
			if e := errs.As(err); e == nil || e.Code != "InvalidPolicyDocument" || !strings.HasPrefix(e.Message, "Invalid Policy: ") {
				t.Fatalf("error %v, want InvalidPolicyDocument", err)
			}
		})
	}
	if _, err := Parse("{not base64}"); !errors.Is(err, errs.InvalidPolicyDocument) {
		t.Fatalf("not base64: %v", err)
	}
}

func TestLengthRange(t *testing.T) {
	for _, tc := range []struct {
		conds    string
		min, max int64
	}{
		{``, 0, -1},
		{`["content-length-range", 5, 10]`, 5, 10},
		{`["content-length-range", "5", "10"]`, 5, 10},
		{`["content-length-range", 1, 100], ["content-length-range", 10, 50]`, 10, 50},
	} {
		p, err := ParseDocument([]byte(doc(tc.conds)))
		if err != nil {
			t.Fatalf("%s: %v", tc.conds, err)
		}
		if p.MinLength != tc.min || p.MaxLength != tc.max {
			t.Errorf("%s: range [%d, %d], want [%d, %d]", tc.conds, p.MinLength, p.MaxLength, tc.min, tc.max)
		}
	}
	if err := LengthError(4, 5, 10); !errors.Is(err, errs.EntityTooSmall) {
		t.Errorf("too small: %v", err)
	}
	if err := LengthError(11, 5, 10); !errors.Is(err, errs.EntityTooLarge) {
		t.Errorf("too large: %v", err)
	}
}
