package oss

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
)

var _ dialect.PolicyStatus = Dialect{}

// PutBucketPolicyStatus: OSS answers PutBucketPolicy with 200 OK (the v1
// SDK's SetBucketPolicy refuses anything else); DeleteBucketPolicy keeps
// S3's 204.
func (Dialect) PutBucketPolicyStatus() int { return http.StatusOK }
