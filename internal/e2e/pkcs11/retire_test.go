//go:build cgo

package e2epkcs11

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestKeyRetireOnToken: `key retire` (POST keys/retire) on a node serving
// on a SoftHSM2 token: refused while an object needs the version, done
// after a rewrap (the version's object is destroyed in the token), and
// every object, with and without a bucket key, still reads through
// aws-sdk-go-v2.
func TestKeyRetireOnToken(t *testing.T) {
	e := newEnv(t)
	if _, err := e.node.Keys.CreateKey(e.ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	b := e.bucket("retire")
	objs := map[string][]byte{"plain": random(t, 3000), "bucket-key": random(t, 5000)}
	for key, data := range objs {
		if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("aging"), BucketKeyEnabled: aws.Bool(key == "bucket-key")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.node.Keys.RotateKey(e.ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	retire := url.Values{"name": {"aging"}, "version": {"1"}}
	if st, body := e2eutil.AdminStatus(t, e.node, http.MethodPost, "keys/retire", retire); st != http.StatusConflict {
		t.Fatalf("retire while objects need version 1: %d %s", st, body)
	}
	if st := e2eutil.StartKeyJob(t, e.node, "rewrap", url.Values{"name": {"aging"}})(); st.Counts["rewrapped"] != 2 || st.LastError != "" {
		t.Fatalf("rewrap: %+v", st)
	}
	var res server.KeyRetireResult
	if err := json.Unmarshal(e2eutil.Admin(t, e.node, http.MethodPost, "keys/retire", retire), &res); err != nil || !slices.Equal(res.Retired, []uint32{1}) {
		t.Fatalf("retire: %+v %v", res, err)
	}
	info, err := e.node.Keys.DescribeKey(e.ctx, "aging")
	if err != nil || !slices.Equal(info.Retired, []uint32{1}) {
		t.Fatalf("after the retire: %+v %v", info, err)
	}
	for key, data := range objs {
		e.mustGet(b, key, data)
	}
}
