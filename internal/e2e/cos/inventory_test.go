package e2ecos

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	cos "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func cosInventory(dst, id string, enc *cos.BucketInventoryEncryption) *cos.BucketPutInventoryOptions {
	return &cos.BucketPutInventoryOptions{
		ID: id, IsEnabled: "true", IncludedObjectVersions: "All",
		Filter:         &cos.BucketInventoryFilter{Prefix: "docs/"},
		OptionalFields: &cos.BucketInventoryOptionalFields{BucketInventoryFields: []string{"Size", "ETag", "EncryptionStatus"}},
		Schedule:       &cos.BucketInventorySchedule{Frequency: "Daily"},
		Destination: &cos.BucketInventoryDestination{Bucket: "qcs::cos:ap-guangzhou::" + dst, AccountId: "100000000001",
			Prefix: "list", Format: "CSV", Encryption: enc},
	}
}

// TestInventoryCOS sets, reads, lists and deletes inventories through
// cos-go-sdk-v5 (COSBucketDestination, Filter/And/Prefix, SSE-COS); a
// report lists each version with its mode, and is encrypted with the
// inventory's SSE-COS, or left plaintext when neither the inventory nor the
// destination bucket asks for encryption.
func TestInventoryCOS(t *testing.T) {
	e := newEnv(t)
	src, sc := e.bucket("invsrc")
	dst, dc := e.bucket("invdst")
	plain, pc := e.bucket("invplain")
	if _, err := sc.Bucket.PutVersioning(e.ctx, &cos.BucketPutVersionOptions{Status: "Enabled"}); err != nil {
		t.Fatal(err)
	}
	e.put(sc, "docs/a", []byte("one"), nil)
	e.put(sc, "docs/a", []byte("two"), &cos.ObjectPutHeaderOptions{XCosServerSideEncryption: "AES256"})
	e.put(sc, "docs/b", []byte("three"), newCustomerKey().put())
	e.put(sc, "logs/c", []byte("not listed"), nil)

	_, _, err := sc.Bucket.GetInventory(e.ctx, "none")
	wantCOSErr(t, err, 404, "NoSuchConfiguration")
	_, err = sc.Bucket.PutInventory(e.ctx, "bad", cosInventory("nosuch-1250000000", "bad", nil))
	wantCOSErr(t, err, 400, "InvalidArgument")

	if _, err := sc.Bucket.PutInventory(e.ctx, "own", cosInventory(dst, "own", &cos.BucketInventoryEncryption{})); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Bucket.PutInventory(e.ctx, "none", cosInventory(plain, "none", nil)); err != nil {
		t.Fatal(err)
	}
	got, _, err := sc.Bucket.GetInventory(e.ctx, "own")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "own" || got.IsEnabled != "true" || got.IncludedObjectVersions != "All" || got.Filter == nil || got.Filter.Prefix != "docs/" ||
		got.Destination == nil || got.Destination.Bucket != "qcs::cos:ap-guangzhou::"+dst || got.Destination.Encryption == nil ||
		got.OptionalFields == nil || len(got.OptionalFields.BucketInventoryFields) != 3 || got.Schedule.Frequency != "Daily" {
		t.Fatalf("read back: %+v", got)
	}
	l, _, err := sc.Bucket.ListInventoryConfigurations(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.InventoryConfigurations) != 2 || l.IsTruncated {
		t.Fatalf("list: %+v", l)
	}

	for _, tc := range []struct {
		id, dst string
		c       *cos.Client
		sse     string
	}{{"own", dst, dc, "AES256"}, {"none", plain, pc, ""}} {
		manifestKey, err := e.node.Service.RunInventory(e.ctx, src, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		get := func(k string) ([]byte, error) {
			resp, err := tc.c.Object.Get(e.ctx, k, nil)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			return io.ReadAll(resp.Body)
		}
		_, keys, rows, err := e2eutil.InventoryReport(get, manifestKey)
		if err != nil {
			t.Fatal(err)
		}
		var summary []string
		for _, r := range rows {
			summary = append(summary, fmt.Sprintf("%s %s latest=%s marker=%s size=%s %s", r[0], r[1], r[3], r[4], r[5], r[7]))
		}
		want := []string{
			src + " docs%2Fa latest=true marker=false size=3 SSE-S3",
			src + " docs%2Fa latest=false marker=false size=3 NOT-SSE",
			src + " docs%2Fb latest=true marker=false size=5 SSE-C",
		}
		if strings.Join(summary, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s rows:\n%s", tc.id, strings.Join(summary, "\n"))
		}
		for _, k := range keys {
			resp, err := tc.c.Object.Head(e.ctx, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantSSE(t, resp.Header, tc.sse, "")
			o, _, err := e.node.Service.HeadObject(e.ctx, service.Principal{Root: true}, service.GetObjectInput{Bucket: tc.dst, Key: k})
			if err != nil {
				t.Fatal(err)
			}
			if (o.Encryption != nil) != (tc.sse != "") {
				t.Errorf("%s: stored encryption %+v", k, o.Encryption)
			}
		}
	}

	resp, err := sc.Bucket.DeleteInventory(e.ctx, "own")
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v", err)
	}
	_, _, err = sc.Bucket.GetInventory(e.ctx, "own")
	wantCOSErr(t, err, 404, "NoSuchConfiguration")
}
