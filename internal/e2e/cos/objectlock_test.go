package e2ecos

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestObjectLock: COS object lock through cos-go-sdk-v5. PUT ?object-lock
// turns WORM on with a default retention in days (COMPLIANCE, COS's only
// mode); GET ?object-lock and ?retention report it; PUT ?retention extends
// it; a locked version is refused deletion as through S3.
func TestObjectLock(t *testing.T) {
	e := newEnv(t)
	_, c := e.bucket("worm")

	// An invalid document (COS takes 1-36500 days) turns nothing on.
	_, err := c.Bucket.PutObjectLockConfiguration(e.ctx, &cos.BucketPutObjectLockOptions{
		ObjectLockEnabled: "Enabled", Rule: &cos.ObjectLockRule{Days: 36501},
	})
	wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
	_, _, err = c.Bucket.GetObjectLockConfiguration(e.ctx)
	wantCOSErr(t, err, http.StatusNotFound, "ObjectLockConfigurationNotFoundError")
	if _, err = c.Bucket.PutObjectLockConfiguration(e.ctx, &cos.BucketPutObjectLockOptions{
		ObjectLockEnabled: "Enabled", Rule: &cos.ObjectLockRule{Days: 1},
	}); err != nil {
		t.Fatalf("put object lock configuration: %v", err)
	}
	got, _, err := c.Bucket.GetObjectLockConfiguration(e.ctx)
	if err != nil {
		t.Fatalf("get object lock configuration: %v", err)
	}
	if got.ObjectLockEnabled != "Enabled" || got.Rule == nil || got.Rule.Days != 1 {
		t.Fatalf("object lock configuration = %+v", got)
	}

	resp := e.put(c, "locked", []byte("worm"), nil)
	vid := resp.Header.Get("x-cos-version-id")
	if vid == "" {
		t.Fatal("no x-cos-version-id on a WORM bucket")
	}
	r, _, err := c.Object.GetRetention(e.ctx, "locked", nil)
	if err != nil {
		t.Fatalf("get retention: %v", err)
	}
	until, err := time.Parse(time.RFC3339, r.RetainUntilDate)
	if err != nil || r.Mode != "COMPLIANCE" || time.Until(until) < 23*time.Hour || time.Until(until) > 25*time.Hour {
		t.Fatalf("retention = %+v (%v); want COMPLIANCE for a day", r, err)
	}

	_, err = c.Object.Delete(e.ctx, "locked", &cos.ObjectDeleteOptions{VersionId: vid})
	wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")

	later := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	if _, err := c.Object.PutRetention(e.ctx, "locked", &cos.ObjectPutRetentionOptions{Mode: "COMPLIANCE", RetainUntilDate: later.Format(time.RFC3339)}); err != nil {
		t.Fatalf("extend retention: %v", err)
	}
	if r, _, err = c.Object.GetRetention(e.ctx, "locked", nil); err != nil {
		t.Fatalf("get retention: %v", err)
	}
	if until, err = time.Parse(time.RFC3339, r.RetainUntilDate); err != nil || !until.Equal(later) {
		t.Fatalf("retention after extending = %+v; want until %s", r, later)
	}
	_, err = c.Object.PutRetention(e.ctx, "locked", &cos.ObjectPutRetentionOptions{Mode: "COMPLIANCE", RetainUntilDate: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
	_, err = c.Object.PutRetention(e.ctx, "locked", &cos.ObjectPutRetentionOptions{Mode: "GOVERNANCE", RetainUntilDate: later.Add(time.Hour).Format(time.RFC3339)})
	wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")

	// COS has only COMPLIANCE.
	_, err = c.Bucket.PutObjectLockConfiguration(e.ctx, &cos.BucketPutObjectLockOptions{ObjectLockEnabled: "Enabled"})
	if err != nil {
		t.Fatalf("remove default retention: %v", err)
	}
	if got, _, err = c.Bucket.GetObjectLockConfiguration(e.ctx); err != nil || got.Rule != nil {
		t.Fatalf("configuration without default retention = %+v, %v", got, err)
	}

	// Lock headers COS does not document on PUT Object stay refused, and
	// legal holds (which COS has not) too.
	h := http.Header{}
	h.Set("x-cos-object-lock-mode", "COMPLIANCE")
	h.Set("x-cos-object-lock-retain-until-date", later.Format(time.RFC3339))
	_, err = c.Object.Put(e.ctx, "headers", strings.NewReader("x"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{XOptionHeader: &h}})
	wantCOSErr(t, err, http.StatusNotImplemented, "NotImplemented")
}
