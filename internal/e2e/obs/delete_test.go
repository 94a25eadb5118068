package e2eobs

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// TestDeleteObjects: the SDK's DeleteObjects (which sends Content-MD5)
// works in every signature mode now that the server requires an integrity
// header on it.
func TestDeleteObjects(t *testing.T) {
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "del")
		for _, k := range []string{"a", "b c"} {
			if _, err := c.PutObject(putInput(b, k, []byte("x"))); err != nil {
				t.Fatal(err)
			}
		}
		in := &obs.DeleteObjectsInput{Objects: []obs.ObjectToDelete{{Key: "a"}, {Key: "b c"}}}
		in.Bucket = b
		out, err := c.DeleteObjects(in)
		if err != nil || len(out.Deleteds) != 2 || len(out.Errors) != 0 {
			t.Fatalf("DeleteObjects: %+v %v", out, err)
		}
		lin := &obs.ListObjectsInput{}
		lin.Bucket = b
		lo, err := c.ListObjects(lin)
		if err != nil || len(lo.Contents) != 0 {
			t.Errorf("after DeleteObjects: %+v %v", lo, err)
		}
	})
}
