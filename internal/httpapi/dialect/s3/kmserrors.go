package s3

import "github.com/strongroom-dev/strongroom/internal/errs"

// kmsOutage answers a KMS outage as S3's retryable 503 ServiceUnavailable
// (the server adds Retry-After): clients and SDKs retry that code, while
// KMS.KMSInternalException reads as a permanent server fault.
func kmsOutage(e *errs.Error) *errs.Error {
	if e.Code == errs.KMSUnavailable.Code {
		return errs.ServiceUnavailable.WithMessage(e.Message)
	}
	return e
}
