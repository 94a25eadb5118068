package auth

// Published example vectors. Sources (values copied, never computed here):
//   - AWS SigV4 test suite (aws-sig-v4-test-suite, service "service").
//   - Amazon S3 API reference, "Signature Calculations for the Authorization
//     Header: Transferring Payload in a Single Chunk", "... in Multiple Chunks
//     (Chunked Upload)" (sigv4-streaming), "Signature calculations for
//     trailing headers" (sigv4-streaming-trailers) and "Authenticating
//     Requests: Using Query Parameters".
//   - Amazon S3 developer guide, "Signing and Authenticating REST Requests"
//     (Signature Version 2) and its query string example.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

const (
	docAK     = "AKIAIOSFODNN7EXAMPLE"
	docSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func TestSigV4TestSuite(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	scope := v4Scope{accessKey: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "service"}
	const date = "\nX-Amz-Date:20150830T123600Z"
	cases := []struct{ name, req, signed, want string }{
		{"get-vanilla", "GET / HTTP/1.1\nHost:example.amazonaws.com" + date,
			"host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", "POST / HTTP/1.1\nHost:example.amazonaws.com" + date,
			"host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com" + date,
			"host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-vanilla-utf8-query", "GET /?%E1%88%B4=bar HTTP/1.1\nHost:example.amazonaws.com" + date,
			"host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
		{"get-utf8", "GET /%E1%88%B4 HTTP/1.1\nHost:example.amazonaws.com" + date,
			"host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
		{"get-unreserved", "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com" + date,
			"host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
		{"get-header-key-duplicate", "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1" + date,
			"host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
		{"get-header-value-order", "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-Header1:value2" + date,
			"host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
		{"get-header-value-trim", "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"" + date,
			"host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rawRequest(t, c.req)
			names, _ := parseSignedHeaders(c.signed)
			req := v4Request{scope: scope, signedHeaders: c.signed, names: names, amzDate: "20150830T123600Z", payload: emptySHA256}
			if got := req.sign(r, secret, ""); got != c.want {
				t.Fatalf("signature %s, want %s", got, c.want)
			}
			// The verifier's comparison accepts it, and only it.
			decodeSig(&req.signature, c.want)
			if !v4Match(r, &req, signingKey(secret, scope), "") {
				t.Fatal("v4Match refused the published signature")
			}
			req.signature[31] ^= 1
			if v4Match(r, &req, signingKey(secret, scope), "") {
				t.Fatal("v4Match accepted a wrong signature")
			}
		})
	}
}

// S3's single-chunk and presigned examples, verified end to end.
func TestS3DocExamplesV4(t *testing.T) {
	const cred = "Credential=" + docAK + "/20130524/us-east-1/s3/aws4_request,"
	const host = "\nHost: examplebucket.s3.amazonaws.com"
	cases := []struct {
		name, req string
		now       time.Time
		body      string // expected body read
		err       *errs.Error
	}{
		{name: "GET Object", req: "GET /test.txt HTTP/1.1" + host +
			"\nAuthorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" +
			"\nRange: bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date: 20130524T000000Z"},
		{name: "PUT Object", body: "Welcome to Amazon S3.", req: "PUT /test%24file.text HTTP/1.1" + host +
			"\nDate: Fri, 24 May 2013 00:00:00 GMT" +
			"\nAuthorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd" +
			"\nx-amz-date: 20130524T000000Z\nx-amz-storage-class: REDUCED_REDUNDANCY\nx-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" +
			"\nContent-Length: 21\n\nWelcome to Amazon S3."},
		{name: "PUT Object, other body", err: errs.ContentSHA256Mismatch, req: "PUT /test%24file.text HTTP/1.1" + host +
			"\nDate: Fri, 24 May 2013 00:00:00 GMT" +
			"\nAuthorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd" +
			"\nx-amz-date: 20130524T000000Z\nx-amz-storage-class: REDUCED_REDUNDANCY\nx-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" +
			"\nContent-Length: 21\n\nWelcome to Amazon S4."},
		{name: "GET Bucket Lifecycle", req: "GET /?lifecycle HTTP/1.1" + host +
			"\nAuthorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543" +
			"\nx-amz-date: 20130524T000000Z\nx-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{name: "GET Bucket (List Objects)", req: "GET /?max-keys=2&prefix=J HTTP/1.1" + host +
			"\nAuthorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" +
			"\nx-amz-date: 20130524T000000Z\nx-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{name: "List Objects, query tampered", err: errs.SignatureDoesNotMatch, req: "GET /?max-keys=3&prefix=J HTTP/1.1" + host +
			"\nAuthorization: AWS4-HMAC-SHA256 " + cred + "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" +
			"\nx-amz-date: 20130524T000000Z\nx-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{name: "presigned GET Object", now: docTime.Add(23 * time.Hour), req: "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + docAK + "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1" + host},
		{name: "presigned GET Object, expired", now: docTime.Add(24*time.Hour + time.Second), err: errs.ExpiredToken, req: "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + docAK + "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1" + host},
		{name: "presigned GET Object, other key", now: docTime, err: errs.SignatureDoesNotMatch, req: "GET /test2.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + docAK + "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1" + host},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := docTime
			if !c.now.IsZero() {
				now = c.now
			}
			v := &Verifier{Creds: creds{docAK: docSecret}, Now: at(now)}
			res, body, err := verifyAndRead(v, rawRequest(t, c.req), "")
			wantErr(t, err, c.err)
			if err == nil && (string(body) != c.body || res.AccessKeyID != docAK || res.Region != "us-east-1") {
				t.Fatalf("body %q, result %+v", body, res)
			}
		})
	}
}

// streamingDoc builds the body of the sigv4-streaming example: 65 KiB of 'a'
// in chunks of 64 KiB, 1 KiB and 0, with the published chunk signatures.
func streamingDoc(sigs [3]string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=" + sigs[0] + "\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 65536))
	b.WriteString("\r\n400;chunk-signature=" + sigs[1] + "\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 1024))
	b.WriteString("\r\n0;chunk-signature=" + sigs[2] + "\r\n")
	if trailer != "" {
		b.WriteString(trailer)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func streamingRequest(t *testing.T, head string, body []byte) *http.Request {
	t.Helper()
	r := rawRequest(t, head)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r
}

func TestStreamingDocExample(t *testing.T) {
	const head = "PUT /examplebucket/chunkObject.txt HTTP/1.1\nHost: s3.amazonaws.com\nx-amz-date: 20130524T000000Z\n" +
		"x-amz-storage-class: REDUCED_REDUNDANCY\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + docAK + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\n" +
		"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\nContent-Encoding: aws-chunked\nx-amz-decoded-content-length: 66560\nContent-Length: 66824"
	sigs := [3]string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	good := streamingDoc(sigs, "")
	if len(good) != 66824 {
		t.Fatalf("encoded length %d, the example says 66824", len(good))
	}

	// The canonical request hashes to the value in the example's StringToSign.
	r := rawRequest(t, head)
	req, err := parseV4Authorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	cr := canonicalRequest(r.Method, rawPath(r), "", canonicalHeaders(r, req.names), req.signedHeaders, streamingSigned)
	if sum := sha256.Sum256([]byte(cr)); hex.EncodeToString(sum[:]) != "cee3fed04b70f867d036f722359b0b1f2f0e5dc0efadbc082b76c4c60e316455" {
		t.Fatalf("canonical request hash %x\n%s", sum, cr)
	}

	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	cases := []struct {
		name string
		body []byte
		err  *errs.Error
	}{
		{"as published", good, nil},
		{"byte of chunk 1 flipped", flip(100), errs.SignatureDoesNotMatch},
		{"byte of chunk 2 flipped", flip(65626 + 90), errs.SignatureDoesNotMatch},
		{"chunk 2 signature altered", streamingDoc([3]string{sigs[0], sigs[2], sigs[2]}, ""), errs.SignatureDoesNotMatch},
		{"final chunk signature altered", streamingDoc([3]string{sigs[0], sigs[1], sigs[1]}, ""), errs.SignatureDoesNotMatch},
		{"final chunk dropped", good[:65626+1112], errs.IncompleteBody},
		{"truncated in chunk 1", good[:5000], errs.IncompleteBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Creds: creds{docAK: docSecret}, Now: at(docTime)}
			res, body, err := verifyAndRead(v, streamingRequest(t, head, c.body), "")
			wantErr(t, err, c.err)
			if err == nil && (res.ContentLength != 66560 || !bytes.Equal(body, bytes.Repeat([]byte{'a'}, 66560))) {
				t.Fatalf("decoded %d bytes, ContentLength %d", len(body), res.ContentLength)
			}
		})
	}
}

// The trailer example's Authorization line lists content-length but not
// x-amz-trailer, contradicting its own CanonicalRequest; the seed signature
// 106e2a8a... is that of the CanonicalRequest, which is what is used here.
func TestStreamingTrailerDocExample(t *testing.T) {
	const head = "PUT /examplebucket/chunkObject.txt HTTP/1.1\nHost: s3.amazonaws.com\nx-amz-date: 20130524T000000Z\n" +
		"x-amz-storage-class: REDUCED_REDUNDANCY\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + docAK + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e\n" +
		"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\nContent-Encoding: aws-chunked\nx-amz-decoded-content-length: 66560\nx-amz-trailer: x-amz-checksum-crc32c"
	sigs := [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
	const trailerSig = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"

	r := rawRequest(t, head)
	req, err := parseV4Authorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	cr := canonicalRequest(r.Method, rawPath(r), "", canonicalHeaders(r, req.names), req.signedHeaders, streamingSignedTrailer)
	if sum := sha256.Sum256([]byte(cr)); hex.EncodeToString(sum[:]) != "44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559" {
		t.Fatalf("canonical request hash %x\n%s", sum, cr)
	}

	cases := []struct {
		name, trailer string
		err           *errs.Error
	}{
		{"as published", "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + trailerSig + "\r\n", nil},
		{"trailer value altered", "x-amz-checksum-crc32c:sOO8/R==\r\nx-amz-trailer-signature:" + trailerSig + "\r\n", errs.SignatureDoesNotMatch},
		{"trailer signature missing", "x-amz-checksum-crc32c:sOO8/Q==\r\n", errs.SignatureDoesNotMatch},
		{"unsigned extra trailer", "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-meta-evil:1\r\nx-amz-trailer-signature:" + trailerSig + "\r\n", errs.SignatureDoesNotMatch},
		{"declared trailer missing", "", errs.InvalidChunkedEncoding},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Creds: creds{docAK: docSecret}, Now: at(docTime)}
			res, body, err := verifyAndRead(v, streamingRequest(t, head, streamingDoc(sigs, c.trailer)), "")
			wantErr(t, err, c.err)
			if err != nil {
				return
			}
			if len(body) != 66560 || res.Trailer.Get("x-amz-checksum-crc32c") != "sOO8/Q==" {
				t.Fatalf("decoded %d bytes, trailer %v", len(body), res.Trailer)
			}
		})
	}
}

func TestS3DocExamplesV2(t *testing.T) {
	day := func(s string) time.Time {
		tm, err := time.Parse(time.RFC1123Z, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	const auth = "\nAuthorization: AWS " + docAK + ":"
	cases := []struct {
		name, req, vhost string
		now              time.Time
		err              *errs.Error
	}{
		{name: "Object GET", vhost: "johnsmith", now: day("Tue, 27 Mar 2007 19:36:42 +0000"),
			req: "GET /photos/puppy.jpg HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:36:42 +0000" + auth + "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
		{name: "Object GET, path style", now: day("Tue, 27 Mar 2007 19:36:42 +0000"),
			req: "GET /johnsmith/photos/puppy.jpg HTTP/1.1\nHost: s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:36:42 +0000" + auth + "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
		{name: "Object GET, other bucket", vhost: "janesmith", now: day("Tue, 27 Mar 2007 19:36:42 +0000"), err: errs.SignatureDoesNotMatch,
			req: "GET /photos/puppy.jpg HTTP/1.1\nHost: janesmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:36:42 +0000" + auth + "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
		{name: "Object GET, an hour later", vhost: "johnsmith", now: day("Tue, 27 Mar 2007 20:36:42 +0000"), err: errs.RequestTimeTooSkewed,
			req: "GET /photos/puppy.jpg HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:36:42 +0000" + auth + "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
		{name: "Object PUT", vhost: "johnsmith", now: day("Tue, 27 Mar 2007 21:15:45 +0000"),
			req: "PUT /photos/puppy.jpg HTTP/1.1\nContent-Type: image/jpeg\nContent-Length: 0\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 21:15:45 +0000" + auth + "MyyxeRY7whkBe+bq8fHCL/2kKUg="},
		{name: "List", vhost: "johnsmith", now: day("Tue, 27 Mar 2007 19:42:41 +0000"),
			req: "GET /?prefix=photos&max-keys=50&marker=puppy HTTP/1.1\nUser-Agent: Mozilla/5.0\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:42:41 +0000" + auth + "htDYFYduRNen8P9ZfE/s9SuKy0U="},
		{name: "Fetch acl", vhost: "johnsmith", now: day("Tue, 27 Mar 2007 19:44:46 +0000"),
			req: "GET /?acl HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:44:46 +0000" + auth + "c2WLPFtWHVgbEmeEG93a4cG37dM="},
		{name: "Fetch without the acl sub-resource", vhost: "johnsmith", now: day("Tue, 27 Mar 2007 19:44:46 +0000"), err: errs.SignatureDoesNotMatch,
			req: "GET / HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:44:46 +0000" + auth + "c2WLPFtWHVgbEmeEG93a4cG37dM="},
		{name: "Upload", vhost: "static.johnsmith.net", now: day("Tue, 27 Mar 2007 21:06:08 +0000"),
			req: "PUT /db-backup.dat.gz HTTP/1.1\nUser-Agent: curl/7.15.5\nHost: static.johnsmith.net:8080\nDate: Tue, 27 Mar 2007 21:06:08 +0000\n" +
				"x-amz-acl: public-read\ncontent-type: application/x-download\nContent-MD5: 4gJE4saaMU4BqNR0kLY+lw==\n" +
				"X-Amz-Meta-ReviewedBy: joe@johnsmith.net\nX-Amz-Meta-ReviewedBy: jane@johnsmith.net\nX-Amz-Meta-FileChecksum: 0x02661779\n" +
				"X-Amz-Meta-ChecksumAlgorithm: crc32\nContent-Disposition: attachment; filename=database.dat\nContent-Encoding: gzip\nContent-Length: 0" +
				auth + "ilyl83RwaSoYIEdixDQcA4OnAnc="},
		{name: "Upload, reviewers swapped", vhost: "static.johnsmith.net", now: day("Tue, 27 Mar 2007 21:06:08 +0000"), err: errs.SignatureDoesNotMatch,
			req: "PUT /db-backup.dat.gz HTTP/1.1\nUser-Agent: curl/7.15.5\nHost: static.johnsmith.net:8080\nDate: Tue, 27 Mar 2007 21:06:08 +0000\n" +
				"x-amz-acl: public-read\ncontent-type: application/x-download\nContent-MD5: 4gJE4saaMU4BqNR0kLY+lw==\n" +
				"X-Amz-Meta-ReviewedBy: jane@johnsmith.net\nX-Amz-Meta-ReviewedBy: joe@johnsmith.net\nX-Amz-Meta-FileChecksum: 0x02661779\n" +
				"X-Amz-Meta-ChecksumAlgorithm: crc32\nContent-Disposition: attachment; filename=database.dat\nContent-Encoding: gzip\nContent-Length: 0" +
				auth + "ilyl83RwaSoYIEdixDQcA4OnAnc="},
		{name: "List All My Buckets", now: day("Wed, 28 Mar 2007 01:29:59 +0000"),
			req: "GET / HTTP/1.1\nHost: s3.amazonaws.com\nDate: Wed, 28 Mar 2007 01:29:59 +0000" + auth + "qGdzdERIC03wnaRNKh6OqZehG9s="},
		{name: "Unicode Keys", now: day("Wed, 28 Mar 2007 01:49:49 +0000"),
			req: "GET /dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re HTTP/1.1\nHost: s3.amazonaws.com\nDate: Wed, 28 Mar 2007 01:49:49 +0000" + auth + "DNEZGsoieTZ92F3bUfSPQcbGmlM="},
		{name: "query string", vhost: "johnsmith", now: time.Unix(1175139620-60, 0),
			req: "GET /photos/puppy.jpg?AWSAccessKeyId=" + docAK + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D HTTP/1.1\nHost: johnsmith.s3.amazonaws.com"},
		{name: "query string, expired", vhost: "johnsmith", now: time.Unix(1175139620+1, 0), err: errs.ExpiredToken,
			req: "GET /photos/puppy.jpg?AWSAccessKeyId=" + docAK + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D HTTP/1.1\nHost: johnsmith.s3.amazonaws.com"},
		{name: "query string, Expires extended", vhost: "johnsmith", now: time.Unix(1175139620-60, 0), err: errs.SignatureDoesNotMatch,
			req: "GET /photos/puppy.jpg?AWSAccessKeyId=" + docAK + "&Expires=1175139621&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D HTTP/1.1\nHost: johnsmith.s3.amazonaws.com"},
		{name: "query string, 2006 example", now: time.Unix(1141889060, 0),
			req: "GET /quotes/nelson?AWSAccessKeyId=44CF9590006BF252F707&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D HTTP/1.1\nHost: s3.amazonaws.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Creds: creds{docAK: docSecret, "44CF9590006BF252F707": "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV"}, Now: at(c.now)}
			res, _, err := verifyAndRead(v, rawRequest(t, c.req), c.vhost)
			wantErr(t, err, c.err)
			if err == nil && !strings.HasPrefix(string(res.Scheme), "sigv2") {
				t.Fatalf("scheme %s", res.Scheme)
			}
		})
	}
}
