package e2eoss

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestDeleteMultipleObjects: both SDKs' DeleteMultipleObjects (which send
// Content-MD5) work now that the server requires an integrity header on it,
// and a request without Content-MD5 is OSS's MissingArgument.
func TestDeleteMultipleObjects(t *testing.T) {
	n := startNode(t)
	forEach(t, n, func(t *testing.T, c client) {
		b := bucketName("del")
		must(t, c.createBucket(b, sseOpt{}))
		for _, k := range []string{"a", "b c"} {
			if _, err := c.put(b, k, []byte("x"), sseOpt{}); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		switch c := c.(type) {
		case *v1Client:
			_, err = c.bucket(b).DeleteObjects([]string{"a", "b c"})
		case *v2Client:
			_, err = c.c.DeleteMultipleObjects(c.ctx, &oss2.DeleteMultipleObjectsRequest{Bucket: &b, Objects: []oss2.DeleteObject{{Key: oss2.Ptr("a")}, {Key: oss2.Ptr("b c")}}})
		default:
			err = errors.New("unknown client")
		}
		if err != nil {
			t.Fatalf("DeleteMultipleObjects: %v", err)
		}
		if keys, err := c.list(b, ""); err != nil || len(keys) != 0 {
			t.Errorf("after DeleteMultipleObjects: %v %v", keys, err)
		}
	})

	// Without Content-MD5 (a public-read-write bucket, so the request
	// needs no signature to get that far).
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	b := bucketName("delmd5")
	if _, err := c.c.PutBucket(c.ctx, &oss2.PutBucketRequest{Bucket: &b, Acl: oss2.BucketACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, n.DialectURL["oss"]+"/"+b+"?delete", strings.NewReader("<Delete><Object><Key>a</Key></Object></Delete>"))
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-oss-ec") != "0016-00000606" {
		t.Errorf("DeleteMultipleObjects without Content-MD5: %d ec %q, want 400 0016-00000606", resp.StatusCode, resp.Header.Get("x-oss-ec"))
	}
}
