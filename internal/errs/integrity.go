package errs

import "net/http"

// DataDamaged is S3's server-side failure (InternalError, 500) with a
// message that says what happened: stored data failed its integrity check,
// and no byte of it was served.
var DataDamaged = def("InternalError", http.StatusInternalServerError, "The stored data of this object failed its integrity check and was not served.")
