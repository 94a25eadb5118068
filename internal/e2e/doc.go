// Package e2e proves the S3 API end to end: its tests start real strongroom
// nodes on loopback (internal/testnode) and drive them with real clients,
// aws-sdk-go-v2 (plain HTTP, HTTPS with aws-chunked trailers, virtual-hosted
// style) and minio-go v7, plus raw signed requests for what the SDKs cannot
// send (wrong checksums in trailers, pipelined HEAD errors).
//
// The package holds tests only.
package e2e
