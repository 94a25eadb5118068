package e2eoss

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestBucketWorm drives OSS's bucket retention policy through the v2 SDK
// in both signature versions: initiate, get (InProgress), abort; initiate,
// complete, extend (only longer); then a protected object can be read but
// neither deleted nor overwritten (409 FileImmutable, EC 0026-00000005), an
// object older than the period can be deleted, and the bucket cannot.
func TestBucketWorm(t *testing.T) {
	clk := &e2eutil.Clock{}
	n := testnode.Start(t, testnode.Options{TLS: true, Dialects: []string{"oss"}, Now: clk.Now})
	for _, sig := range []oss2.SignatureVersionType{oss2.SignatureVersionV1, oss2.SignatureVersionV4} {
		c := newV2(t, n, n.AccessKey, n.SecretKey, sig)
		t.Run(c.name(), func(t *testing.T) {
			b := bucketName("worm")
			must(t, c.createBucket(b, sseOpt{}))
			clk.Set(-3 * 24 * time.Hour)
			_, err := c.put(b, "old", []byte("old"), sseOpt{})
			must(t, err)
			clk.Set(0)
			_, err = c.put(b, "young", []byte("young"), sseOpt{})
			must(t, err)

			getWorm := func() (*oss2.WormConfiguration, error) {
				res, err := c.c.GetBucketWorm(c.ctx, &oss2.GetBucketWormRequest{Bucket: &b})
				if err != nil {
					return nil, err
				}
				return res.WormConfiguration, nil
			}
			initiate := func(days int32) string {
				t.Helper()
				res, err := c.c.InitiateBucketWorm(c.ctx, &oss2.InitiateBucketWormRequest{Bucket: &b,
					InitiateWormConfiguration: &oss2.InitiateWormConfiguration{RetentionPeriodInDays: oss2.Ptr(days)}})
				must(t, err)
				if oss2.ToString(res.WormId) == "" {
					t.Fatal("no x-oss-worm-id")
				}
				return *res.WormId
			}
			extend := func(id string, days int32) error {
				_, err := c.c.ExtendBucketWorm(c.ctx, &oss2.ExtendBucketWormRequest{Bucket: &b, WormId: &id,
					ExtendWormConfiguration: &oss2.ExtendWormConfiguration{RetentionPeriodInDays: oss2.Ptr(days)}})
				return err
			}
			abort := func() error {
				_, err := c.c.AbortBucketWorm(c.ctx, &oss2.AbortBucketWormRequest{Bucket: &b})
				return err
			}
			deleteObject := func(k string) error {
				_, err := c.c.DeleteObject(c.ctx, &oss2.DeleteObjectRequest{Bucket: &b, Key: &k})
				return err
			}

			_, err = getWorm()
			wantErr(t, err, http.StatusNotFound, "NoSuchWORMConfiguration")

			// Initiated, then aborted while InProgress.
			id := initiate(1)
			w, err := getWorm()
			must(t, err)
			if oss2.ToString(w.WormId) != id || w.State != oss2.BucketWormStateInProgress || w.RetentionPeriodInDays == nil || *w.RetentionPeriodInDays != 1 || oss2.ToString(w.CreationDate) == "" {
				t.Fatalf("get in progress: %+v", w)
			}
			must(t, abort())
			_, err = getWorm()
			wantErr(t, err, http.StatusNotFound, "NoSuchWORMConfiguration")

			// Initiated, completed (Locked), extended.
			id = initiate(1)
			_, err = c.c.CompleteBucketWorm(c.ctx, &oss2.CompleteBucketWormRequest{Bucket: &b, WormId: oss2.Ptr("0000")})
			wantErr(t, err, http.StatusNotFound, "NoSuchWORMConfiguration")
			_, err = c.c.CompleteBucketWorm(c.ctx, &oss2.CompleteBucketWormRequest{Bucket: &b, WormId: &id})
			must(t, err)
			must(t, extend(id, 2))
			wantErr(t, extend(id, 1), http.StatusBadRequest, "InvalidArgument")
			w, err = getWorm()
			must(t, err)
			if w.State != oss2.BucketWormStateLocked || *w.RetentionPeriodInDays != 2 {
				t.Fatalf("get locked: %+v", w)
			}
			wantErr(t, abort(), http.StatusConflict, "InvalidWORMState")

			// The young object: read, not deleted, not overwritten.
			if got, _, err := c.get(b, "young", sseOpt{}, ""); err != nil || string(got) != "young" {
				t.Fatalf("read protected: %q %v", got, err)
			}
			if e := wantErr(t, deleteObject("young"), http.StatusConflict, "FileImmutable"); e.EC != "0026-00000005" {
				t.Errorf("delete refused with EC %q", e.EC)
			}
			_, err = c.put(b, "young", []byte("other"), sseOpt{})
			wantErr(t, err, http.StatusConflict, "FileImmutable")
			_, err = c.copy(b, "old", "young", sseOpt{})
			wantErr(t, err, http.StatusConflict, "FileImmutable")
			if got, _, err := c.get(b, "young", sseOpt{}, ""); err != nil || string(got) != "young" {
				t.Fatalf("read after refusals: %q %v", got, err)
			}
			// The policy is the bucket's: the S3 dialect refuses as well.
			s3c := s3Client(n)
			_, err = s3c.DeleteObject(c.ctx, &s3.DeleteObjectInput{Bucket: &b, Key: oss2.Ptr("young")})
			wantS3Code(t, err, http.StatusConflict, "FileImmutable")
			_, err = s3c.PutObject(c.ctx, &s3.PutObjectInput{Bucket: &b, Key: oss2.Ptr("young"), Body: strings.NewReader("s3")})
			wantS3Code(t, err, http.StatusConflict, "FileImmutable")
			// Older than the period: free to go.
			must(t, deleteObject("old"))
			wantErr(t, c.deleteBucket(b), http.StatusConflict, "BucketNotEmpty")
		})
	}
}

// TestBucketWormV1SDK: the v1 SDK's WORM calls in both signature versions
// (the v1 SDK reads the ID from x-oss-worm-id too).
func TestBucketWormV1SDK(t *testing.T) {
	n := startNode(t)
	for _, sig := range []osssdk.AuthVersionType{osssdk.AuthV1, osssdk.AuthV4} {
		c := newV1(t, n, n.AccessKey, n.SecretKey, sig)
		t.Run(c.name(), func(t *testing.T) {
			b := bucketName("worm1")
			must(t, c.createBucket(b, sseOpt{}))
			_, err := c.put(b, "k", []byte("v"), sseOpt{})
			must(t, err)
			_, err = c.c.GetBucketWorm(b)
			wantErr(t, err, http.StatusNotFound, "NoSuchWORMConfiguration")
			id, err := c.c.InitiateBucketWorm(b, 1)
			must(t, err)
			must(t, c.c.CompleteBucketWorm(b, id))
			must(t, c.c.ExtendBucketWorm(b, 3, id))
			w, err := c.c.GetBucketWorm(b)
			must(t, err)
			if w.WormId != id || w.State != "Locked" || w.RetentionPeriodInDays != 3 {
				t.Fatalf("get: %+v", w)
			}
			wantErr(t, c.bucket(b).DeleteObject("k"), http.StatusConflict, "FileImmutable")
			wantErr(t, c.c.AbortBucketWorm(b), http.StatusConflict, "InvalidWORMState")
		})
	}
}

// wantS3Code asserts an aws-sdk-go-v2 error with the given status and code.
func wantS3Code(t *testing.T, err error, status int, code string) {
	t.Helper()
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &resp) || api.ErrorCode() != code || resp.HTTPStatusCode() != status {
		t.Fatalf("got %v; want %d %s", err, status, code)
	}
}

// TestBucketWormPolicy: another user may read a bucket's retention policy
// only once a bucket policy grants oss:GetBucketWorm, and still may not
// initiate one.
func TestBucketWormPolicy(t *testing.T) {
	n := startNode(t)
	bob, err := n.IAM.CreateUser(context.Background(), "bob")
	must(t, err)
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	bc := newV2(t, n, bob.AccessKey, bob.SecretKey, oss2.SignatureVersionV4)
	b := bucketName("wormpol")
	must(t, c.createBucket(b, sseOpt{}))
	_, err = bc.c.GetBucketWorm(bc.ctx, &oss2.GetBucketWormRequest{Bucket: &b})
	wantErr(t, err, http.StatusForbidden, "AccessDenied")
	_, err = c.c.PutBucketPolicy(c.ctx, &oss2.PutBucketPolicyRequest{Bucket: &b, Body: strings.NewReader(
		`{"Version":"1","Statement":[{"Effect":"Allow","Principal":["bob"],"Action":["oss:GetBucketWorm"],"Resource":["acs:oss:*:*:` + b + `"]}]}`)})
	must(t, err)
	_, err = bc.c.GetBucketWorm(bc.ctx, &oss2.GetBucketWormRequest{Bucket: &b})
	wantErr(t, err, http.StatusNotFound, "NoSuchWORMConfiguration")
	_, err = bc.c.InitiateBucketWorm(bc.ctx, &oss2.InitiateBucketWormRequest{Bucket: &b,
		InitiateWormConfiguration: &oss2.InitiateWormConfiguration{RetentionPeriodInDays: oss2.Ptr(int32(1))}})
	wantErr(t, err, http.StatusForbidden, "AccessDenied")
}
