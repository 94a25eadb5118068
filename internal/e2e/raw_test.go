package e2e

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Raw signed requests prove what the SDKs cannot be made to send or do not
// expose: wrong checksums in headers and trailers, a lying payload hash,
// the exact error document, the exact listing encoding, HEAD errors on
// the wire.

// rawEnv is a plain-HTTP node with a raw-request helper.
type rawEnv struct {
	*env
	t *testing.T
}

func newRawEnv(t *testing.T) *rawEnv {
	t.Helper()
	return &rawEnv{env: newEnv(t, mode{name: "raw"}), t: t}
}

// escapeKey percent-encodes a key for a request path, segment by segment.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// req signs and runs a root request; hdr may be nil.
func (r *rawEnv) req(t *testing.T, method, path, rawQuery string, body []byte, hdr http.Header, payloadHash string) (*http.Response, []byte) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	return do(t, r.http, signedRequest(t, r.node.URL, r.node.AccessKey, r.node.SecretKey, method, path, rawQuery, body, hdr, payloadHash))
}

func (r *rawEnv) bucket(t *testing.T, prefix string) string {
	t.Helper()
	b := bucketName(prefix)
	if resp, body := r.req(t, http.MethodPut, "/"+b, "", nil, nil, ""); resp.StatusCode != 200 {
		t.Fatalf("create bucket %s: %d %s", b, resp.StatusCode, body)
	}
	return b
}

func (r *rawEnv) put(t *testing.T, bucket, key string, body []byte, hdr http.Header) {
	t.Helper()
	if resp, rb := r.req(t, http.MethodPut, "/"+bucket+"/"+escapeKey(key), "", body, hdr, ""); resp.StatusCode != 200 {
		t.Fatalf("PUT %s/%s: %d %s", bucket, key, resp.StatusCode, rb)
	}
}

// wantError asserts an S3 error response: status, code, and a well-formed
// error document whose RequestId matches the x-amz-request-id header.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) s3ErrorXML {
	t.Helper()
	var x s3ErrorXML
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d (%s)", resp.StatusCode, status, body)
	}
	if err := xml.Unmarshal(body, &x); err != nil {
		t.Errorf("error body %q: %v", body, err)
		return x
	}
	if x.Code != code {
		t.Errorf("code %q, want %q (%s)", x.Code, code, x.Message)
	}
	if x.Message == "" {
		t.Error("error without a Message")
	}
	if id := resp.Header.Get("X-Amz-Request-Id"); id == "" || x.RequestId != id {
		t.Errorf("RequestId %q, header %q", x.RequestId, id)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("error Content-Type %q", ct)
	}
	return x
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// crc64nvme is CRC-64/NVME (reflected poly 0x9a6c9329ac4bc9b5, init and
// xorout all ones: what hash/crc64 does), base64 big-endian as S3 sends it.
func crc64nvme(b []byte) string {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], crc64.Checksum(b, crc64.MakeTable(0x9a6c9329ac4bc9b5)))
	return b64(s[:])
}

func sha1b64(b []byte) string {
	s := sha1.Sum(b)
	return b64(s[:])
}

// awsChunkedTrailer frames body as aws-chunked with one trailer line, the
// way aws-sdk-go-v2 does over HTTPS.
func awsChunkedTrailer(body []byte, trailer, value string) []byte {
	return []byte(fmt.Sprintf("%x\r\n%s\r\n0\r\n%s:%s\r\n\r\n", len(body), body, trailer, value))
}

func TestRaw(t *testing.T) {
	t.Parallel()
	r := newRawEnv(t)

	t.Run("ErrorDocument", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "errdoc")
		resp, body := r.req(t, http.MethodGet, "/"+b+"/no%20such/key", "", nil, nil, "")
		x := wantError(t, resp, body, 404, "NoSuchKey")
		if x.Resource != "/"+b+"/no such/key" {
			t.Errorf("Resource %q", x.Resource)
		}
		resp, body = r.req(t, http.MethodGet, "/"+bucketName("nob"), "list-type=2", nil, nil, "")
		wantError(t, resp, body, 404, "NoSuchBucket")
		// Anonymous requests are refused unless a policy allows them.
		resp, body = do(t, r.http, must(http.NewRequest(http.MethodGet, r.node.URL+"/"+b+"?list-type=2", nil))(t))
		wantError(t, resp, body, 403, "AccessDenied")
		resp, body = do(t, r.http, must(http.NewRequest(http.MethodPut, r.node.URL+"/"+b+"/anon", strings.NewReader("x")))(t))
		wantError(t, resp, body, 403, "AccessDenied")
	})

	t.Run("SignatureErrors", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "sigerr")
		req := signedRequest(t, r.node.URL, r.node.AccessKey, r.node.SecretKey+"x", http.MethodGet, "/"+b, "list-type=2", nil, http.Header{}, "")
		resp, body := do(t, r.http, req)
		wantError(t, resp, body, 403, "SignatureDoesNotMatch")
		req = signedRequest(t, r.node.URL, "AKIAUNKNOWNKEY000000", r.node.SecretKey, http.MethodGet, "/"+b, "list-type=2", nil, http.Header{}, "")
		resp, body = do(t, r.http, req)
		wantError(t, resp, body, 403, "InvalidAccessKeyId")
		req = signedRequestAt(t, time.Now().Add(-time.Hour), r.node.URL, r.node.AccessKey, r.node.SecretKey, http.MethodGet, "/"+b, "list-type=2", nil, http.Header{}, "")
		resp, body = do(t, r.http, req)
		wantError(t, resp, body, 403, "RequestTimeTooSkewed")
		// A signed header changed in transit.
		req = signedRequest(t, r.node.URL, r.node.AccessKey, r.node.SecretKey, http.MethodPut, "/"+b+"/k", "", []byte("x"), http.Header{"X-Amz-Meta-A": {"1"}}, "")
		req.Header.Set("X-Amz-Meta-A", "2")
		resp, body = do(t, r.http, req)
		wantError(t, resp, body, 403, "SignatureDoesNotMatch")
	})

	t.Run("PayloadHashMismatch", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "sha")
		resp, body := r.req(t, http.MethodPut, "/"+b+"/k", "", []byte("actual body"), nil, sha256hex([]byte("claimed body")))
		wantError(t, resp, body, 400, "XAmzContentSHA256Mismatch")
		resp, body = r.req(t, http.MethodHead, "/"+b+"/k", "", nil, nil, "")
		if resp.StatusCode != 404 || len(body) != 0 {
			t.Errorf("object stored despite the hash mismatch: %d", resp.StatusCode)
		}
		// UNSIGNED-PAYLOAD is accepted.
		resp, body = r.req(t, http.MethodPut, "/"+b+"/u", "", []byte("unsigned"), nil, "UNSIGNED-PAYLOAD")
		if resp.StatusCode != 200 {
			t.Errorf("UNSIGNED-PAYLOAD PUT: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("ChecksumHeaders", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "ckh")
		body := []byte("checksummed body")
		other := []byte("another body")
		for _, tc := range []struct {
			alg  string
			sum  func([]byte) string
			name string
		}{
			{"crc32", crc32b64, "X-Amz-Checksum-Crc32"},
			{"crc32c", crc32cb64, "X-Amz-Checksum-Crc32c"},
			{"crc64nvme", crc64nvme, "X-Amz-Checksum-Crc64nvme"},
			{"sha1", sha1b64, "X-Amz-Checksum-Sha1"},
			{"sha256", sha256b64, "X-Amz-Checksum-Sha256"},
		} {
			t.Run(tc.alg, func(t *testing.T) {
				key := "obj-" + tc.alg
				resp, rb := r.req(t, http.MethodPut, "/"+b+"/"+key, "", body, http.Header{tc.name: {tc.sum(other)}}, "")
				wantError(t, resp, rb, 400, "BadDigest")
				resp, rb = r.req(t, http.MethodPut, "/"+b+"/"+key, "", body, http.Header{tc.name: {tc.sum(body)}}, "UNSIGNED-PAYLOAD")
				if resp.StatusCode != 200 || resp.Header.Get(tc.name) != tc.sum(body) {
					t.Fatalf("PUT with a correct %s: %d, echoed %q, want %q (%s)", tc.alg, resp.StatusCode, resp.Header.Get(tc.name), tc.sum(body), rb)
				}
				// Returned on full GET and HEAD in checksum mode only.
				mode := http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}
				resp, rb = r.req(t, http.MethodGet, "/"+b+"/"+key, "", nil, mode, "")
				if resp.Header.Get(tc.name) != tc.sum(body) || string(rb) != string(body) {
					t.Errorf("GET in checksum mode: %s %q", tc.name, resp.Header.Get(tc.name))
				}
				resp, _ = r.req(t, http.MethodHead, "/"+b+"/"+key, "", nil, mode, "")
				if resp.Header.Get(tc.name) != tc.sum(body) {
					t.Errorf("HEAD in checksum mode: %s %q", tc.name, resp.Header.Get(tc.name))
				}
				resp, _ = r.req(t, http.MethodGet, "/"+b+"/"+key, "", nil, nil, "")
				if v := resp.Header.Get(tc.name); v != "" {
					t.Errorf("GET without checksum mode returned %s %q", tc.name, v)
				}
				resp, rb = r.req(t, http.MethodGet, "/"+b+"/"+key, "", nil, http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}, "Range": {"bytes=1-3"}}, "")
				if resp.StatusCode != 206 || string(rb) != string(body[1:4]) {
					t.Errorf("range GET: %d %q", resp.StatusCode, rb)
				}
				for k := range resp.Header {
					if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
						t.Errorf("range GET returned %s", k)
					}
				}
			})
		}
		// The CRC-64/NVME helper agrees with the published check value.
		var chk [8]byte
		binary.BigEndian.PutUint64(chk[:], 0xAE8B14860A799888)
		if crc64nvme([]byte("123456789")) != b64(chk[:]) {
			t.Error("crc64nvme helper is wrong")
		}
		// Two checksum headers are refused.
		resp, rb := r.req(t, http.MethodPut, "/"+b+"/two", "", body, http.Header{"X-Amz-Checksum-Crc32": {crc32b64(body)}, "X-Amz-Checksum-Sha256": {sha256b64(body)}}, "")
		wantError(t, resp, rb, 400, "InvalidRequest")
		// Content-MD5 and a checksum are both checked.
		resp, rb = r.req(t, http.MethodPut, "/"+b+"/both", "", body, http.Header{"Content-Md5": {md5b64(other)}, "X-Amz-Checksum-Crc32": {crc32b64(body)}}, "")
		wantError(t, resp, rb, 400, "BadDigest")
		resp, rb = r.req(t, http.MethodPut, "/"+b+"/both", "", body, http.Header{"Content-Md5": {md5b64(body)}, "X-Amz-Checksum-Crc32": {crc32b64(other)}}, "")
		wantError(t, resp, rb, 400, "BadDigest")
	})

	t.Run("ChecksumTrailer", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "ckt")
		body := []byte("hello trailer")
		send := func(key, value string) (*http.Response, []byte) {
			enc := awsChunkedTrailer(body, "x-amz-checksum-crc32", value)
			hdr := http.Header{
				"Content-Encoding":             {"aws-chunked"},
				"X-Amz-Decoded-Content-Length": {strconv.Itoa(len(body))},
				"X-Amz-Trailer":                {"x-amz-checksum-crc32"},
			}
			return r.req(t, http.MethodPut, "/"+b+"/"+key, "", enc, hdr, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		}
		resp, rb := send("bad", crc32b64([]byte("not the body")))
		wantError(t, resp, rb, 400, "BadDigest")
		resp, _ = r.req(t, http.MethodHead, "/"+b+"/bad", "", nil, nil, "")
		if resp.StatusCode != 404 {
			t.Errorf("object stored despite a bad trailer: %d", resp.StatusCode)
		}
		// aws-chunked names its trailer x-amz-trailer in every dialect; a
		// (signed) vendor header that selects another dialect must not
		// let the trailer go unchecked.
		for _, vendor := range []string{"X-Oss-Meta-Via", "X-Cos-Meta-Via", "X-Obs-Meta-Via"} {
			enc := awsChunkedTrailer(body, "x-amz-checksum-crc32", crc32b64([]byte("not the body")))
			hdr := http.Header{
				"Content-Encoding":             {"aws-chunked"},
				"X-Amz-Decoded-Content-Length": {strconv.Itoa(len(body))},
				"X-Amz-Trailer":                {"x-amz-checksum-crc32"},
				vendor:                         {"1"},
			}
			// A plain client: the answer is in the vendor's dialect, which
			// the S3 wire check would refuse.
			resp, rb := do(t, &http.Client{}, signedRequest(t, r.node.URL, r.node.AccessKey, r.node.SecretKey, http.MethodPut, "/"+b+"/bad-"+vendor, "", enc, hdr, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
			if resp.StatusCode != 400 {
				t.Errorf("%s: bad trailer accepted: %d %s", vendor, resp.StatusCode, rb)
			}
			if resp, _ := r.req(t, http.MethodHead, "/"+b+"/bad-"+vendor, "", nil, nil, ""); resp.StatusCode != 404 {
				t.Errorf("%s: object stored despite a bad trailer: %d", vendor, resp.StatusCode)
			}
		}
		resp, rb = send("good", crc32b64(body))
		if resp.StatusCode != 200 {
			t.Fatalf("good trailer: %d %s", resp.StatusCode, rb)
		}
		if resp.Header.Get("X-Amz-Checksum-Crc32") != crc32b64(body) {
			t.Errorf("PUT echoed crc32 %q", resp.Header.Get("X-Amz-Checksum-Crc32"))
		}
		resp, rb = r.req(t, http.MethodGet, "/"+b+"/good", "", nil, http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}, "")
		if string(rb) != string(body) || resp.Header.Get("X-Amz-Checksum-Crc32") != crc32b64(body) || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET: %q crc32 %q encoding %q", rb, resp.Header.Get("X-Amz-Checksum-Crc32"), resp.Header.Get("Content-Encoding"))
		}
		// Truncated framing is refused, not stored.
		enc := awsChunkedTrailer(body, "x-amz-checksum-crc32", crc32b64(body))
		hdr := http.Header{"Content-Encoding": {"aws-chunked"}, "X-Amz-Decoded-Content-Length": {strconv.Itoa(len(body) + 5)}, "X-Amz-Trailer": {"x-amz-checksum-crc32"}}
		resp, rb = r.req(t, http.MethodPut, "/"+b+"/short", "", enc, hdr, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		if resp.StatusCode != 400 {
			t.Errorf("decoded length mismatch: %d %s", resp.StatusCode, rb)
		}
		resp, _ = r.req(t, http.MethodHead, "/"+b+"/short", "", nil, nil, "")
		if resp.StatusCode != 404 {
			t.Errorf("object stored despite a length mismatch: %d", resp.StatusCode)
		}
	})

	t.Run("DefaultContentType", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "ctype")
		r.put(t, b, "untyped", []byte("x"), nil)
		resp, _ := r.req(t, http.MethodGet, "/"+b+"/untyped", "", nil, nil, "")
		if ct := resp.Header.Get("Content-Type"); ct != "binary/octet-stream" {
			t.Errorf("Content-Type %q, want binary/octet-stream", ct)
		}
		if resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("ETag") != quoted(md5hex([]byte("x"))) {
			t.Errorf("GET headers %v", resp.Header)
		}
	})

	t.Run("ListEncodingURL", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "rawenc")
		r.put(t, b, "enc/with space ü.txt", []byte("x"), nil)
		r.put(t, b, "enc/sub dir/a+b", []byte("x"), nil)
		for _, q := range []string{"list-type=2&prefix=enc%2F&encoding-type=url", "prefix=enc%2F&encoding-type=url"} {
			resp, body := r.req(t, http.MethodGet, "/"+b, q, nil, nil, "")
			s := string(body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", q, resp.StatusCode, s)
			}
			for _, want := range []string{"<Key>enc/with%20space%20%C3%BC.txt</Key>", "<Key>enc/sub%20dir/a%2Bb</Key>", "<EncodingType>url</EncodingType>"} {
				if !strings.Contains(s, want) {
					t.Errorf("%s: no %s in %s", q, want, s)
				}
			}
		}
		resp, body := r.req(t, http.MethodGet, "/"+b, "list-type=2&prefix=enc%2F&delimiter=%2F&encoding-type=url", nil, nil, "")
		if !strings.Contains(string(body), "<Prefix>enc/sub%20dir/</Prefix>") {
			t.Errorf("encoded common prefix missing: %d %s", resp.StatusCode, body)
		}
		// Without encoding-type the keys are plain XML text.
		_, body = r.req(t, http.MethodGet, "/"+b, "list-type=2&prefix=enc%2F", nil, nil, "")
		if !strings.Contains(string(body), "<Key>enc/with space ü.txt</Key>") {
			t.Errorf("plain listing: %s", body)
		}
		resp, body = r.req(t, http.MethodGet, "/"+b, "list-type=2&encoding-type=base64", nil, nil, "")
		wantError(t, resp, body, 400, "InvalidArgument")
	})

	t.Run("HeadErrorsHaveNoBody", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "headerr")
		r.put(t, b, "k", []byte("sentinel"), nil)
		resp, _ := r.req(t, http.MethodHead, "/"+b+"/k", "", nil, nil, "")
		etag := resp.Header.Get("ETag")

		// Pipeline HEAD errors and a final GET on one connection: a HEAD
		// error that wrote a body would corrupt the response after it.
		sign := func(method, path string, hdr http.Header, ak, sk string) *http.Request {
			if hdr == nil {
				hdr = http.Header{}
			}
			return signedRequest(t, r.node.URL, ak, sk, method, path, "", nil, hdr, "")
		}
		ak, sk := r.node.AccessKey, r.node.SecretKey
		heads := []struct {
			req    *http.Request
			status int
		}{
			{sign(http.MethodHead, "/"+b+"/missing", nil, ak, sk), 404},
			{sign(http.MethodHead, "/"+bucketName("nob"), nil, ak, sk), 404},
			{sign(http.MethodHead, "/"+b+"/k", nil, ak, sk+"x"), 403},
			{sign(http.MethodHead, "/"+b+"/k", http.Header{"If-None-Match": {etag}}, ak, sk), 304},
			{sign(http.MethodHead, "/"+b+"/k", http.Header{"If-Match": {`"nope"`}}, ak, sk), 412},
			{sign(http.MethodHead, "/"+b+"/k", http.Header{"Range": {"bytes=100-"}}, ak, sk), 416},
		}
		final := sign(http.MethodGet, "/"+b+"/k", nil, ak, sk)
		conn, err := net.Dial("tcp", r.node.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		go func() {
			w := bufio.NewWriter(conn)
			for _, h := range heads {
				h.req.Write(w)
			}
			final.Write(w)
			w.Flush()
		}()
		br := bufio.NewReader(conn)
		for _, h := range heads {
			resp, err := http.ReadResponse(br, h.req)
			if err != nil {
				t.Fatalf("reading HEAD response: %v", err)
			}
			if resp.StatusCode != h.status {
				t.Errorf("HEAD %s: status %d, want %d", h.req.URL.Path, resp.StatusCode, h.status)
			}
			if cl := resp.Header.Get("Content-Length"); cl != "" && cl != "0" {
				t.Errorf("HEAD %s -> %d announces a body of %s bytes", h.req.URL.Path, resp.StatusCode, cl)
			}
			if resp.Header.Get("X-Amz-Request-Id") == "" {
				t.Errorf("HEAD %s -> %d without x-amz-request-id", h.req.URL.Path, resp.StatusCode)
			}
		}
		resp, err = http.ReadResponse(br, final)
		if err != nil {
			t.Fatalf("response after the HEAD errors is corrupt: %v", err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(got) != "sentinel" {
			t.Errorf("GET after HEAD errors: %d %q", resp.StatusCode, got)
		}
	})

	t.Run("NotModifiedCarriesValidators", func(t *testing.T) {
		t.Parallel()
		b := r.bucket(t, "304")
		r.put(t, b, "k", []byte("v"), nil)
		resp, _ := r.req(t, http.MethodGet, "/"+b+"/k", "", nil, nil, "")
		etag := resp.Header.Get("ETag")
		resp, body := r.req(t, http.MethodGet, "/"+b+"/k", "", nil, http.Header{"If-None-Match": {etag}}, "")
		if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("304: status %d body %q etag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
		}
		resp, body = r.req(t, http.MethodGet, "/"+b+"/k", "", nil, http.Header{"Range": {"bytes=5-"}}, "")
		x := wantError(t, resp, body, 416, "InvalidRange")
		_ = x
	})
}
