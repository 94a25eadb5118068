package e2eoss

import (
	"bytes"
	"fmt"
	"net/url"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
)

// TestKeyJobsOSS: objects written with the OSS v2 SDK (KMS with SM4 data
// encryption, SSE-OSS AES256) read back identically with the v1 SDK
// after a rotation and rewrap of their key and after a re-encrypt of the
// bucket to SM4: same bytes and ETag, the KMS key id kept, and SM4 now
// reported for both (x-oss-server-side-encryption SM4 for SSE-OSS,
// x-oss-server-side-data-encryption SM4 for KMS).
func TestKeyJobsOSS(t *testing.T) {
	n := startNode(t)
	ctx := t.Context()
	if _, err := n.Keyring.CreateKey(ctx, "oss-jobs"); err != nil {
		t.Fatal(err)
	}
	w := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	r := newV1(t, n, n.AccessKey, n.SecretKey, osssdk.AuthV4)
	b := bucketName("keyjobs")
	must(t, w.createBucket(b, sseOpt{}))
	type obj struct {
		key  string
		data []byte
		opt  sseOpt
		etag string
	}
	var objs []*obj
	for i := range 8 {
		o := &obj{key: fmt.Sprintf("o/%d", i), data: randBytes(700 + i*25000)}
		if i%2 == 0 {
			o.opt = sseOpt{Alg: "KMS", KeyID: "oss-jobs", DataEnc: "SM4"}
		} else {
			o.opt = sseOpt{Alg: "AES256"}
		}
		h, err := w.put(b, o.key, o.data, o.opt)
		must(t, err)
		o.etag = h.Get("ETag")
		objs = append(objs, o)
	}
	check := func(stage string, want func(o *obj) sseHeaders) {
		t.Helper()
		for _, o := range objs {
			got, h, err := r.get(b, o.key, sseOpt{}, "")
			must(t, err)
			if !bytes.Equal(got, o.data) || h.Get("ETag") != o.etag {
				t.Fatalf("%s: %s: %d bytes, ETag %s (want %s)", stage, o.key, len(got), h.Get("ETag"), o.etag)
			}
			wantSSE(t, stage+" "+o.key, h, want(o))
		}
	}
	asWritten := func(o *obj) sseHeaders {
		if o.opt.Alg == "KMS" {
			return sseHeaders{"KMS", "SM4", "oss-jobs"}
		}
		return sseHeaders{"AES256", "", ""}
	}
	if _, err := n.Keyring.RotateKey(ctx, "oss-jobs"); err != nil {
		t.Fatal(err)
	}
	if st := e2eutil.StartKeyJob(t, n, "rewrap", url.Values{"name": {"oss-jobs"}})(); st.Counts["rewrapped"] != 4 || st.LastError != "" {
		t.Fatalf("rewrap: %+v", st)
	}
	check("after rewrap", asWritten)
	if st := e2eutil.StartKeyJob(t, n, "reencrypt", url.Values{"bucket": {b}, "algorithm": {"SM4"}})(); st.Counts["reencrypted"] != 8 || st.LastError != "" {
		t.Fatalf("reencrypt: %+v", st)
	}
	check("after reencrypt to SM4", func(o *obj) sseHeaders {
		if o.opt.Alg == "KMS" {
			return sseHeaders{"KMS", "SM4", "oss-jobs"}
		}
		return sseHeaders{"SM4", "", ""}
	})
}
