package auth

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClaimedAccessKey(t *testing.T) {
	for _, c := range []struct {
		name, authz, query, want string
	}{
		{"sigv4 header", "AWS4-HMAC-SHA256 Credential=AKV4/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "", "AKV4"},
		{"sigv4 query", "", "X-Amz-Credential=AKQ%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00", "AKQ"},
		{"sigv2 header", "AWS AKV2:c2ln", "", "AKV2"},
		{"sigv2 query", "", "AWSAccessKeyId=AKV2Q&Signature=x&Expires=1", "AKV2Q"},
		{"oss v1", "OSS AKOSS:c2ln", "", "AKOSS"},
		{"oss v4", "OSS4-HMAC-SHA256 Credential=AKOSS4/20240101/cn-hangzhou/oss/aliyun_v4_request,Signature=00", "", "AKOSS4"},
		{"oss query", "", "OSSAccessKeyId=AKOQ&Signature=x&Expires=1", "AKOQ"},
		{"cos header", "q-sign-algorithm=sha1&q-ak=AKCOS&q-sign-time=1;2&q-signature=00", "", "AKCOS"},
		{"cos query", "", "q-sign-algorithm=sha1&q-ak=AKCQ&q-signature=00", "AKCQ"},
		{"obs header", "OBS AKOBS:c2ln", "", "AKOBS"},
		{"obs query", "", "AccessKeyId=AKOBQ&Signature=x&Expires=1", "AKOBQ"},
		{"anonymous", "", "", ""},
		{"bounded", "AWS " + strings.Repeat("A", 500) + ":x", "", strings.Repeat("A", maxClaimedKey)},
	} {
		r := httptest.NewRequest("GET", "/b/k?"+c.query, nil)
		if c.authz != "" {
			r.Header.Set("Authorization", c.authz)
		}
		if got := ClaimedAccessKey(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
