package e2ecos

import (
	"strings"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestDeleteMulti: the SDK's DeleteMulti (which sends Content-MD5) works
// now that the server requires an integrity header on it.
func TestDeleteMulti(t *testing.T) {
	e := newEnv(t)
	b := bucketName("del")
	c := e.clientFor(b, e.node.AccessKey, e.node.SecretKey)
	if _, err := c.Bucket.Put(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b c"} {
		if _, err := c.Object.Put(e.ctx, k, strings.NewReader("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	res, _, err := c.Object.DeleteMulti(e.ctx, &cos.ObjectDeleteMultiOptions{Objects: []cos.Object{{Key: "a"}, {Key: "b c"}}})
	if err != nil || len(res.DeletedObjects) != 2 || len(res.Errors) != 0 {
		t.Fatalf("DeleteMulti: %+v %v", res, err)
	}
	lr, _, err := c.Bucket.Get(e.ctx, nil)
	if err != nil || len(lr.Contents) != 0 {
		t.Errorf("after DeleteMulti: %+v %v", lr, err)
	}
}
