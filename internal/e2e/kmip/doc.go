// Package e2ekmip proves strongroom with its master keys in a KMIP key
// manager end to end: a real PyKMIP server (started once for the package
// with its own certificates), real nodes started with --kms kmip, and
// aws-sdk-go-v2 and the Alibaba OSS v2 SDK as clients. The package holds
// tests only.
package e2ekmip
