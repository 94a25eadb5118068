package e2eobs

import (
	"bytes"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Multipart uploads with encryption headers on initiate (SSE-KMS with SM4,
// SSE-C), upload part (SSE-C) and upload part copy (destination and
// copy-source SSE-C), seed 003's multipart columns.
func TestMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obs-mpu")
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "mpu-"+m.name)
		part1 := randomBytes(5 * MiB)
		tail := randomBytes(100 * KiB)

		// The copy sources: one SSE-C, one plain.
		src := newCustomerKey()
		in := putInput(b, "src-ssec", tail)
		in.SseHeader = src.header()
		if _, err := c.PutObject(in); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(putInput(b, "src-plain", tail)); err != nil {
			t.Fatal(err)
		}

		t.Run("kms SM4", func(t *testing.T) {
			ini := &obs.InitiateMultipartUploadInput{}
			ini.Bucket, ini.Key, ini.SseHeader = b, "mpu-kms", obs.SseKmsHeader{Encryption: "kms", Key: key}
			up, err := withHeaders(c.InitiateMultipartUpload, ini, map[string]string{"x-obs-server-side-data-encryption": "SM4"})
			if err != nil {
				t.Fatal(err)
			}
			want := sse{mode: "kms", data: "SM4", keyID: key}
			wantSSE(t, "initiate", &up.BaseModel, want)
			p1, err := c.UploadPart(&obs.UploadPartInput{Bucket: b, Key: "mpu-kms", UploadId: up.UploadId, PartNumber: 1, Body: bytes.NewReader(part1)})
			if err != nil {
				t.Fatal(err)
			}
			wantSSE(t, "upload part", &p1.BaseModel, want)
			p2, err := c.CopyPart(&obs.CopyPartInput{Bucket: b, Key: "mpu-kms", UploadId: up.UploadId, PartNumber: 2,
				CopySourceBucket: b, CopySourceKey: "src-plain"})
			if err != nil {
				t.Fatal(err)
			}
			done, err := c.CompleteMultipartUpload(&obs.CompleteMultipartUploadInput{Bucket: b, Key: "mpu-kms", UploadId: up.UploadId,
				Parts: []obs.Part{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}})
			if err != nil {
				t.Fatal(err)
			}
			wantSSE(t, "complete", &done.BaseModel, want)
			g := get(t, c, b, "mpu-kms", nil, append(append([]byte{}, part1...), tail...))
			wantSSE(t, "get", &g.BaseModel, want)
		})

		t.Run("SSE-C with part copy", func(t *testing.T) {
			k := newCustomerKey()
			ini := &obs.InitiateMultipartUploadInput{}
			ini.Bucket, ini.Key, ini.SseHeader = b, "mpu-ssec", k.header()
			up, err := c.InitiateMultipartUpload(ini)
			if err != nil {
				t.Fatal(err)
			}
			want := sse{custAlg: "AES256", custMD5: k.md5}
			wantSSE(t, "initiate", &up.BaseModel, want)

			// A part without the upload's key is refused.
			_, err = c.UploadPart(&obs.UploadPartInput{Bucket: b, Key: "mpu-ssec", UploadId: up.UploadId, PartNumber: 1, Body: bytes.NewReader(part1[:KiB])})
			wantObsErr(t, err, 400, "InvalidRequest")

			p1, err := c.UploadPart(&obs.UploadPartInput{Bucket: b, Key: "mpu-ssec", UploadId: up.UploadId, PartNumber: 1,
				SseHeader: k.header(), Body: bytes.NewReader(part1)})
			if err != nil {
				t.Fatal(err)
			}
			wantSSE(t, "upload part", &p1.BaseModel, want)
			cpIn := &obs.CopyPartInput{Bucket: b, Key: "mpu-ssec", UploadId: up.UploadId, PartNumber: 2,
				CopySourceBucket: b, CopySourceKey: "src-ssec",
				SseHeader: k.header(), SourceSseHeader: src.header()}
			p2, err := c.CopyPart(cpIn)
			if err != nil {
				t.Fatal(err)
			}
			wantSSE(t, "upload part copy", &p2.BaseModel, want)
			// Without the source's key.
			cpIn.PartNumber, cpIn.SourceSseHeader = 3, nil
			_, err = c.CopyPart(cpIn)
			wantObsErr(t, err, 400, "InvalidRequest")

			if _, err := c.CompleteMultipartUpload(&obs.CompleteMultipartUploadInput{Bucket: b, Key: "mpu-ssec", UploadId: up.UploadId,
				Parts: []obs.Part{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}}); err != nil {
				t.Fatal(err)
			}
			_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "mpu-ssec"})
			wantObsErr(t, err, 400, "InvalidRequest")
			g := get(t, c, b, "mpu-ssec", k.header(), append(append([]byte{}, part1...), tail...))
			wantSSE(t, "get", &g.BaseModel, want)
		})
	})
}
