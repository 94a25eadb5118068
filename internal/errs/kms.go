package errs

import "net/http"

// Errors of key permissions and key lifecycle (crypto-shredding).
var (
	// KMSAccessDenied: the caller may not use the KMS key for this
	// operation. S3 answers a KMS permission failure with its plain 403
	// AccessDenied (and a message naming the KMS action), so the code is
	// AccessDenied in every dialect.
	KMSAccessDenied = def("AccessDenied", http.StatusForbidden, "Access Denied: the caller is not authorized to use the KMS key.")
	// KMSInvalidState: the key is pending deletion or destroyed. S3 passes
	// KMS's KMSInvalidStateException through as KMS.KMSInvalidStateException.
	KMSInvalidState = def("KMS.KMSInvalidStateException", http.StatusBadRequest, "The KMS key is pending deletion.")
)
