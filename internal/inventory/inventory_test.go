package inventory

import (
	"encoding/xml"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

const s3Doc = `<InventoryConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Destination><S3BucketDestination>
    <AccountId>123456789012</AccountId><Bucket>arn:aws:s3:::dst</Bucket><Format>CSV</Format><Prefix>inv</Prefix>
    <Encryption><SSE-KMS><KeyId>arn:aws:kms:us-east-1:123456789012:key/k1</KeyId></SSE-KMS></Encryption>
  </S3BucketDestination></Destination>
  <IsEnabled>true</IsEnabled>
  <Filter><Prefix>logs/</Prefix></Filter>
  <Id>report1</Id>
  <IncludedObjectVersions>All</IncludedObjectVersions>
  <OptionalFields><Field>Size</Field><Field>EncryptionStatus</Field><Field>EncryptionAlgorithm</Field></OptionalFields>
  <Schedule><Frequency>Weekly</Frequency></Schedule>
</InventoryConfiguration>`

const cosDoc = `<InventoryConfiguration>
  <Id>list1</Id><IsEnabled>True</IsEnabled>
  <Destination><COSBucketDestination><Format>CSV</Format><AccountId>100000000001</AccountId>
    <Bucket>qcs::cos:ap-guangzhou::dst</Bucket><Prefix>list1</Prefix>
    <Encryption><SSE-COS></SSE-COS></Encryption></COSBucketDestination></Destination>
  <Schedule><Frequency>Daily</Frequency></Schedule>
  <Filter><And><Prefix>myPrefix</Prefix></And></Filter>
  <IncludedObjectVersions>Current</IncludedObjectVersions>
  <OptionalFields><Field>Size</Field><Field>ETag</Field></OptionalFields>
</InventoryConfiguration>`

const ossDoc = `<InventoryConfiguration>
  <Id>report1</Id><IsEnabled>true</IsEnabled>
  <Filter><Prefix>filterPrefix/</Prefix><LastModifyBeginTimeStamp>1637883649</LastModifyBeginTimeStamp>
    <LastModifyEndTimeStamp>1638347592</LastModifyEndTimeStamp><LowerSizeBound>1024</LowerSizeBound>
    <UpperSizeBound>1048576</UpperSizeBound><StorageClass>Standard,IA</StorageClass></Filter>
  <Destination><OSSBucketDestination><Format>CSV</Format><AccountId>1000000000000000</AccountId>
    <RoleArn>acs:ram::1000000000000000:role/AliyunOSSRole</RoleArn><Bucket>acs:oss:::dst</Bucket><Prefix>prefix1</Prefix>
    <Encryption><SSE-OSS/></Encryption></OSSBucketDestination></Destination>
  <Schedule><Frequency>Daily</Frequency></Schedule>
  <IncludedObjectVersions>All</IncludedObjectVersions>
  <OptionalFields><Field>Size</Field><Field>LastModifiedDate</Field><Field>EncryptionStatus</Field></OptionalFields>
</InventoryConfiguration>`

func TestParseDialects(t *testing.T) {
	cases := []struct {
		name, doc, id string
		want          Config
	}{
		{"s3", s3Doc, "report1", Config{ID: "report1", Enabled: true, AllVersions: true, Frequency: Weekly,
			Fields: []string{"Size", "EncryptionStatus", "EncryptionAlgorithm"}, Filter: Filter{Prefix: "logs/"},
			Destination: Destination{Bucket: "dst", BucketARN: "arn:aws:s3:::dst", AccountID: "123456789012", Format: CSV, Prefix: "inv",
				Encryption: &Encryption{KMS: true, KeyID: "arn:aws:kms:us-east-1:123456789012:key/k1"}}}},
		{"cos", cosDoc, "list1", Config{ID: "list1", Enabled: true, Frequency: Daily, Fields: []string{"Size", "ETag"},
			Filter:      Filter{Prefix: "myPrefix"},
			Destination: Destination{Bucket: "dst", BucketARN: "qcs::cos:ap-guangzhou::dst", AccountID: "100000000001", Format: CSV, Prefix: "list1", Encryption: &Encryption{}}}},
		{"oss", ossDoc, "report1", Config{ID: "report1", Enabled: true, AllVersions: true, Frequency: Daily,
			Fields: []string{"Size", "LastModifiedDate", "EncryptionStatus"},
			Filter: Filter{Prefix: "filterPrefix/", ModifiedFrom: 1637883649, ModifiedTo: 1638347592, MinSize: 1024, MaxSize: 1048576, StorageClass: "Standard,IA"},
			Destination: Destination{Bucket: "dst", BucketARN: "acs:oss:::dst", AccountID: "1000000000000000",
				RoleArn: "acs:ram::1000000000000000:role/AliyunOSSRole", Format: CSV, Prefix: "prefix1", Encryption: &Encryption{}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*c, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *c, tc.want)
			}
			// Each shape's document reads back to the same configuration.
			for _, shape := range []Shape{S3, COS, OSS} {
				b, err := xml.Marshal(c.Document(shape))
				if err != nil {
					t.Fatal(err)
				}
				again, err := Parse(b, tc.id)
				if err != nil {
					t.Fatalf("shape %d: %v\n%s", shape, err, b)
				}
				if !reflect.DeepEqual(again, c) {
					t.Fatalf("shape %d round trip:\n%s\n%+v", shape, b, *again)
				}
			}
		})
	}
}

func TestParseParquet(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(s3Doc, "<Format>CSV</Format>", "<Format>Parquet</Format>", 1)), "report1")
	if err != nil || c.Destination.Format != Parquet {
		t.Fatalf("%+v, %v", c, err)
	}
	if got := c.FileSchema(); !strings.HasPrefix(got, "message s3.inventory {") || !strings.Contains(got, "version_id") || !strings.Contains(got, "encryption_algorithm") {
		t.Fatalf("schema %s", got)
	}
	for in, want := range map[string]string{"ETag": "e_tag", "VersionId": "version_id", "ObjectLockRetainUntilDate": "object_lock_retain_until_date", "Crc64": "crc64", "IsLatest": "is_latest"} {
		if got := columnName(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

func TestDocumentVocabulary(t *testing.T) {
	c, err := Parse([]byte(s3Doc), "report1")
	if err != nil {
		t.Fatal(err)
	}
	c.Destination.Encryption = &Encryption{}
	for shape, want := range map[Shape][]string{
		S3:  {`xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, "<S3BucketDestination>", "<SSE-S3></SSE-S3>", "<Filter><Prefix>logs/</Prefix></Filter>"},
		COS: {"<COSBucketDestination>", "<SSE-COS></SSE-COS>", "<Filter><And><Prefix>logs/</Prefix></And></Filter>"},
		OSS: {"<OSSBucketDestination>", "<SSE-OSS></SSE-OSS>", "<Filter><Prefix>logs/</Prefix></Filter>"},
	} {
		b, _ := xml.Marshal(c.Document(shape))
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("shape %d lacks %s:\n%s", shape, w, b)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	edit := func(old, new string) string { return strings.Replace(s3Doc, old, new, 1) }
	cases := []struct {
		name, doc, id string
		want          *errs.Error
	}{
		{"not xml", "<Inventory", "report1", errs.MalformedXML},
		{"no id", edit("<Id>report1</Id>", ""), "report1", errs.MalformedXML},
		{"id mismatch", s3Doc, "other", errs.InvalidArgument},
		{"long id", strings.ReplaceAll(s3Doc, "report1", strings.Repeat("x", 65)), strings.Repeat("x", 65), errs.InvalidArgument},
		{"bad enabled", edit("<IsEnabled>true", "<IsEnabled>yes"), "report1", errs.MalformedXML},
		{"bad versions", edit(">All<", ">Some<"), "report1", errs.InvalidArgument},
		{"bad frequency", edit(">Weekly<", ">Monthly<"), "report1", errs.InvalidArgument},
		{"unknown field", edit("<Field>Size</Field>", "<Field>Colour</Field>"), "report1", errs.InvalidArgument},
		{"duplicate field", edit("<Field>EncryptionStatus</Field>", "<Field>Size</Field>"), "report1", errs.InvalidArgument},
		{"bad format", edit("<Format>CSV</Format>", "<Format>XLS</Format>"), "report1", errs.InvalidArgument},
		{"orc", edit("<Format>CSV</Format>", "<Format>ORC</Format>"), "report1", errs.NotImplemented},
		{"lower-case parquet", edit("<Format>CSV</Format>", "<Format>parquet</Format>"), "report1", errs.InvalidArgument},
		{"bad arn", edit("arn:aws:s3:::dst", "dst"), "report1", errs.InvalidArgument},
		{"kms without key", edit("<KeyId>arn:aws:kms:us-east-1:123456789012:key/k1</KeyId>", ""), "report1", errs.InvalidArgument},
		{"two encryptions", edit("<SSE-KMS>", "<SSE-S3/><SSE-KMS>"), "report1", errs.MalformedXML},
		{"no destination", edit("<Destination>", "<X>"), "report1", errs.MalformedXML},
		{"no schedule", edit("<Schedule><Frequency>Weekly</Frequency></Schedule>", ""), "report1", errs.MalformedXML},
		{"oss bounds", strings.Replace(ossDoc, "<LowerSizeBound>1024", "<LowerSizeBound>99999999", 1), "report1", errs.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), tc.id)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %s", err, tc.want.Code)
			}
		})
	}
}

func TestEntryLimitsAndList(t *testing.T) {
	var e Entry
	for i := range MaxConfigs {
		if err := e.Put(Config{ID: fmt.Sprintf("id-%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Put(Config{ID: "more"}); !errors.Is(err, ErrTooManyConfigurations) {
		t.Fatalf("1001st: %v", err)
	}
	if err := e.Delete("nope"); !errors.Is(err, ErrNoSuchConfiguration) {
		t.Fatalf("delete unknown: %v", err)
	}
	// Pages of 100, chained by the continuation token.
	token, seen := "", 0
	for range 20 {
		d, err := e.ListDocument(S3, token)
		if err != nil {
			t.Fatal(err)
		}
		l := d.(xmlList)
		seen += len(l.Configs)
		if !l.IsTruncated {
			break
		}
		token = l.NextContinuationToken
	}
	if seen != MaxConfigs {
		t.Fatalf("listed %d", seen)
	}
	if _, err := e.ListDocument(S3, "zzz"); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("bad token: %v", err)
	}
	d, _ := (&Entry{}).ListDocument(COS, "")
	if b, _ := xml.Marshal(d); !strings.HasPrefix(string(b), "<ListInventoryConfigurationResult>") {
		t.Fatalf("COS list root: %s", b)
	}
}

func TestDue(t *testing.T) {
	day := time.Date(2026, 3, 2, 23, 50, 0, 0, time.UTC)
	daily, weekly := Config{Enabled: true, Frequency: Daily}, Config{Enabled: true, Frequency: Weekly}
	cases := []struct {
		c         Config
		last, now time.Time
		want      bool
	}{
		{daily, time.Time{}, day, true},
		{daily, day, day.Add(15 * time.Minute), true}, // a new UTC day
		{daily, day.Add(-10 * time.Hour), day, false},
		{daily, day.Add(-23 * time.Hour), day, false},
		{weekly, day, day.Add(6 * 24 * time.Hour), false},
		{weekly, day, day.Add(7 * 24 * time.Hour), true},
		{Config{Frequency: Daily}, time.Time{}, day, false}, // disabled
	}
	for i, tc := range cases {
		if got := tc.c.Due(tc.last, tc.now); got != tc.want {
			t.Errorf("%d: %v", i, got)
		}
	}
}

func TestRowAndCSV(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := Config{AllVersions: true, Fields: []string{FieldSize, FieldEncryptionStatus, FieldEncryptionAlgorithm, FieldObjectLockMode,
		FieldObjectLockRetainUntilDate, FieldObjectLockLegalHoldStatus, FieldIsMultipartUploaded, FieldChecksumAlgorithm, FieldBucketKeyStatus}}
	o := &meta.Object{Key: "a b/\"c\"", VersionID: "v1", Size: 7, Multipart: true, Checksums: map[string]string{"CRC32": "x", "CRC64ECMA": "y"},
		Encryption: &meta.Encryption{Mode: "kms", Algorithm: "SM4", BucketKey: true},
		Lock:       meta.Lock{LockMode: "COMPLIANCE", LockUntil: &until, LegalHold: true}}
	row := c.Row("bkt", o, true, nil)
	want := []string{"bkt", "a+b%2F%22c%22", "v1", "true", "false", "7", "SSE-KMS", "SM4", "COMPLIANCE", "2030-01-02T03:04:05.000Z", "ON", "true", "CRC32", "ENABLED"}
	if strings.Join(row, "|") != strings.Join(want, "|") {
		t.Fatalf("row %q", row)
	}
	if got := string(AppendCSV(nil, []string{`a"b`, "c,d"})); got != "\"a\"\"b\",\"c,d\"\n" {
		t.Fatalf("csv %q", got)
	}
	marker := c.Row("bkt", &meta.Object{Key: "k", DeleteMarker: true}, true, nil)
	if strings.Join(marker, "|") != "bkt|k||true|true|||||||||" {
		t.Fatalf("marker row %q", marker)
	}
}
