package hostile

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// An inventory writes into another bucket with its source owner's rights,
// so it must not be a way to drop files into a bucket one may not write:
// refused when configured, and again at delivery if the grant is gone.
func TestInventoryCannotWriteIntoForeignBucket(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{})
	ctx := context.Background()
	alice, mallory := service.Principal{User: "alice"}, service.Principal{User: "mallory"}
	for _, b := range []struct {
		p    service.Principal
		name string
	}{{alice, "alice-bucket"}, {mallory, "mallory-bucket"}} {
		if _, err := n.Service.CreateBucket(ctx, b.p, b.name, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Service.PutObject(ctx, mallory, service.PutObjectInput{Bucket: "mallory-bucket", Key: "k",
		Body: service.Body{Reader: strings.NewReader("x"), Size: 1}}); err != nil {
		t.Fatal(err)
	}
	c := &inventory.Config{ID: "drop", Enabled: true, Frequency: inventory.Daily,
		Destination: inventory.Destination{Bucket: "alice-bucket", BucketARN: "arn:aws:s3:::alice-bucket", Format: inventory.CSV}}
	if err := n.Service.PutBucketInventory(ctx, mallory, "mallory-bucket", c); !errors.Is(err, errs.AccessDenied) {
		t.Fatalf("configuring into a foreign bucket: %v", err)
	}

	// Alice grants mallory writes, mallory configures, alice revokes.
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["mallory"]},"Action":"s3:PutObject","Resource":"arn:aws:s3:::alice-bucket/*"}]}`
	if err := n.Service.PutBucketPolicy(ctx, alice, "alice-bucket", []byte(grant)); err != nil {
		t.Fatal(err)
	}
	if err := n.Service.PutBucketInventory(ctx, mallory, "mallory-bucket", c); err != nil {
		t.Fatalf("configuring with a grant: %v", err)
	}
	if err := n.Service.DeleteBucketPolicy(ctx, alice, "alice-bucket"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Service.RunInventory(ctx, "mallory-bucket", "drop"); !errors.Is(err, errs.AccessDenied) {
		t.Fatalf("delivering after the grant was revoked: %v", err)
	}
	j, err := n.Jobs.RunPass(ctx, service.InventoryJob)
	if err != nil || j.Pass["failed"] != 1 || j.Pass["reports"] != 0 {
		t.Fatalf("job pass: %+v, %v", j, err)
	}
	l, err := n.Service.ListObjects(ctx, alice, service.ListInput{Bucket: "alice-bucket", MaxKeys: 10})
	if err != nil || len(l.Objects) != 0 {
		t.Fatalf("alice's bucket after the attempts: %d objects, %v", len(l.Objects), err)
	}
}

// Hostile inventory documents get a 4xx error document, never a 5xx or a
// dropped connection.
func TestInventoryDocuments(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{})
	for _, b := range []string{"/hinv", "/hinvdst"} {
		if st, body := roundTrip(t, n, signed(t, n, http.MethodPut, b, "", nil, nil)); st != 200 {
			t.Fatalf("create bucket: %d %s", st, body)
		}
	}
	valid := `<InventoryConfiguration><Id>a</Id><IsEnabled>true</IsEnabled><Destination><S3BucketDestination><Bucket>arn:aws:s3:::hinvdst</Bucket><Format>CSV</Format></S3BucketDestination></Destination><Schedule><Frequency>Daily</Frequency></Schedule><IncludedObjectVersions>All</IncludedObjectVersions></InventoryConfiguration>`
	cases := []struct{ name, query, body, code string }{
		{"empty", "inventory&id=a", "", "MalformedXML"},
		{"no id", "inventory", valid, "InvalidArgument"},
		{"deep nesting", "inventory&id=a", strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000), "MalformedXML"},
		{"two destinations", "inventory&id=a", strings.Replace(valid, "</S3BucketDestination>", "</S3BucketDestination><OSSBucketDestination><Bucket>acs:oss:::hinvdst</Bucket><Format>CSV</Format></OSSBucketDestination>", 1), "MalformedXML"},
		{"destination is itself an ARN path", "inventory&id=a", strings.Replace(valid, "arn:aws:s3:::hinvdst", "arn:aws:s3:::hinvdst/../x", 1), "InvalidArgument"},
		{"cos arn without bucket", "inventory&id=a", strings.Replace(valid, "arn:aws:s3:::hinvdst", "qcs::cos:ap-guangzhou::", 1), "InvalidArgument"},
		{"unknown field", "inventory&id=a", strings.Replace(valid, "</IncludedObjectVersions>", "</IncludedObjectVersions><OptionalFields><Field>../../etc</Field></OptionalFields>", 1), "InvalidArgument"},
	}
	for _, tc := range cases {
		st, body := roundTrip(t, n, signed(t, n, http.MethodPut, "/hinv", tc.query, []byte(tc.body), nil))
		if st < 400 || st >= 500 || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
			t.Errorf("%s: %d %s", tc.name, st, body)
		}
	}
	st, body := roundTrip(t, n, signed(t, n, http.MethodGet, "/hinv", "inventory&continuation-token=%00garbage", nil, nil))
	if st != 400 || !strings.Contains(body, "InvalidArgument") {
		t.Errorf("garbage continuation token: %d %s", st, body)
	}
}
