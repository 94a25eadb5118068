package server

import (
	"github.com/strongroom-dev/strongroom/internal/iam/policy"
	"github.com/strongroom-dev/strongroom/internal/service"
	"testing"
)

func TestActionsCanonical(t *testing.T) {
	for _, a := range []string{service.ActListAllMyBuckets, service.ActCreateBucket, service.ActDeleteBucket, service.ActListBucket, service.ActGetBucketLocation, service.ActListUploads, service.ActGetObject, service.ActPutObject, service.ActDeleteObject, service.ActListParts, service.ActAbortUpload, service.ActGetEncryption, service.ActPutEncryption, service.ActDeleteEncryption, service.ActGetBucketPolicy, service.ActPutBucketPolicy, service.ActDeleteBucketPolicy, service.ActGetBucketACL, service.ActPutBucketACL, service.ActGetObjectACL, service.ActPutObjectACL, service.ActGetBucketVersioning} {
		if !policy.IsCanonicalAction(a) {
			t.Errorf("%s is not canonical in the policy language", a)
		}
	}
}
