package e2esse

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/sealed"
)

// needleSet names byte strings a scan must (or must not) find.
type needleSet struct {
	names   []string
	needles [][]byte
}

func (n *needleSet) add(name string, b []byte) {
	for i, f := range forms(b) {
		n.names = append(n.names, fmt.Sprintf("%s (%s)", name, []string{"raw", "hex", "base64"}[i]))
		n.needles = append(n.needles, f)
	}
}

// scanAll fails t for every needle found in a file under the data
// directory or in the logs.
func (e *env) scanAll(t *testing.T, what string, n *needleSet) {
	t.Helper()
	files := 0
	for path, idx := range findInFiles(t, e.node.DataDir, n.needles) {
		for _, i := range idx {
			t.Errorf("%s: %s found in %s", what, n.names[i], path)
		}
	}
	filepath.WalkDir(e.node.DataDir, func(string, os.DirEntry, error) error { files++; return nil })
	logs := e.logs.Bytes()
	for i, nd := range n.needles {
		if bytes.Contains(logs, nd) {
			t.Errorf("%s: %s found in the logs", what, n.names[i])
		}
	}
	t.Logf("%s: scanned %d entries under the data directory and %d bytes of logs for %d needles", what, files, len(logs), len(n.needles))
}

// TestCanaryNeverOnDisk writes a plaintext canary (1 MiB of random bytes
// plus a recognisable ASCII string) under every encrypted mode, by single
// PUT, multipart upload, CopyObject and UploadPartCopy, reads it all back,
// and then proves that no file under the data directory (blobs, meta.db,
// keyring, everything) and no log line (Debug level) holds any of it.
// An unencrypted control object proves the scan would see plaintext.
func TestCanaryNeverOnDisk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("canary")
	marker := fmt.Sprintf("STRONGROOM-CANARY-%x", randBytes(8))
	// Four segments and a bit: enough to cross segment boundaries in
	// every copy path, small enough for the 4×4 copy matrix to stay fast.
	canary := append(randBytes(4*seg+999), []byte(marker)...)
	filler := randBytes(partMin - len(canary)) // part 1 of the multipart uploads: canary + filler = 5 MiB
	part1 := append(append([]byte(nil), canary...), filler...)

	modes := []mode{sseS3, sseKMS("key-1"), sseKMS(""), sseC(e.customerKey(), "SSE-C")}
	mpData := append(append([]byte(nil), part1...), canary...)
	for _, m := range modes {
		e.putObject(t, bucket, "put-"+m.name, canary, m)
		e.multipartUpload(t, bucket, "mp-"+m.name, m, mpData, []int{len(part1), len(canary)})
	}
	// Copies: from every encrypted source into every encrypted mode, with
	// CopyObject and UploadPartCopy.
	for _, src := range modes {
		for _, dst := range modes {
			name := src.name + "-" + dst.name
			if _, err := e.c.CopyObject(e.ctx, dst.copyDst(src.copySrc(&s3.CopyObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("copy-" + name), CopySource: aws.String(bucket + "/put-" + src.name),
			}))); err != nil {
				t.Fatalf("CopyObject %s: %v", name, err)
			}
			cr, err := e.c.CreateMultipartUpload(e.ctx, dst.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("upc-" + name)}))
			if err != nil {
				t.Fatal(err)
			}
			pc, err := e.c.UploadPartCopy(e.ctx, src.partCopy(dst, &s3.UploadPartCopyInput{
				Bucket: aws.String(bucket), Key: aws.String("upc-" + name), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
				CopySource: aws.String(bucket + "/put-" + src.name),
			}))
			if err != nil {
				t.Fatalf("UploadPartCopy %s: %v", name, err)
			}
			if _, err := e.c.CompleteMultipartUpload(e.ctx, dst.complete(&s3.CompleteMultipartUploadInput{
				Bucket: aws.String(bucket), Key: aws.String("upc-" + name), UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pc.CopyPartResult.ETag}}},
			})); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Read everything back (whole and by range), so the read path is
	// covered by the scan too.
	for _, m := range modes {
		if got, _ := e.getObject(t, bucket, "put-"+m.name, "", m); !bytes.Equal(got, canary) {
			t.Fatalf("%s: canary read back wrong", m.name)
		}
		if got, _ := e.getObject(t, bucket, "mp-"+m.name, "", m); !bytes.Equal(got, mpData) {
			t.Fatalf("%s: multipart canary read back wrong", m.name)
		}
		if got, _ := e.getObject(t, bucket, "mp-"+m.name, fmt.Sprintf("bytes=%d-", len(part1)-100), m); !bytes.Equal(got, mpData[len(part1)-100:]) {
			t.Fatalf("%s: multipart canary range read back wrong", m.name)
		}
		for _, src := range modes {
			for _, k := range []string{"copy-", "upc-"} {
				if got, _ := e.getObject(t, bucket, k+src.name+"-"+m.name, "", m); !bytes.Equal(got, canary) {
					t.Fatalf("%s%s-%s: canary read back wrong", k, src.name, m.name)
				}
			}
		}
	}

	// Positive control: an unencrypted object in the same data directory
	// is found by the same scan.
	control := append([]byte(fmt.Sprintf("STRONGROOM-CONTROL-%x", randBytes(8))), randBytes(seg)...)
	e.putObject(t, bucket, "control", control, none)
	var ctl needleSet
	ctl.add("control", control[:64])
	if hits := findInFiles(t, e.node.DataDir, ctl.needles[:1]); len(hits) == 0 {
		t.Fatal("control: the scan does not find an unencrypted object's plaintext; it proves nothing")
	}

	// Needles: the marker, and 64-byte windows spread over the random
	// canary and the filler (any leak of plaintext contains some).
	var n needleSet
	n.add("canary marker", []byte(marker))
	for _, off := range []int{0, 1, 4096, seg - 32, seg, 2*seg + 333, 3*seg + 7001, len(canary) - 64} {
		n.add(fmt.Sprintf("canary bytes at %d", off), canary[off:off+64])
	}
	for _, off := range []int{0, MiB, 2*MiB + 7, len(filler) - 64} {
		n.add(fmt.Sprintf("filler bytes at %d", off), filler[off:off+64])
	}
	e.scanAll(t, "canary", &n)
}

// TestSSECKeyNeverLeaks drives SSE-C through every operation and error
// path, then proves the customer keys (raw, base64) and their MD5s (raw,
// base64, hex) appear in no file under the data directory and in no log
// line. (The transport of every env in this package also checks every
// response: no key in any header or body, no MD5 in any error response.)
func TestSSECKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("ssec-keys")
	a, b, c := sseC(e.customerKey(), "A"), sseC(e.customerKey(), "B"), sseC(e.customerKey(), "C")
	data := randBytes(2*seg + 3)
	e.putObject(t, bucket, "obj", data, a)
	e.getObject(t, bucket, "obj", "bytes=10-70000", a)
	if _, err := e.c.HeadObject(e.ctx, a.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})); err != nil {
		t.Fatal(err)
	}
	e.multipartUpload(t, bucket, "mp", b, append(randBytes(partMin), data...), []int{partMin, len(data)})
	if _, err := e.c.CopyObject(e.ctx, c.copyDst(a.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy"), CopySource: aws.String(bucket + "/obj")}))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CopyObject(e.ctx, sseKMS("key-1").copyDst(c.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy-kms"), CopySource: aws.String(bucket + "/copy")}))); err != nil {
		t.Fatal(err)
	}

	// Error paths: wrong key, no key, key on a plain object, MD5 mismatch,
	// wrong copy-source key, wrong part key, bad algorithm.
	_, err := e.c.GetObject(e.ctx, b.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")}))
	wantAPIError(t, "GET with a wrong key", err, 403, "AccessDenied")
	_, err = e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
	wantAPIError(t, "GET without key", err, 400, "InvalidRequest")
	e.putObject(t, bucket, "plain", data, none)
	_, err = e.c.GetObject(e.ctx, a.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain")}))
	wantAPIError(t, "GET of a plain object with a key", err, 400, "InvalidRequest")
	in := a.put(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("x"), Body: bytes.NewReader(data)})
	in.SSECustomerKeyMD5 = aws.String(md5b64(b.key))
	_, err = e.c.PutObject(e.ctx, in)
	wantAPIError(t, "PUT with a mismatching MD5", err, 400, "InvalidArgument")
	in = a.put(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("x"), Body: bytes.NewReader(data)})
	in.SSECustomerAlgorithm = aws.String("AES512")
	_, err = e.c.PutObject(e.ctx, in)
	wantAPIError(t, "PUT with a bad algorithm", err, 400, "InvalidEncryptionAlgorithmError")
	_, err = e.c.CopyObject(e.ctx, b.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("x"), CopySource: aws.String(bucket + "/obj")}))
	wantAPIError(t, "copy with a wrong source key", err, 403, "AccessDenied")
	cr := must(e.c.CreateMultipartUpload(e.ctx, a.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp2")})))(t)
	_, err = e.c.UploadPart(e.ctx, b.part(&s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp2"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(data)}))
	wantAPIError(t, "UploadPart with a wrong key", err, 403, "AccessDenied")
	// An SSE-C request over a raw request with a key that decodes but is
	// too short, and with garbage instead of base64.
	for _, h := range []http.Header{
		{"X-Amz-Server-Side-Encryption-Customer-Algorithm": {"AES256"}, "X-Amz-Server-Side-Encryption-Customer-Key": {b64(a.key[:31])}, "X-Amz-Server-Side-Encryption-Customer-Key-Md5": {md5b64(a.key[:31])}},
		{"X-Amz-Server-Side-Encryption-Customer-Algorithm": {"AES256"}, "X-Amz-Server-Side-Encryption-Customer-Key": {b64(a.key) + "!"}, "X-Amz-Server-Side-Encryption-Customer-Key-Md5": {md5b64(a.key)}},
	} {
		resp, body := e.do(t, e.signed(t, "GET", "/"+bucket+"/obj", "", nil, h))
		wantRawError(t, "GET with a malformed key", resp, body, 400, "InvalidArgument")
		if bytes.Contains(body, []byte(b64(a.key[:31]))) || bytes.Contains(body, []byte(b64(a.key))) {
			t.Errorf("error body echoes the malformed key: %s", body)
		}
	}

	var n needleSet
	for _, s := range e.wire.snapshot() {
		for name, v := range map[string][]byte{"key": s.raw, "key MD5": s.md5raw} {
			n.add(name+" "+hex.EncodeToString(s.md5raw[:4]), v)
		}
	}
	e.scanAll(t, "SSE-C keys", &n)
}

// TestTamperedBlobs flips stored bytes of encrypted objects and proves a
// GET never hands out altered bytes: it fails with a 5xx when the damage
// is in the first segment a response reads (detected before the headers
// are sent), or the body stops short — with every byte sent still equal
// to the original — when it is found later; each failure writes an error
// log line.
func TestTamperedBlobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("tamper")
	const size = 3*seg + 500 // four segments
	segOff := func(i int) int64 { return int64(sealed.HeaderSize) + int64(i)*(seg+sealed.TagSize) }

	cases := []struct {
		name   string
		flip   int64  // offset in the blob of the byte to flip (see mutate)
		rng    string // Range of the GET ("" for all)
		strict bool   // must fail before the headers: 5xx
	}{
		{"header byte", 7, "", true},
		{"first segment", segOff(0) + 100, "", true},
		{"first segment tag", segOff(1) - 1, "", true},
		{"third segment, whole GET", segOff(2) + 5, "", false},
		{"third segment, range starting in it", segOff(2) + 5, fmt.Sprintf("bytes=%d-", 2*seg+10), true},
		{"last segment tag", -1, "", false},
		{"segments 1 and 2 swapped", swapSegs, "", false},
		{"last segment cut off", truncLast, "", false},
	}
	// A range that does not touch the damaged segment is served, whole and
	// right: every segment is authenticated on its own.
	intact := fmt.Sprintf("bytes=0-%d", 2*seg-1)
	modes := []mode{sseS3, sseKMS("key-1"), sseC(e.customerKey(), "SSE-C")}
	for _, m := range modes {
		for i, c := range cases {
			key := fmt.Sprintf("t-%s-%d", m.name, i)
			data := randBytes(size)
			blobs := newBlobs(t, e.node.DataDir, func() { e.putObject(t, bucket, key, data, m) })
			if len(blobs) != 1 {
				t.Fatalf("PUT created %d blobs, want 1", len(blobs))
			}
			blob := blobs[0]
			if st, _ := os.Stat(blob); st.Size() != sealed.SealedSize(size, seg) {
				t.Fatalf("blob %s is %d bytes, want the sealed size %d", blob, st.Size(), sealed.SealedSize(size, seg))
			}
			mutate(t, blob, c.flip, segOff)
			e.checkTamperedGET(t, m.name+"/"+c.name, bucket, key, c.rng, m, data, c.strict)
			if c.name == "third segment, whole GET" {
				if got, _ := e.getObject(t, bucket, key, intact, m); !bytes.Equal(got, data[:2*seg]) {
					t.Errorf("%s: a range before the damaged segment read back wrong", m.name)
				}
			}
		}
	}

	// A multipart object with part 2 damaged: part 1 is served whole, then
	// the body stops; a range inside part 2 fails with a 5xx.
	for _, m := range modes {
		key := "mp-" + m.name
		p1, p2 := randBytes(partMin), randBytes(2*seg+1)
		data := append(append([]byte(nil), p1...), p2...)
		blobs := newBlobs(t, e.node.DataDir, func() { e.multipartUpload(t, bucket, key, m, data, []int{len(p1), len(p2)}) })
		var part2 string
		for _, b := range blobs {
			if st, _ := os.Stat(b); st.Size() == sealed.SealedSize(int64(len(p2)), seg) {
				part2 = b
			}
		}
		if part2 == "" {
			t.Fatalf("no blob of part 2's sealed size among %v", blobs)
		}
		mutate(t, part2, segOff(1)+3, segOff)
		e.checkTamperedGET(t, m.name+"/multipart whole", bucket, key, "", m, data, false)
		e.checkTamperedGET(t, m.name+"/multipart range in part 2", bucket, key, fmt.Sprintf("bytes=%d-", len(p1)+seg), m, data, true)
	}
}

// Special mutations (any other value is the offset of a byte to flip).
const (
	swapSegs  = -1 << 40 // swap sealed segments 1 and 2 (full segments)
	truncLast = -2 << 40 // cut the blob at the start of its last segment
)

// mutate damages a stored blob: flips one bit of the byte at off
// (negative: from the end), or applies a special mutation.
func mutate(t testing.TB, path string, off int64, segOff func(int) int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch off {
	case swapSegs:
		s1 := bytes.Clone(b[segOff(1):segOff(2)])
		copy(b[segOff(1):], b[segOff(2):segOff(3)])
		copy(b[segOff(2):], s1)
	case truncLast:
		b = b[:segOff(3)]
	default:
		if off < 0 {
			off += int64(len(b))
		}
		b[off] ^= 0x01
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkTamperedGET GETs a tampered object with a raw request (so nothing
// retries or validates on the client side) and checks that no altered
// byte arrives, that the failure is visible (5xx or short body) and that
// an error line was logged.
func (e *env) checkTamperedGET(t *testing.T, what, bucket, key, rng string, m mode, data []byte, strict bool) {
	t.Helper()
	errLines := len(e.logs.errorLines())
	h := http.Header{} // the object's SSE-C headers, if any
	for k, v := range m.headers() {
		if strings.Contains(strings.ToLower(k), "customer") {
			h[k] = v
		}
	}
	if rng != "" {
		h.Set("Range", rng)
	}
	resp, err := e.node.Client.Do(e.signed(t, "GET", "/"+bucket+"/"+key, "", nil, h))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	body, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()

	start := 0
	want := data
	if rng != "" {
		var s, end int
		if n, _ := fmt.Sscanf(rng, "bytes=%d-%d", &s, &end); n == 2 {
			want = data[s : end+1]
		} else {
			want = data[s:]
		}
		start = s
	}
	switch {
	case resp.StatusCode >= 500:
		if bytes.Contains(body, data[start:start+min(64, len(data)-start)]) {
			t.Errorf("%s: the error response carries object bytes", what)
		}
	case resp.StatusCode == 200 || resp.StatusCode == 206:
		if strict {
			t.Errorf("%s: status %d, want a 5xx: the damage is in the first segment read, found before the headers are sent", what, resp.StatusCode)
		}
		if len(body) >= len(want) && readErr == nil {
			t.Errorf("%s: the tampered object was served in full (%d bytes, status %d)", what, len(body), resp.StatusCode)
		}
		if !bytes.Equal(body, want[:min(len(body), len(want))]) {
			t.Errorf("%s: ALTERED BYTES SERVED: the body differs from the original at byte %d", what, firstDiff(body, want))
		}
		if len(body) > len(want) {
			t.Errorf("%s: body longer than the object", what)
		}
		if readErr == nil && resp.ContentLength >= 0 && int64(len(body)) == resp.ContentLength {
			t.Errorf("%s: the short body was not signalled: Content-Length %d matches the %d bytes sent", what, resp.ContentLength, len(body))
		}
	default:
		t.Errorf("%s: status %d (%s), want a 5xx or a truncated 2xx", what, resp.StatusCode, body)
	}
	if len(e.logs.errorLines()) <= errLines {
		t.Errorf("%s: no error log line for the tampered read", what)
	}
}

// TestLeakCheckSelfTest proves the response checker every test relies on
// sees a key in a header, a key split across body reads, and an MD5 in an
// error body, and stays quiet about an MD5 echoed on a success.
func TestLeakCheckSelfTest(t *testing.T) {
	t.Parallel()
	key := randBytes(32)
	s := newSecret(key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/header":
			w.Header().Set("X-Echo", "k="+string(s.b64))
		case "/split":
			w.Write(bytes.Repeat([]byte("a"), 1000))
			w.(http.Flusher).Flush()
			w.Write(s.b64[:10])
			w.(http.Flusher).Flush()
			w.Write(s.b64[10:])
		case "/error-md5":
			w.WriteHeader(400)
			w.Write([]byte("<Error>" + string(s.md5b64) + "</Error>"))
		case "/ok-md5":
			w.Header().Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", string(s.md5b64))
		}
	}))
	defer srv.Close()
	for path, wantHit := range map[string]bool{"/header": true, "/split": true, "/error-md5": true, "/ok-md5": false} {
		l := &leakCheck{base: http.DefaultTransport}
		l.addSecret(key)
		c := &http.Client{Transport: l}
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, iotest.OneByteReader(resp.Body))
		resp.Body.Close()
		if got := len(l.problems) > 0; got != wantHit {
			t.Errorf("%s: leak reported %v, want %v (%v)", path, got, wantHit, l.problems)
		}
	}
}
