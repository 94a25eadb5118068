package hostile

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostileObjectLock: every way to get rid of a COMPLIANCE-locked
// version early, as root: bypass header spellings, an empty or shortened
// retention (also spelt in another time zone), turning object lock or
// versioning off, multi-object delete, deleting the bucket. Each is
// refused, and the version still reads back intact.
func TestHostileObjectLock(t *testing.T) {
	t.Parallel()
	c := newRawNode(t)
	b := "/" + randName("worm")
	c.do(t, http.MethodPut, b, "", nil, http.Header{"X-Amz-Bucket-Object-Lock-Enabled": {"true"}}).want(t, "create bucket with object lock", 200, "")
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	lockHdr := http.Header{"X-Amz-Object-Lock-Mode": {"COMPLIANCE"}, "X-Amz-Object-Lock-Retain-Until-Date": {until.Format(time.RFC3339)}}
	c.do(t, http.MethodPut, b+"/k", "", []byte("evidence"), lockHdr).want(t, "locked put without Content-MD5", 400, "InvalidRequest")
	lockHdr.Set("Content-Md5", md5b64([]byte("evidence")))
	// S3 takes ISO 8601 dates only (the millisecond form is OBS's).
	msHdr := lockHdr.Clone()
	msHdr.Set("X-Amz-Object-Lock-Retain-Until-Date", strconv.FormatInt(until.UnixMilli(), 10))
	c.do(t, http.MethodPut, b+"/ms", "", []byte("evidence"), msHdr).want(t, "S3 lock date in milliseconds", 400, "InvalidArgument")
	r := c.do(t, http.MethodPut, b+"/k", "", []byte("evidence"), lockHdr)
	r.want(t, "locked put", 200, "")
	vid := r.header.Get("X-Amz-Version-Id")
	if vid == "" {
		t.Fatal("no version ID")
	}
	doc := func(s string) ([]byte, http.Header) { return []byte(s), withMD5([]byte(s)) }
	retention := func(mode string, at string) string {
		return `<Retention><Mode>` + mode + `</Mode><RetainUntilDate>` + at + `</RetainUntilDate></Retention>`
	}
	for _, bypass := range []string{"true", "TRUE", "True", "1", "yes"} {
		c.do(t, http.MethodDelete, b+"/k", "versionId="+vid, nil, http.Header{"X-Amz-Bypass-Governance-Retention": {bypass}}).
			want(t, "delete with bypass "+bypass, 403, "AccessDenied")
	}
	earlier := until.Add(-time.Second)
	for name, body := range map[string]string{
		"empty retention":          `<Retention/>`,
		"shortened":                retention("COMPLIANCE", earlier.Format(time.RFC3339)),
		"shortened, other zone":    retention("COMPLIANCE", earlier.In(time.FixedZone("", 14*3600)).Format(time.RFC3339)),
		"shortened, fractional":    retention("COMPLIANCE", until.Add(-time.Millisecond).Format(time.RFC3339Nano)),
		"to governance, extended":  retention("GOVERNANCE", until.Add(time.Hour).Format(time.RFC3339)),
		"lower-case mode extended": retention("compliance", until.Add(time.Hour).Format(time.RFC3339)),
	} {
		data, h := doc(body)
		h.Set("X-Amz-Bypass-Governance-Retention", "true")
		r := c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, h)
		if r.status != 403 && r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	data, h := doc(`<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>`)
	c.do(t, http.MethodPut, b, "object-lock", data, h).want(t, "turning object lock off", 400, "MalformedXML")
	data, h = doc(`<ObjectLockConfiguration></ObjectLockConfiguration>`)
	c.do(t, http.MethodPut, b, "object-lock", data, h).want(t, "empty object lock configuration", 400, "MalformedXML")
	data, _ = doc(retention("COMPLIANCE", until.Add(time.Hour).Format(time.RFC3339)))
	c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, nil).want(t, "retention without Content-MD5", 400, "InvalidRequest")
	data, h = doc(`<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`)
	c.do(t, http.MethodPut, b, "versioning", data, h).want(t, "suspending versioning", 409, "InvalidBucketState")
	data, h = doc(`<Delete><Object><Key>k</Key><VersionId>` + vid + `</VersionId></Object></Delete>`)
	h.Set("X-Amz-Bypass-Governance-Retention", "true")
	r = c.do(t, http.MethodPost, b, "delete", data, h)
	if r.status != 200 || !strings.Contains(string(r.body), "<Code>AccessDenied</Code>") {
		t.Errorf("DeleteObjects naming the version: %d %s", r.status, r.body)
	}
	c.do(t, http.MethodDelete, b, "", nil, nil).want(t, "deleting the bucket", 409, "BucketNotEmpty")
	for _, bad := range []http.Header{
		{"X-Amz-Object-Lock-Mode": {"COMPLIANCE"}, "X-Amz-Object-Lock-Retain-Until-Date": {"2030-13-45T00:00:00Z"}},
		{"X-Amz-Object-Lock-Mode": {"FOREVER"}, "X-Amz-Object-Lock-Retain-Until-Date": {until.Format(time.RFC3339)}},
		{"X-Amz-Object-Lock-Mode": {"COMPLIANCE"}},
		{"X-Amz-Object-Lock-Legal-Hold": {"MAYBE"}},
	} {
		bad.Set("Content-Md5", md5b64([]byte("overwrite")))
		c.do(t, http.MethodPut, b+"/k", "", []byte("overwrite"), bad).want(t, "bad lock headers", 400, "InvalidArgument")
	}

	r = c.do(t, http.MethodGet, b+"/k", "versionId="+vid, nil, nil)
	if r.status != 200 || string(r.body) != "evidence" || r.header.Get("X-Amz-Object-Lock-Mode") != "COMPLIANCE" {
		t.Fatalf("the locked version after the attempts: %d %q %v", r.status, r.body, r.header)
	}
	want := until.Format("2006-01-02T15:04:05.000Z")
	if got := r.header.Get("X-Amz-Object-Lock-Retain-Until-Date"); got != want {
		t.Fatalf("retain-until %q, want %q", got, want)
	}
	// The date read back, sent again, is no shortening; nanoseconds past it
	// are rounded up, not down.
	data, h = doc(retention("COMPLIANCE", want))
	c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, h).want(t, "the same date again", 200, "")
	data, h = doc(retention("COMPLIANCE", until.Add(time.Nanosecond).Format(time.RFC3339Nano)))
	c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, h).want(t, "a nanosecond later", 200, "")
	data, h = doc(retention("COMPLIANCE", want))
	c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, h).want(t, "back from the rounded-up date", 403, "AccessDenied")
	// A date with milliseconds, read back and sent again, is the same date.
	frac := until.Add(1500 * time.Millisecond).Format(time.RFC3339Nano)
	data, h = doc(retention("COMPLIANCE", frac))
	c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, h).want(t, "extended by 1.5s", 200, "")
	r = c.do(t, http.MethodGet, b+"/k", "retention&versionId="+vid, nil, nil)
	var got struct{ Mode, RetainUntilDate string }
	if err := xml.Unmarshal(r.body, &got); err != nil || got.Mode != "COMPLIANCE" {
		t.Fatalf("GetObjectRetention: %v %s", err, r.body)
	}
	data, h = doc(retention("COMPLIANCE", got.RetainUntilDate))
	c.do(t, http.MethodPut, b+"/k", "retention&versionId="+vid, data, h).want(t, "the date read back ("+got.RetainUntilDate+")", 200, "")
}
