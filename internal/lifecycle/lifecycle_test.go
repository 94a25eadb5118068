package lifecycle

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

func rules(body string) string {
	return `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + body + `</LifecycleConfiguration>`
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      error
	}{
		{"not xml", "<Lifecycle", errs.MalformedXML},
		{"wrong root", `<CORSConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></CORSConfiguration>`, errs.MalformedXML},
		{"no rules", rules(""), ErrNoRules},
		{"bad status", rules(`<Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>`), errs.MalformedXML},
		{"no action", rules(`<Rule><ID>a</ID><Filter><Prefix>x</Prefix></Filter><Status>Enabled</Status></Rule>`), ErrNoAction},
		{"zero days", rules(`<Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>`), ErrBadDays},
		{"days and date", rules(`<Rule><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>`), errs.MalformedXML},
		{"date not midnight", rules(`<Rule><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00.000Z</Date></Expiration></Rule>`), ErrDateNotMidnigt},
		{"duplicate id", rules(`<Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>`), ErrDuplicateID},
		{"long id", rules(`<Rule><ID>` + strings.Repeat("i", 256) + `</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), ErrIDTooLong},
		{"transition", rules(`<Rule><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>`), ErrTransition},
		{"filter and prefix", rules(`<Rule><Prefix>a</Prefix><Filter><Prefix>b</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), errs.MalformedXML},
		{"prefix and tag outside And", rules(`<Rule><Filter><Prefix>b</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), errs.MalformedXML},
		{"marker with tags", rules(`<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`), ErrMarkerWithTags},
		{"abort with tags", rules(`<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`), ErrAbortWithTags},
		{"abort zero", rules(`<Rule><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`), ErrBadAbortDays},
		{"noncurrent zero", rules(`<Rule><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration></Rule>`), ErrBadNoncurrent},
		{"duplicate tag", rules(`<Rule><Filter><And><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k</Key><Value>w</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), errs.InvalidRequest},
		{"sizes inverted", rules(`<Rule><Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), errs.InvalidArgument},
		{"oss not", rules(`<Rule><Status>Enabled</Status><Filter><Not><Prefix>a/b</Prefix></Not></Filter><Expiration><Days>1</Days></Expiration></Rule>`), errs.NotImplemented},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name  string
		shape Shape
		in    string
		want  []string // substrings of the rendered document
	}{
		{"s3 filter and", S3, rules(`<Rule><ID>logs</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule><Rule><ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`),
			[]string{`<Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter>`, `<Days>30</Days>`, `<NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions>`, `<DaysAfterInitiation>3</DaysAfterInitiation>`, `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`}},
		{"s3 legacy prefix", S3, rules(`<Rule><ID>a</ID><Prefix>tmp/</Prefix><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>`),
			[]string{`<Prefix>tmp/</Prefix><Status>Disabled</Status>`, `<Date>2030-01-01T00:00:00.000Z</Date>`}},
		{"oss", OSS, `<LifecycleConfiguration><Rule><ID>r</ID><Prefix>log/</Prefix><Status>Enabled</Status><Expiration><CreatedBeforeDate>2020-01-01T00:00:00.000Z</CreatedBeforeDate></Expiration><AbortMultipartUpload><Days>2</Days></AbortMultipartUpload></Rule></LifecycleConfiguration>`,
			[]string{`<Prefix>log/</Prefix>`, `<CreatedBeforeDate>2020-01-01T00:00:00.000Z</CreatedBeforeDate>`, `<AbortMultipartUpload><Days>2</Days></AbortMultipartUpload>`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			out, err := xml.Marshal(cfg.Document(c.shape))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("rendered %s\nlacks %s", out, w)
				}
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatalf("re-parsing %s: %v", out, err)
			}
			if len(again.Rules) != len(cfg.Rules) || again.Rules[0].ID != cfg.Rules[0].ID {
				t.Fatalf("round trip changed the rules: %+v vs %+v", again, cfg)
			}
		})
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestEvaluation(t *testing.T) {
	cfg, err := Parse([]byte(rules(`
<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
<Rule><ID>big</ID><Filter><And><Prefix>data/</Prefix><ObjectSizeGreaterThan>1000</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>10</Days></Expiration></Rule>
<Rule><ID>tagged</ID><Filter><Tag><Key>temp</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status><Expiration><Date>2026-03-01T00:00:00Z</Date></Expiration></Rule>
<Rule><ID>off</ID><Filter><Prefix>off/</Prefix></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
<Rule><ID>old</ID><Filter><Prefix>v/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`)))
	if err != nil {
		t.Fatal(err)
	}
	created := day("2026-01-10T15:00:00Z")
	for _, c := range []struct {
		name    string
		o       Object
		now     time.Time
		expired bool
		rule    string
		at      time.Time
	}{
		// Created 10 Jan 15:00 + 1 day = 11 Jan 15:00, rounded up to 12 Jan 00:00.
		{"days rounded to midnight, before", Object{Key: "logs/a", LastModified: created}, day("2026-01-11T23:59:59Z"), false, "logs", day("2026-01-12T00:00:00Z")},
		{"days rounded to midnight, at", Object{Key: "logs/a", LastModified: created}, day("2026-01-12T00:00:00Z"), true, "logs", day("2026-01-12T00:00:00Z")},
		{"prefix does not match", Object{Key: "other/a", LastModified: created}, day("2027-01-01T00:00:00Z"), false, "", time.Time{}},
		{"size filter: small kept", Object{Key: "data/x", Size: 1000, LastModified: created}, day("2027-01-01T00:00:00Z"), false, "", time.Time{}},
		{"size filter: big expires", Object{Key: "data/x", Size: 1001, LastModified: created}, day("2026-01-21T00:00:00Z"), true, "big", day("2026-01-21T00:00:00Z")},
		{"tag date", Object{Key: "k", Tags: map[string]string{"temp": "yes"}, LastModified: created}, day("2026-03-01T00:00:00Z"), true, "tagged", day("2026-03-01T00:00:00Z")},
		{"tag value differs", Object{Key: "k", Tags: map[string]string{"temp": "no"}, LastModified: created}, day("2027-03-01T00:00:00Z"), false, "", time.Time{}},
		{"disabled rule", Object{Key: "off/a", LastModified: created}, day("2027-01-01T00:00:00Z"), false, "", time.Time{}},
		{"earliest rule wins", Object{Key: "logs/t", Tags: map[string]string{"temp": "yes"}, LastModified: created}, day("2026-01-12T00:00:00Z"), true, "logs", day("2026-01-12T00:00:00Z")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := cfg.Expired(c.o, c.now); got != c.expired {
				t.Fatalf("Expired = %v, want %v", got, c.expired)
			}
			at, rule, ok := cfg.Expiry(c.o)
			if ok != (c.rule != "") || rule != c.rule || !at.Equal(c.at) {
				t.Fatalf("Expiry = %v %q %v, want %v %q", at, rule, ok, c.at, c.rule)
			}
		})
	}

	// Noncurrent: 3 days after becoming noncurrent, keeping the newest one.
	since := day("2026-01-10T12:00:00Z")
	v := Object{Key: "v/a", LastModified: day("2026-01-01T00:00:00Z")}
	if cfg.NoncurrentExpired(v, since, 0, day("2027-01-01T00:00:00Z")) {
		t.Error("the newest noncurrent version expired although one is kept")
	}
	if cfg.NoncurrentExpired(v, since, 1, day("2026-01-13T23:00:00Z")) {
		t.Error("a noncurrent version expired before its days")
	}
	if !cfg.NoncurrentExpired(v, since, 1, day("2026-01-14T00:00:00Z")) {
		t.Error("a noncurrent version past its days was kept")
	}
	if !cfg.DeleteMarkerExpired("v/a") || cfg.DeleteMarkerExpired("logs/a") {
		t.Error("ExpiredObjectDeleteMarker applies to the wrong keys")
	}
	init := day("2026-01-10T15:00:00Z")
	if cfg.UploadExpired("logs/u", init, day("2026-01-12T23:59:59Z")) || !cfg.UploadExpired("logs/u", init, day("2026-01-13T00:00:00Z")) {
		t.Error("upload abort not at initiation + 2 days rounded to midnight")
	}
	if cfg.UploadExpired("data/u", init, day("2030-01-01T00:00:00Z")) {
		t.Error("upload aborted by a rule without AbortIncompleteMultipartUpload")
	}
}
