package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3ObjectLock drives object lock (WORM) through aws-sdk-go-v2:
// COMPLIANCE refuses root, GOVERNANCE gives way only to the bypass header
// with s3:BypassGovernanceRetention, legal holds, default retention, and a
// bucket holding locked versions cannot be deleted.
func TestS3ObjectLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mode{name: "http"})
	c := e.root(t)
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e *env, c *s3.Client)
	}{
		{"Configuration", lockConfiguration},
		{"Compliance", lockCompliance},
		{"Governance", lockGovernance},
		{"LegalHold", lockLegalHold},
		{"DefaultRetention", lockDefaultRetention},
		{"DeleteObjects", lockDeleteObjects},
		{"BucketDelete", lockBucketDelete},
		{"WithoutObjectLock", lockWithout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, e, c)
		})
	}
}

// lockBucket creates a bucket with object lock enabled.
func lockBucket(t *testing.T, c *s3.Client, prefix string) string {
	t.Helper()
	b := bucketName(prefix)
	must(c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &b, ObjectLockEnabledForBucket: aws.Bool(true)}))(t)
	return b
}

// putLocked writes key with a retention of mode until d from now and
// returns its version ID.
func putLocked(t *testing.T, c *s3.Client, b, key string, mode types.ObjectLockMode, d time.Duration) string {
	t.Helper()
	out := must(c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &b, Key: &key, Body: strings.NewReader("worm"),
		ObjectLockMode: mode, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(d))}))(t)
	return aws.ToString(out.VersionId)
}

func lockConfiguration(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockcfg")
	v := must(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &b}))(t)
	if v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning %q after creating with object lock, want Enabled", v.Status)
	}
	got := must(c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &b}))(t)
	if got.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled || got.ObjectLockConfiguration.Rule != nil {
		t.Fatalf("configuration %+v", got.ObjectLockConfiguration)
	}
	must(c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &b, ObjectLockConfiguration: &types.ObjectLockConfiguration{
		ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule:              &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Years: aws.Int32(2)}},
	}}))(t)
	got = must(c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &b}))(t)
	if r := got.ObjectLockConfiguration.Rule; r == nil || r.DefaultRetention.Mode != types.ObjectLockRetentionModeGovernance || aws.ToInt32(r.DefaultRetention.Years) != 2 {
		t.Fatalf("rule %+v", got.ObjectLockConfiguration.Rule)
	}
	// Days and Years together: MalformedXML.
	_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &b, ObjectLockConfiguration: &types.ObjectLockConfiguration{
		ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule:              &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Years: aws.Int32(2), Days: aws.Int32(1)}},
	}})
	wantAPIError(t, err, http.StatusBadRequest, "MalformedXML")
	// Versioning cannot be suspended once object lock is on.
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	wantAPIError(t, err, http.StatusConflict, "InvalidBucketState")

	// An unversioned bucket: no configuration, and none can be put
	// until versioning is Enabled (then it can, as S3 now allows).
	plain := newBucket(t, c, "lockplain")
	_, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &plain})
	wantAPIError(t, err, http.StatusNotFound, "ObjectLockConfigurationNotFoundError")
	enable := &s3.PutObjectLockConfigurationInput{Bucket: &plain, ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}}
	_, err = c.PutObjectLockConfiguration(ctx, enable)
	wantAPIError(t, err, http.StatusConflict, "InvalidBucketState")
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &plain, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	must(c.PutObjectLockConfiguration(ctx, enable))(t)
}

func lockCompliance(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockcomp")
	vid := putLocked(t, c, b, "k", types.ObjectLockModeCompliance, time.Hour)

	head := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	if head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil {
		t.Fatalf("HEAD lock mode %q until %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate)
	}
	ret := must(c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid}))(t)
	if ret.Retention.Mode != types.ObjectLockRetentionModeCompliance {
		t.Fatalf("retention %+v", ret.Retention)
	}
	until := *ret.Retention.RetainUntilDate

	// Root may not delete the version, bypass header or not.
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid, BypassGovernanceRetention: aws.Bool(true)})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	// Nor shorten it, nor make it GOVERNANCE, nor remove it.
	for _, r := range []*types.ObjectLockRetention{
		{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.Add(-time.Minute))},
		{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(until.Add(time.Hour))},
		{},
	} {
		_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid, Retention: r, BypassGovernanceRetention: aws.Bool(true)})
		wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	}
	// Extending it is allowed.
	must(c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid,
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.Add(time.Hour))}}))(t)
	// A plain DELETE only adds a delete marker, which S3 allows.
	del := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	if !aws.ToBool(del.DeleteMarker) {
		t.Fatal("plain DELETE of a locked key did not add a delete marker")
	}
	// The version is still there.
	must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid}))(t)
	// A date in the past is refused.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("past"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(-time.Hour))})
	wantAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
}

func lockGovernance(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockgov")
	user := "worm-" + e.name
	ak, sk := e.user(t, user)
	u := e.s3Client(t, ak, sk)
	principal := `{"AWS":"arn:aws:iam::strongroom:user/` + user + `"}`
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":` + principal + `,"Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"]},
	 {"Effect":"Deny","Principal":` + principal + `,"Action":"s3:BypassGovernanceRetention","Resource":"arn:aws:s3:::` + b + `/*"}]}`
	must(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &policy}))(t)
	vid := putLocked(t, u, b, "k", types.ObjectLockModeGovernance, time.Hour)
	k := aws.String("k")

	// Without the header: refused, root included.
	for _, cl := range []*s3.Client{c, u} {
		_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: k, VersionId: &vid})
		wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
		_, err = cl.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &b, Key: k, VersionId: &vid,
			Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Minute))}})
		wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	}
	// With the header but without the permission: refused.
	_, err := u.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: k, VersionId: &vid, BypassGovernanceRetention: aws.Bool(true)})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	_, err = u.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &b, Key: k, VersionId: &vid, Retention: &types.ObjectLockRetention{}, BypassGovernanceRetention: aws.Bool(true)})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	// Extending needs no bypass.
	must(u.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &b, Key: k, VersionId: &vid,
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(2 * time.Hour))}}))(t)
	// With both (root holds the permission): shortening, then deleting.
	must(c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &b, Key: k, VersionId: &vid, BypassGovernanceRetention: aws.Bool(true),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Minute))}}))(t)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: k, VersionId: &vid, BypassGovernanceRetention: aws.Bool(true)}))(t)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: k, VersionId: &vid})
	wantAPIError(t, err, http.StatusNotFound, "NotFound")

	// An expired retention no longer protects.
	v2 := putLocked(t, c, b, "short", types.ObjectLockModeGovernance, 1500*time.Millisecond)
	time.Sleep(2 * time.Second)
	must(u.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("short"), VersionId: &v2}))(t)
}

func lockLegalHold(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockhold")
	k := aws.String("k")
	out := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: k, Body: strings.NewReader("x"), ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn}))(t)
	vid := out.VersionId
	head := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: k}))(t)
	if head.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("HEAD legal hold %q", head.ObjectLockLegalHoldStatus)
	}
	// A reader without s3:GetObjectLegalHold is not told, as in S3.
	user := "holdreader-" + e.name
	ak, sk := e.user(t, user)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::strongroom:user/` + user + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`
	must(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &policy}))(t)
	head = must(e.s3Client(t, ak, sk).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: k}))(t)
	if head.ObjectLockLegalHoldStatus != "" {
		t.Fatalf("legal hold %q reported to a reader without s3:GetObjectLegalHold", head.ObjectLockLegalHoldStatus)
	}
	_, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &b, Key: k, VersionId: vid})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchObjectLockConfiguration")
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: k, VersionId: vid, BypassGovernanceRetention: aws.Bool(true)})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	must(c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: &b, Key: k, VersionId: vid, LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff}}))(t)
	got := must(c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: &b, Key: k, VersionId: vid}))(t)
	if got.LegalHold.Status != types.ObjectLockLegalHoldStatusOff {
		t.Fatalf("legal hold %q after removing it", got.LegalHold.Status)
	}
	must(c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: &b, Key: k, VersionId: vid, LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn}}))(t)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: k, VersionId: vid})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	must(c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: &b, Key: k, VersionId: vid, LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff}}))(t)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: k, VersionId: vid}))(t)
}

func lockDefaultRetention(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockdef")
	must(c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &b, ObjectLockConfiguration: &types.ObjectLockConfiguration{
		ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule:              &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Days: aws.Int32(3)}},
	}}))(t)
	check := func(key string, vid *string) {
		t.Helper()
		r := must(c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &b, Key: &key, VersionId: vid}))(t)
		want := time.Now().AddDate(0, 0, 3)
		if r.Retention.Mode != types.ObjectLockRetentionModeCompliance || r.Retention.RetainUntilDate.Sub(want).Abs() > time.Minute {
			t.Errorf("%s: default retention %q until %v, want COMPLIANCE until ~%v", key, r.Retention.Mode, r.Retention.RetainUntilDate, want)
		}
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: &key, VersionId: vid})
		wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
	}
	out := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("put"), Body: strings.NewReader("p")}))(t)
	check("put", out.VersionId)
	cp := must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy"), CopySource: aws.String(b + "/put")}))(t)
	check("copy", cp.VersionId)
	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp")}))(t)
	part := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("m")}))(t)
	done := must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}))(t)
	check("mp", done.VersionId)

	// An explicit retention wins over the default.
	up = must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mpgov"),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))}))(t)
	part = must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mpgov"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("m")}))(t)
	done = must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mpgov"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}))(t)
	r := must(c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &b, Key: aws.String("mpgov"), VersionId: done.VersionId}))(t)
	if r.Retention.Mode != types.ObjectLockRetentionModeGovernance {
		t.Fatalf("multipart upload's explicit retention %q, want GOVERNANCE", r.Retention.Mode)
	}
}

func lockDeleteObjects(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockmulti")
	locked := putLocked(t, c, b, "locked", types.ObjectLockModeGovernance, time.Hour)
	free := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("free"), Body: strings.NewReader("f")}))(t).VersionId
	out := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("locked"), VersionId: &locked}, {Key: aws.String("free"), VersionId: free},
	}}}))(t)
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "locked" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("errors %+v, want AccessDenied for locked", out.Errors)
	}
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "free" {
		t.Fatalf("deleted %+v, want free", out.Deleted)
	}
	out = must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &b, BypassGovernanceRetention: aws.Bool(true), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("locked"), VersionId: &locked},
	}}}))(t)
	if len(out.Errors) != 0 || len(out.Deleted) != 1 {
		t.Fatalf("with bypass: deleted %+v errors %+v", out.Deleted, out.Errors)
	}
}

func lockBucketDelete(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := lockBucket(t, c, "lockrb")
	vid := putLocked(t, c, b, "k", types.ObjectLockModeCompliance, time.Hour)
	// Even with the current version hidden behind a delete marker and the
	// marker gone, the locked version keeps the bucket.
	del := must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: del.VersionId}))(t)
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &b})
	wantAPIError(t, err, http.StatusConflict, "BucketNotEmpty")
	must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &vid}))(t)
}

// lockWithout: object lock calls on a bucket without it.
func lockWithout(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	b := newBucket(t, c, "locknone")
	put(t, c, b, "k", []byte("x"))
	_, err := c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: &b, Key: aws.String("k"), LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn}})
	wantAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
	_, err = c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &b, Key: aws.String("k")})
	wantAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
	// With object lock, a version never given a legal hold has none to report.
	lb := lockBucket(t, c, "locknohold")
	put(t, c, lb, "k", []byte("x"))
	_, err = c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: &lb, Key: aws.String("k")})
	wantAPIError(t, err, http.StatusNotFound, "NoSuchObjectLockConfiguration")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("k2"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))})
	wantAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
}
