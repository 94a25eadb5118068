package errs

import "net/http"

// Browser form uploads (POST Object).
var (
	MalformedPOSTRequest         = def("MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data.")
	MaxPostPreDataLengthExceeded = def("MaxPostPreDataLengthExceededError", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large.")
	InvalidPolicyDocument        = def("InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document.")
)
