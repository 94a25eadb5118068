package httpapi

import (
	"strconv"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// errObjectLock refuses the object-lock headers where object lock is not
// implemented (the vendor dialects, whose WORM APIs differ): a lock
// silently dropped would let a client believe an object is protected when
// it can be deleted.
var errObjectLock = errs.NotImplemented.WithMessage("Object Lock is not implemented in this dialect: its object-lock headers are refused.")

// checkWriteHeaders reads what a write (PUT, copy, CreateMultipartUpload)
// carries beyond its data: the object lock it asks for (refused where the
// dialect has none) and a storage class the dialect must know.
func checkWriteHeaders(q *request) (*service.LockRequest, error) {
	lock, err := lockHeaders(q)
	if err != nil {
		return nil, err
	}
	if v := q.header("storage-class"); v != "" && !dialect.ValidStorageClass(q.d, v) {
		return nil, errs.InvalidStorageClass
	}
	return lock, nil
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
