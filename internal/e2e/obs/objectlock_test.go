package e2eobs

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// TestObjectLock: OBS WORM through the OBS SDK in each signing mode. The
// SDK (v3.25.4) signs the object-lock and retention sub-resources but has
// no call for them, so those documents go through its presigned URLs; the
// per-object lock headers go on PutObject as custom headers.
func TestObjectLock(t *testing.T) {
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "worm-"+m.name)
		// The SDK signs x-amz-* in its S3-compatible modes, x-obs-* natively.
		p := "x-amz-"
		if m.native {
			p = "x-obs-"
		}

		wormPut(t, c, b, "", "object-lock", `<ObjectLockConfiguration xmlns="`+obsNS+`"><ObjectLockEnabled>Enabled</ObjectLockEnabled>`+
			`<Rule><DefaultRetention><Days>1</Days><Mode>COMPLIANCE</Mode></DefaultRetention></Rule></ObjectLockConfiguration>`)
		raw := signedGet(t, e, c, m, &obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, SubResource: "object-lock", Expires: 300})
		if !strings.Contains(raw, "<ObjectLockEnabled>Enabled</ObjectLockEnabled>") || !strings.Contains(raw, "<Mode>COMPLIANCE</Mode><Days>1</Days>") {
			t.Fatalf("object lock configuration: %s", raw)
		}
		if st, err := c.GetBucketVersioning(b); err != nil || st.Status != obs.VersioningStatusEnabled {
			t.Fatalf("versioning after enabling WORM: %+v, %v", st, err)
		}

		// The default retention protects a new version.
		out, err := c.PutObject(putInput(b, "default", []byte("worm")))
		if err != nil {
			t.Fatal(err)
		}
		h := head(t, c, b, "default", nil)
		until, err := time.Parse(time.RFC3339, header(&h.BaseModel, "object-lock-retain-until-date"))
		if header(&h.BaseModel, "object-lock-mode") != "COMPLIANCE" || err != nil || time.Until(until) < 23*time.Hour {
			t.Fatalf("default retention: mode %q until %v (%v)", header(&h.BaseModel, "object-lock-mode"), until, err)
		}
		_, err = c.DeleteObject(&obs.DeleteObjectInput{Bucket: b, Key: "default", VersionId: out.VersionId})
		wantObsErr(t, err, http.StatusForbidden, "AccessDenied")

		// x-obs-object-lock-* (x-amz-* in the S3-compatible modes) on PUT.
		later := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
		out, err = withHeaders(c.PutObject, putInput(b, "headers", []byte("worm")), map[string]string{
			p + "object-lock-mode": "COMPLIANCE", p + "object-lock-retain-until-date": later.Format(time.RFC3339),
		})
		if err != nil {
			t.Fatalf("put with lock headers: %v", err)
		}
		h = head(t, c, b, "headers", nil)
		if got := header(&h.BaseModel, "object-lock-retain-until-date"); got == "" || !mustTime(t, got).Equal(later) {
			t.Fatalf("retain-until-date %q; want %s", got, later)
		}
		_, err = c.DeleteObject(&obs.DeleteObjectInput{Bucket: b, Key: "headers", VersionId: out.VersionId})
		wantObsErr(t, err, http.StatusForbidden, "AccessDenied")

		// ?retention with OBS's millisecond timestamp extends; shortening is refused.
		longer := later.Add(24 * time.Hour)
		wormPut(t, c, b, "headers", "retention", retention("COMPLIANCE", longer))
		h = head(t, c, b, "headers", nil)
		if got := header(&h.BaseModel, "object-lock-retain-until-date"); !mustTime(t, got).Equal(longer) {
			t.Fatalf("retain-until-date after extending %q; want %s", got, longer)
		}
		wantObsErr(t, wormPutErr(t, c, b, "headers", "retention", retention("COMPLIANCE", later)), http.StatusForbidden, "AccessDenied")

		// Hostile: removing or turning off, a date past ISO 8601's reach,
		// a multi-object delete naming the locked version.
		wantObsErr(t, wormPutErr(t, c, b, "headers", "retention", "<Retention/>"), http.StatusBadRequest, "MalformedXML")
		wantObsErr(t, wormPutErr(t, c, b, "headers", "retention",
			"<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>9223372036854775807</RetainUntilDate></Retention>"), http.StatusBadRequest, "InvalidArgument")
		wantObsErr(t, wormPutErr(t, c, b, "", "object-lock",
			"<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>"), http.StatusBadRequest, "MalformedXML")
		del, err := c.DeleteObjects(&obs.DeleteObjectsInput{Bucket: b, Objects: []obs.ObjectToDelete{{Key: "headers", VersionId: out.VersionId}}})
		if err != nil || len(del.Errors) != 1 || del.Errors[0].Code != "AccessDenied" {
			t.Fatalf("multi-object delete of a locked version: %+v, %v", del, err)
		}
		if h = head(t, c, b, "headers", nil); !mustTime(t, header(&h.BaseModel, "object-lock-retain-until-date")).Equal(longer) {
			t.Fatalf("retention changed by refused requests: %v", header(&h.BaseModel, "object-lock-retain-until-date"))
		}

		// OBS has only COMPLIANCE and no legal hold.
		wantObsErr(t, wormPutErr(t, c, b, "headers", "retention", retention("GOVERNANCE", longer.Add(time.Hour))), http.StatusBadRequest, "InvalidArgument")
		_, err = withHeaders(c.PutObject, putInput(b, "gov", []byte("x")), map[string]string{
			p + "object-lock-mode": "GOVERNANCE", p + "object-lock-retain-until-date": later.Format(time.RFC3339),
		})
		wantObsErr(t, err, http.StatusBadRequest, "InvalidArgument")
		_, err = withHeaders(c.PutObject, putInput(b, "hold", []byte("x")), map[string]string{p + "object-lock-legal-hold": "ON"})
		wantObsErr(t, err, http.StatusNotImplemented, "NotImplemented")
	})
}

const obsNS = "http://obs.myhuaweicloud.com/doc/2015-06-30/"

func retention(mode string, until time.Time) string {
	return "<Retention><Mode>" + mode + "</Mode><RetainUntilDate>" + strconv.FormatInt(until.UnixMilli(), 10) + "</RetainUntilDate></Retention>"
}

func mustTime(t *testing.T, v string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("date %q: %v", v, err)
	}
	return tm
}

// wormPut PUTs doc to the sub-resource of bucket (or key) through an
// SDK-presigned URL.
func wormPut(t *testing.T, c *obs.ObsClient, bucket, key, sub, doc string) {
	t.Helper()
	if err := wormPutErr(t, c, bucket, key, sub, doc); err != nil {
		t.Fatalf("PUT ?%s: %v", sub, err)
	}
}

func wormPutErr(t *testing.T, c *obs.ObsClient, bucket, key, sub, doc string) error {
	t.Helper()
	put, err := c.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodPut, Bucket: bucket, Key: key, SubResource: obs.SubResourceType(sub), Expires: 300})
	if err != nil {
		t.Fatal(err)
	}
	// Any of the SDK's PUT-a-document-to-a-signed-URL calls sends it as is.
	_, err = c.SetBucketEncryptionWithSignedURL(put.SignedUrl, put.ActualSignedRequestHeaders, strings.NewReader(doc))
	return err
}
