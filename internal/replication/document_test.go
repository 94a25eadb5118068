package replication

import (
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

func doc(rules string) []byte {
	return []byte(`<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role>` + rules + `</ReplicationConfiguration>`)
}

const s3V2Rule = `<Rule><ID>r1</ID><Priority>1</Priority><Status>Enabled</Status>
<Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>
<Destination><Bucket>arn:aws:s3:::dst</Bucket><StorageClass>STANDARD</StorageClass>
<EncryptionConfiguration><ReplicaKmsKeyID>key-1</ReplicaKmsKeyID></EncryptionConfiguration></Destination>
<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>
<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>`

func TestParseShapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape Shape
		body  []byte
		want  Config
	}{
		{"s3 filter", S3, doc(s3V2Rule), Config{Role: "arn:aws:iam::1:role/r", Rules: []Rule{{
			ID: "r1", Priority: 1, Enabled: true, Prefix: "logs/", Tags: []Tag{{"k", "v"}},
			Destination:     Destination{Bucket: "dst", ARN: "arn:aws:s3:::dst"},
			ReplicaKMSKeyID: "key-1", SSEKMSEncrypted: true, StorageClass: "STANDARD",
		}}}},
		{"s3 legacy prefix replicates markers", S3, doc(`<Rule><ID>a</ID><Status>Disabled</Status><Prefix>p/</Prefix><Destination><Bucket>arn:aws:s3:eu-1::dst</Bucket></Destination></Rule>`),
			Config{Role: "arn:aws:iam::1:role/r", Rules: []Rule{{ID: "a", Prefix: "p/", LegacyPrefix: true, DeleteMarkers: true,
				Destination: Destination{Bucket: "dst", ARN: "arn:aws:s3:eu-1::dst", Region: "eu-1"}}}}},
		{"cos", COS, doc(`<Rule><ID>c</ID><Status>Enabled</Status><Prefix>x</Prefix><Destination><Bucket>qcs::cos:ap-beijing::dst-125</Bucket></Destination></Rule>`),
			Config{Role: "arn:aws:iam::1:role/r", Rules: []Rule{{ID: "c", Enabled: true, Prefix: "x", DeleteMarkers: true,
				Destination: Destination{Bucket: "dst-125", ARN: "qcs::cos:ap-beijing::dst-125", Region: "ap-beijing"}}}}},
		{"oss", OSS, []byte(`<ReplicationConfiguration><Rule><ID>o</ID><PrefixSet><Prefix>a</Prefix><Prefix>b</Prefix></PrefixSet><Action>PUT</Action>
<Destination><Bucket>dst</Bucket><Location>oss-cn-beijing</Location></Destination>
<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>
<EncryptionConfiguration><ReplicaKmsKeyID>k2</ReplicaKmsKeyID></EncryptionConfiguration><HistoricalObjectReplication>disabled</HistoricalObjectReplication></Rule></ReplicationConfiguration>`),
			Config{Rules: []Rule{{ID: "o", Enabled: true, Prefixes: []string{"a", "b"}, ReplicaKMSKeyID: "k2", SSEKMSEncrypted: true,
				Destination: Destination{Bucket: "dst", Region: "oss-cn-beijing"}}}}},
		{"oss SseKms name", OSS, []byte(`<ReplicationConfiguration><Rule><ID>o</ID><Destination><Bucket>dst</Bucket></Destination>
<SourceSelectionCriteria><SseKms><Status>Enabled</Status></SseKms></SourceSelectionCriteria>
<EncryptionConfiguration><ReplicaKmsKeyID>k2</ReplicaKmsKeyID></EncryptionConfiguration></Rule></ReplicationConfiguration>`),
			Config{Rules: []Rule{{ID: "o", Enabled: true, ReplicaKMSKeyID: "k2", SSEKMSEncrypted: true, DeleteMarkers: true, Destination: Destination{Bucket: "dst"}}}}},
		{"obs", OBS, []byte(`<ReplicationConfiguration><Agency>ag</Agency><Rule><ID>b</ID><Prefix>p</Prefix><Status>Enabled</Status>
<Destination><Bucket>dst</Bucket><StorageClass>STANDARD</StorageClass><DeleteData>Enabled</DeleteData></Destination>
<HistoricalObjectReplication>Disabled</HistoricalObjectReplication></Rule></ReplicationConfiguration>`),
			Config{Role: "ag", Rules: []Rule{{ID: "b", Enabled: true, Prefix: "p", DeleteMarkers: true, StorageClass: "STANDARD", Destination: Destination{Bucket: "dst"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.body, tc.shape)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*c, tc.want) {
				t.Fatalf("parsed\n%+v\nwant\n%+v", *c, tc.want)
			}
			// The rendered document parses back to the same rules.
			out, err := xml.Marshal(c.Document(tc.shape, "us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out, tc.shape)
			if err != nil {
				t.Fatalf("re-parsing %s: %v", out, err)
			}
			for i := range back.Rules {
				back.Rules[i].Destination.Region = c.Rules[i].Destination.Region // OSS echoes the local region
			}
			if tc.shape != OSS && !reflect.DeepEqual(*back, *c) {
				t.Fatalf("round trip of %s\n%+v\nwant\n%+v", out, *back, *c)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	dest := `<Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>`
	for _, tc := range []struct {
		name  string
		shape Shape
		body  []byte
		want  *errs.Error
		msg   string
	}{
		{"not xml", S3, []byte("<Rep"), errs.MalformedXML, ""},
		{"no rules", S3, doc(""), errs.MalformedXML, ""},
		{"bad status", S3, doc(`<Rule><Status>On</Status><Prefix/>` + dest + `</Rule>`), errs.MalformedXML, ""},
		{"filter and prefix", S3, doc(`<Rule><Status>Enabled</Status><Prefix/><Filter><Prefix/></Filter>` + dest + `</Rule>`), errs.MalformedXML, ""},
		{"neither filter nor prefix", S3, doc(`<Rule><Status>Enabled</Status>` + dest + `</Rule>`), errs.MalformedXML, ""},
		{"no destination", S3, doc(`<Rule><Status>Enabled</Status><Prefix/></Rule>`), errs.MalformedXML, ""},
		{"filter without marker replication", S3, doc(`<Rule><Status>Enabled</Status><Priority>1</Priority><Filter><Prefix/></Filter>` + dest + `</Rule>`), errs.InvalidRequest, "DeleteMarkerReplication must be specified"},
		{"filter without priority", S3, doc(`<Rule><Status>Enabled</Status><Filter><Prefix/></Filter>` + dest + `<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>`), errs.InvalidRequest, "Priority must be specified"},
		{"markers with tags", S3, doc(`<Rule><Status>Enabled</Status><Priority>1</Priority><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>` + dest + `<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication></Rule>`), errs.InvalidRequest, "Delete marker replication is not supported"},
		{"bad arn", S3, doc(`<Rule><Status>Enabled</Status><Prefix/><Destination><Bucket>dst</Bucket></Destination></Rule>`), errs.InvalidArgument, "ARN"},
		{"cos bad resource", COS, doc(`<Rule><Status>Enabled</Status><Prefix/><Destination><Bucket>dst</Bucket></Destination></Rule>`), errs.InvalidArgument, "qcs::cos"},
		{"duplicate id", S3, doc(`<Rule><ID>x</ID><Status>Enabled</Status><Prefix>a</Prefix>` + dest + `</Rule><Rule><ID>x</ID><Status>Enabled</Status><Prefix>b</Prefix>` + dest + `</Rule>`), errs.InvalidArgument, "unique"},
		{"duplicate priority", S3, doc(strings.Repeat(`<Rule><Status>Enabled</Status><Priority>3</Priority><Filter><Prefix/></Filter>`+dest+`<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>`, 2)), errs.InvalidRequest, "duplicate priority 3"},
		{"id too long", S3, doc(`<Rule><ID>` + strings.Repeat("i", 256) + `</ID><Status>Enabled</Status><Prefix/>` + dest + `</Rule>`), errs.InvalidArgument, "255"},
		{"key without selection", S3, doc(`<Rule><Status>Enabled</Status><Prefix/><Destination><Bucket>arn:aws:s3:::d</Bucket><EncryptionConfiguration><ReplicaKmsKeyID>k</ReplicaKmsKeyID></EncryptionConfiguration></Destination></Rule>`), errs.InvalidRequest, "SseKmsEncryptedObjects must be specified"},
		{"selection without key", S3, doc(`<Rule><Status>Enabled</Status><Prefix/>` + dest + `<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria></Rule>`), errs.InvalidRequest, "ReplicaKmsKeyID must be specified"},
		{"existing objects", S3, doc(`<Rule><Status>Enabled</Status><Prefix/>` + dest + `<ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication></Rule>`), errs.NotImplemented, ""},
		{"oss historical", OSS, []byte(`<ReplicationConfiguration><Rule><Destination><Bucket>d</Bucket></Destination><HistoricalObjectReplication>enabled</HistoricalObjectReplication></Rule></ReplicationConfiguration>`), errs.NotImplemented, ""},
		{"oss bad action", OSS, []byte(`<ReplicationConfiguration><Rule><Action>COPY</Action><Destination><Bucket>d</Bucket></Destination></Rule></ReplicationConfiguration>`), errs.InvalidArgument, ""},
		{"oss too many prefixes", OSS, []byte(`<ReplicationConfiguration><Rule><PrefixSet>` + strings.Repeat("<Prefix>p</Prefix>", 11) + `</PrefixSet><Destination><Bucket>d</Bucket></Destination></Rule></ReplicationConfiguration>`), errs.InvalidArgument, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.body, tc.shape)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %s", err, tc.want.Code)
			}
			if e := errs.As(err); e.Code != tc.want.Code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("err = %s %q, want %s containing %q", e.Code, e.Message, tc.want.Code, tc.msg)
			}
		})
	}
}

func TestParseGivesIDs(t *testing.T) {
	c, err := Parse([]byte(`<ReplicationConfiguration><Rule><Destination><Bucket>d</Bucket></Destination></Rule><Rule><Destination><Bucket>e</Bucket></Destination></Rule></ReplicationConfiguration>`), OSS)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rules[0].ID == "" || c.Rules[0].ID == c.Rules[1].ID {
		t.Fatalf("generated IDs %q, %q", c.Rules[0].ID, c.Rules[1].ID)
	}
}

func TestMatchPrefixSet(t *testing.T) {
	c := Config{Rules: []Rule{{ID: "a", Enabled: true, Prefixes: []string{"img/", "video/"}}}}
	for key, want := range map[string]bool{"img/1": true, "video/2": true, "doc/3": false} {
		if got := c.Match(key, nil) != nil; got != want {
			t.Errorf("Match(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestRuleIDs(t *testing.T) {
	ids, err := RuleIDs([]byte(`<ReplicationRules><ID>a</ID><ID>b</ID></ReplicationRules>`))
	if err != nil || !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Fatalf("RuleIDs = %v, %v", ids, err)
	}
	if _, err := RuleIDs([]byte(`<ReplicationRules/>`)); !errors.Is(err, errs.MalformedXML) {
		t.Fatalf("empty ReplicationRules: %v", err)
	}
}
