package auth

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

var benchNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// BenchmarkVerifyV4Header: a GetObject as aws-sdk-go-v2 sends it.
func BenchmarkVerifyV4Header(b *testing.B) {
	v := &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(benchNow)}
	r := httptest.NewRequest("GET", "http://127.0.0.1:9000/bkt/dir/object.txt?x-id=GetObject&versionId=3", nil)
	r.Header.Set("Accept-Encoding", "identity")
	r.Header.Set("Amz-Sdk-Invocation-Id", "5a8c7bc0-0bd2-4d4a-8f4e-0d6e2d0b1f8e")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	r.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.6")
	SignV4(r, rtAK, rtSecret, rtRegion, benchNow, unsignedPayload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// streamingBench builds a header-signed aws-chunked PUT of size bytes in
// 64 KiB chunks, the body encoded once.
func streamingBench(b *testing.B, mode string, size int) (*Verifier, *http.Request, []byte) {
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	r := httptest.NewRequest("PUT", "http://127.0.0.1:9000/bkt/big.bin", nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	SignV4(r, rtAK, rtSecret, rtRegion, benchNow, mode)

	c := newTestChain()
	c.amzDate = benchNow.Format(iso8601Basic)
	scope := v4Scope{accessKey: rtAK, date: c.amzDate[:8], region: rtRegion, service: "s3"}
	c.key, c.sc = signingKey(rtSecret, scope), scope.String()
	c.prev = r.Header.Get("Authorization")[len(r.Header.Get("Authorization"))-64:]
	body := c.encode(data, 64<<10, mode != streamingUnsignedTrailer, "x-amz-checksum-crc32:AAAAAA==")
	return &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(benchNow)}, r, body
}

func benchDecode(b *testing.B, mode string) {
	const size = 16 << 20
	v, r, body := streamingBench(b, mode, size)
	buf := make([]byte, 64<<10) // what the sealed writer reads per segment
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		res, err := v.Verify(r, "")
		if err != nil {
			b.Fatal(err)
		}
		n, err := drain(res.Body, buf)
		if err != nil || n != size {
			b.Fatalf("decoded %d bytes: %v", n, err)
		}
	}
}

func drain(r io.Reader, buf []byte) (int, error) {
	total := 0
	for {
		n, err := r.Read(buf)
		total += n
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// BenchmarkChunkedDecode: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, 16 MiB
// in 64 KiB signed chunks, every chunk and the trailer verified.
func BenchmarkChunkedDecode(b *testing.B) { benchDecode(b, streamingSignedTrailer) }

// BenchmarkChunkedUnsignedTrailer: what aws-sdk-go-v2 sends over HTTPS.
func BenchmarkChunkedUnsignedTrailer(b *testing.B) { benchDecode(b, streamingUnsignedTrailer) }

// BenchmarkHashedPayload is the baseline: a plain body checked against a
// signed x-amz-content-sha256, i.e. one SHA-256 pass.
func BenchmarkHashedPayload(b *testing.B) {
	const size = 16 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	r := httptest.NewRequest("PUT", "http://127.0.0.1:9000/bkt/big.bin", nil)
	sum := sha256Hex(string(data))
	SignV4(r, rtAK, rtSecret, rtRegion, benchNow, sum)
	v := &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(benchNow)}
	buf := make([]byte, 64<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), size
		res, err := v.Verify(r, "")
		if err != nil {
			b.Fatal(err)
		}
		if n, err := drain(res.Body, buf); err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}
