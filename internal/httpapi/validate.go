package httpapi

import (
	"strconv"

	"strongroom/internal/errs"
	"strongroom/internal/httpapi/dialect"
)

// errObjectLock refuses the object-lock headers: retention and legal holds
// are not implemented, and a lock silently dropped would let a client
// believe an object is protected when it can be deleted.
var errObjectLock = errs.NotImplemented.WithMessage("Object Lock is not implemented: x-amz-object-lock-* and x-amz-bucket-object-lock-enabled are refused.")

// refuseObjectLock refuses object-lock headers, under the dialect's
// prefixes.
func refuseObjectLock(q *request) error {
	for _, name := range []string{"object-lock-mode", "object-lock-retain-until-date", "object-lock-legal-hold"} {
		if q.header(name) != "" {
			return errObjectLock
		}
	}
	return nil
}

// checkWriteHeaders refuses what a write (PUT, copy, CreateMultipartUpload)
// carries that the server would otherwise drop: object-lock headers and
// a storage class the dialect does not know.
func checkWriteHeaders(q *request) error {
	if err := refuseObjectLock(q); err != nil {
		return err
	}
	if v := q.header("storage-class"); v != "" && !dialect.ValidStorageClass(q.d, v) {
		return errs.InvalidStorageClass
	}
	return nil
}

// intParam parses a non-negative integer query parameter (def when
// absent) with S3's messages for one that is not.
func intParam(q *request, name string, def int) (int, error) {
	v, ok := q.query[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 32)
	switch {
	case err != nil:
		return 0, errs.InvalidArgument.WithMessage("Provided " + name + " not an integer or within integer range")
	case n < 0:
		return 0, errs.InvalidArgument.WithMessage("Argument " + name + " must be an integer between 0 and 2147483647")
	}
	return int(n), nil
}
