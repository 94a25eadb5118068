package e2eoss

import (
	"context"
	"fmt"
	"io"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func ossInventory(dst, id string, enc *oss2.InventoryEncryption) *oss2.InventoryConfiguration {
	return &oss2.InventoryConfiguration{
		Id: oss2.Ptr(id), IsEnabled: oss2.Ptr(true), IncludedObjectVersions: oss2.Ptr("Current"),
		Schedule: &oss2.InventorySchedule{Frequency: "Weekly"},
		Filter:   &oss2.InventoryFilter{Prefix: oss2.Ptr("data/"), LowerSizeBound: oss2.Ptr(int64(1))},
		Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
			Format: "CSV", AccountId: oss2.Ptr("1000000000000000"), RoleArn: oss2.Ptr("acs:ram::1000000000000000:role/AliyunOSSRole"),
			Bucket: oss2.Ptr("acs:oss:::" + dst), Prefix: oss2.Ptr("inv"), Encryption: enc,
		}},
		OptionalFields: &oss2.OptionalFields{Fields: []oss2.InventoryOptionalFieldType{"Size", "EncryptionStatus", "EncryptionAlgorithm"}},
	}
}

// TestInventoryOSS sets, reads, lists and deletes inventories through the
// OSS v2 SDK (?inventory&inventoryId=, OSSBucketDestination, SSE-OSS and
// SSE-KMS KeyId); an unknown one is OSS's NoSuchInventory. A report lists
// an SM4 object as SSE-KMS/SM4, and its files carry SSE-OSS.
func TestInventoryOSS(t *testing.T) {
	n := startNode(t)
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	ctx := context.Background()
	src, dst := bucketName("inv-src"), bucketName("inv-dst")
	must(t, c.createBucket(src, sseOpt{}))
	must(t, c.createBucket(dst, sseOpt{}))
	for _, p := range []struct {
		key string
		o   sseOpt
	}{{"data/plain", sseOpt{}}, {"data/sm4", sseOpt{Alg: "KMS", DataEnc: "SM4"}}, {"data/oss", sseOpt{Alg: "AES256"}}, {"other/x", sseOpt{}}} {
		if _, err := c.put(src, p.key, []byte("body "+p.key), p.o); err != nil {
			t.Fatal(err)
		}
	}

	_, err := c.c.GetBucketInventory(ctx, &oss2.GetBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("none")})
	wantErr(t, err, 404, "NoSuchInventory")
	_, err = c.c.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("x"),
		InventoryConfiguration: ossInventory("missing-bucket", "x", nil)})
	wantErr(t, err, 400, "InvalidArgument")

	_, err = c.c.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("r1"),
		InventoryConfiguration: ossInventory(dst, "r1", &oss2.InventoryEncryption{SseOss: oss2.Ptr("")})})
	must(t, err)
	_, err = c.c.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("r2"),
		InventoryConfiguration: ossInventory(dst, "r2", &oss2.InventoryEncryption{SseKms: &oss2.SSEKMS{KeyId: oss2.Ptr("strongroom-default")}})})
	must(t, err)
	got, err := c.c.GetBucketInventory(ctx, &oss2.GetBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("r1")})
	must(t, err)
	ic := got.InventoryConfiguration
	d := ic.Destination.OSSBucketDestination
	if oss2.ToString(ic.Id) != "r1" || !oss2.ToBool(ic.IsEnabled) || ic.Schedule.Frequency != "Weekly" ||
		oss2.ToString(ic.Filter.Prefix) != "data/" || ic.Filter.LowerSizeBound == nil || *ic.Filter.LowerSizeBound != 1 ||
		oss2.ToString(d.Bucket) != "acs:oss:::"+dst || oss2.ToString(d.RoleArn) == "" || d.Encryption == nil || d.Encryption.SseOss == nil ||
		len(ic.OptionalFields.Fields) != 3 || ic.OptionalFields.Fields[2] != "EncryptionAlgorithm" {
		t.Fatalf("read back: %+v %+v", ic, d)
	}
	got, err = c.c.GetBucketInventory(ctx, &oss2.GetBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("r2")})
	must(t, err)
	if e := got.InventoryConfiguration.Destination.OSSBucketDestination.Encryption; e == nil || e.SseKms == nil || oss2.ToString(e.SseKms.KeyId) != "strongroom-default" {
		t.Fatalf("SSE-KMS read back: %+v", e)
	}
	l, err := c.c.ListBucketInventory(ctx, &oss2.ListBucketInventoryRequest{Bucket: &src})
	must(t, err)
	if r := l.ListInventoryConfigurationsResult; len(r.InventoryConfigurations) != 2 || oss2.ToBool(r.IsTruncated) {
		t.Fatalf("list: %+v", r)
	}

	manifestKey, err := n.Service.RunInventory(ctx, src, "r1")
	must(t, err)
	get := func(k string) ([]byte, error) {
		res, err := c.c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &dst, Key: &k})
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		return io.ReadAll(res.Body)
	}
	_, keys, rows, err := e2eutil.InventoryReport(get, manifestKey)
	must(t, err)
	want := fmt.Sprint([][]string{{src, "data%2Foss", "13", "SSE-S3", "AES256"}, {src, "data%2Fplain", "15", "NOT-SSE", ""}, {src, "data%2Fsm4", "13", "SSE-KMS", "SM4"}})
	if fmt.Sprint(rows) != want {
		t.Fatalf("rows %q\nwant %s", rows, want)
	}
	for _, k := range keys {
		h, err := c.head(dst, k, sseOpt{})
		must(t, err)
		if h.Get("x-oss-server-side-encryption") != "AES256" {
			t.Errorf("%s: x-oss-server-side-encryption %q", k, h.Get("x-oss-server-side-encryption"))
		}
		o, _, err := n.Service.HeadObject(ctx, service.Principal{Root: true}, service.GetObjectInput{Bucket: dst, Key: k})
		must(t, err)
		if o.Encryption == nil || o.Encryption.Mode != "managed" {
			t.Errorf("%s: stored encryption %+v", k, o.Encryption)
		}
	}

	_, err = c.c.DeleteBucketInventory(ctx, &oss2.DeleteBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("r1")})
	must(t, err)
	_, err = c.c.DeleteBucketInventory(ctx, &oss2.DeleteBucketInventoryRequest{Bucket: &src, InventoryId: oss2.Ptr("r1")})
	wantErr(t, err, 404, "NoSuchInventory")
}
