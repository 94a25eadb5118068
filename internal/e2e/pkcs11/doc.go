// Package e2epkcs11 proves the PKCS#11 key provider end to end: real
// nodes (internal/testnode) started with --kms pkcs11 on a SoftHSM2 token
// made by the test, driven with aws-sdk-go-v2: every SSE mode and copy
// path, the token removed and put back under a running node, no key in the
// clear in the data directory or the logs, and a data directory copied
// without its HSM that opens nothing. The tests need a cgo build.
package e2epkcs11
