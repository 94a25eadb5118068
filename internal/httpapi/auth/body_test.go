package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// testChain signs aws-chunked bodies the way the AWS documentation spells it,
// string by string, independently of chunkSigner.
type testChain struct {
	key         []byte
	amzDate, sc string
	prev        string
	seed        [32]byte
}

func newTestChain() *testChain {
	c := &testChain{amzDate: "20130524T000000Z", sc: "20130524/us-east-1/s3/aws4_request"}
	c.key = signingKey("secret", v4Scope{date: "20130524", region: "us-east-1", service: "s3"})
	c.seed = sha256.Sum256([]byte("seed"))
	c.prev = hex.EncodeToString(c.seed[:])
	return c
}

func (c *testChain) chunkSig(data []byte) string {
	c.prev = hex.EncodeToString(hmacSHA256(c.key, "AWS4-HMAC-SHA256-PAYLOAD\n"+c.amzDate+"\n"+c.sc+"\n"+c.prev+"\n"+emptySHA256+"\n"+sha256Hex(string(data))))
	return c.prev
}

func (c *testChain) trailerSig(canon string) string {
	return hex.EncodeToString(hmacSHA256(c.key, "AWS4-HMAC-SHA256-TRAILER\n"+c.amzDate+"\n"+c.sc+"\n"+c.prev+"\n"+sha256Hex(canon)))
}

// encode frames data in chunks of size n; signed adds chunk signatures and,
// with trailers, a trailer signature.
func (c *testChain) encode(data []byte, n int, signed bool, trailers ...string) []byte {
	var b bytes.Buffer
	ext := func(d []byte) string {
		if signed {
			return ";chunk-signature=" + c.chunkSig(d)
		}
		return ""
	}
	for len(data) > 0 {
		k := min(n, len(data))
		fmt.Fprintf(&b, "%x%s\r\n", k, ext(data[:k]))
		b.Write(data[:k])
		b.WriteString("\r\n")
		data = data[k:]
	}
	fmt.Fprintf(&b, "0%s\r\n", ext(nil))
	var canon strings.Builder
	for _, t := range trailers {
		b.WriteString(t + "\r\n")
		canon.WriteString(t + "\n")
	}
	if signed && len(trailers) > 0 {
		b.WriteString("x-amz-trailer-signature:" + c.trailerSig(canon.String()) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// chunkedResult wires setBody directly, isolating the framing from the
// request signature (which the vector and round-trip tests cover).
func chunkedResult(t *testing.T, c *testChain, mode string, declared int, trailerHdr string, body []byte) *Result {
	t.Helper()
	r := httptest.NewRequest("PUT", "/b/k", bytes.NewReader(body))
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(declared))
	if trailerHdr != "" {
		r.Header.Set("X-Amz-Trailer", trailerHdr)
	}
	res := &Result{}
	if err := setBody(res, r, mode, newChunkSigner(c.key, c.amzDate, c.sc, c.seed)); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestChunkedFraming(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16000 bytes
	const crc = "x-amz-checksum-crc32:AAAAAA=="
	signed := func(mut func([]byte) []byte, trailers ...string) []byte {
		b := newTestChain().encode(data, 4096, true, trailers...)
		if mut != nil {
			b = mut(b)
		}
		return b
	}
	unsigned := func(trailers ...string) []byte { return newTestChain().encode(data, 4096, false, trailers...) }
	at := func(i int, b byte) func([]byte) []byte {
		return func(s []byte) []byte { s = bytes.Clone(s); s[i] = b; return s }
	}
	header := len(fmt.Sprintf("1000;chunk-signature=%064d\r\n", 0)) // 4096 = 0x1000
	chunk := header + 4096 + 2

	cases := []struct {
		name     string
		mode     string
		declared int
		xTrailer string
		body     []byte
		err      *errs.Error
		trailer  string // expected X-Amz-Checksum-Crc32
	}{
		{name: "signed", mode: streamingSigned, body: signed(nil)},
		{name: "signed, trailer", mode: streamingSignedTrailer, xTrailer: "x-amz-checksum-crc32", body: signed(nil, crc), trailer: "AAAAAA=="},
		{name: "signed, data byte changed", mode: streamingSigned, body: signed(at(header+7, 'X')), err: errs.SignatureDoesNotMatch},
		{name: "signed, chunks reordered", mode: streamingSigned, body: signed(func(b []byte) []byte {
			b = bytes.Clone(b)
			first := bytes.Clone(b[:chunk])
			copy(b, b[chunk:2*chunk])
			copy(b[chunk:], first)
			return b
		}), err: errs.SignatureDoesNotMatch},
		{name: "signed, chunk dropped", mode: streamingSigned, declared: len(data) - 4096, body: signed(func(b []byte) []byte {
			return append(bytes.Clone(b[:chunk]), b[2*chunk:]...)
		}), err: errs.SignatureDoesNotMatch},
		{name: "signed, final chunk missing", mode: streamingSigned, body: signed(func(b []byte) []byte {
			return b[:bytes.LastIndex(b, []byte("0;chunk-signature"))]
		}), err: errs.IncompleteBody},
		{name: "signed, truncated in data", mode: streamingSigned, body: signed(func(b []byte) []byte { return b[:chunk+100] }), err: errs.IncompleteBody},
		{name: "signed, truncated in header", mode: streamingSigned, body: signed(func(b []byte) []byte { return b[:chunk+10] }), err: errs.IncompleteBody},
		{name: "signed, fewer bytes than declared", mode: streamingSigned, declared: len(data) + 1, body: signed(nil), err: errs.IncompleteBody},
		{name: "signed, more bytes than declared", mode: streamingSigned, declared: len(data) - 1, body: signed(nil), err: errs.InvalidChunkedEncoding},
		{name: "signed, size not hex", mode: streamingSigned, body: signed(at(0, 'g')), err: errs.InvalidChunkedEncoding},
		{name: "signed, signature missing", mode: streamingSigned, body: signed(func(b []byte) []byte {
			return append([]byte("1000\r\n"), b[header:]...)
		}), err: errs.InvalidChunkedEncoding},
		{name: "signed, signature not hex", mode: streamingSigned, body: signed(at(header-3, 'x')), err: errs.InvalidChunkedEncoding},
		{name: "signed, CRLF after data missing", mode: streamingSigned, body: signed(at(header+4096, 'x')), err: errs.InvalidChunkedEncoding},
		{name: "signed, data after the end", mode: streamingSigned, body: signed(func(b []byte) []byte { return append(bytes.Clone(b), "extra bytes"...) }), err: errs.InvalidChunkedEncoding},
		{name: "signed, trailer without trailer mode", mode: streamingSigned, body: signed(func(b []byte) []byte {
			return append(bytes.Clone(b[:len(b)-2]), crc+"\r\n\r\n"...)
		}), err: errs.InvalidChunkedEncoding},
		{name: "signed, trailer value changed", mode: streamingSignedTrailer, body: signed(func(b []byte) []byte {
			return bytes.Replace(b, []byte("AAAAAA=="), []byte("AAAAAB=="), 1)
		}, crc), err: errs.SignatureDoesNotMatch},
		{name: "signed, endless blank lines in the trailer", mode: streamingSignedTrailer, body: signed(func(b []byte) []byte {
			return bytes.Replace(b, []byte(crc+"\r\n"), []byte(crc+"\r\n"+strings.Repeat("\r\n", trailerMax)), 1)
		}, crc), err: errs.InvalidChunkedEncoding},
		{name: "signed, blank line before the trailer signature (minio-go)", mode: streamingSignedTrailer, body: signed(func(b []byte) []byte {
			return bytes.Replace(b, []byte(crc+"\r\n"), []byte(crc+"\n\r\n"), 1)
		}, crc), trailer: "AAAAAA=="},
		{name: "signed, declared trailer absent", mode: streamingSignedTrailer, xTrailer: "x-amz-checksum-sha256", body: signed(nil, crc), err: errs.InvalidChunkedEncoding},
		{name: "unsigned trailer (Go SDK over HTTPS)", mode: streamingUnsignedTrailer, declared: 13, xTrailer: "x-amz-checksum-crc32",
			body: []byte("d\r\nhello trailer\r\n0\r\nx-amz-checksum-crc32:WzGbuw==\r\n\r\n"), trailer: "WzGbuw=="},
		{name: "unsigned trailer, LF line ends and extra CRLF (minio-go)", mode: streamingUnsignedTrailer, declared: 13,
			body: []byte("d\r\nhello trailer\r\n0\r\nx-amz-checksum-crc32:WzGbuw==\n\r\n\r\n"), trailer: "WzGbuw=="},
		{name: "unsigned trailer, final blank line missing", mode: streamingUnsignedTrailer, declared: 13,
			body: []byte("d\r\nhello trailer\r\n0\r\nx-amz-checksum-crc32:WzGbuw==\r\n"), trailer: "WzGbuw=="},
		{name: "unsigned trailer, truncated trailer line", mode: streamingUnsignedTrailer, declared: 13,
			body: []byte("d\r\nhello trailer\r\n0\r\nx-amz-checksum-crc32:Wz"), err: errs.IncompleteBody},
		{name: "unsigned trailer, bad trailer line", mode: streamingUnsignedTrailer, declared: 13,
			body: []byte("d\r\nhello trailer\r\n0\r\nno colon\r\n\r\n"), err: errs.InvalidChunkedEncoding},
		{name: "unsigned, chunk line too long", mode: streamingUnsignedTrailer, declared: 13,
			body: []byte("d;" + strings.Repeat("x", chunkLineMax) + "\r\nhello trailer\r\n0\r\n\r\n"), err: errs.InvalidChunkedEncoding},
		{name: "unsigned, many chunks", mode: streamingUnsignedTrailer, body: unsigned(crc), trailer: "AAAAAA=="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			declared := c.declared
			if declared == 0 {
				declared = len(data)
			}
			res := chunkedResult(t, newTestChain(), c.mode, declared, c.xTrailer, c.body)
			got, err := io.ReadAll(res.Body)
			wantErr(t, err, c.err)
			if err != nil {
				// Sticky: the error is repeated, never turned into io.EOF.
				if _, again := res.Body.Read(make([]byte, 1)); again != err {
					t.Fatalf("second read returned %v after %v", again, err)
				}
				return
			}
			if int64(len(got)) != res.ContentLength || !bytes.Equal(got, data[:len(got)]) && string(got) != "hello trailer" {
				t.Fatalf("decoded %d bytes, ContentLength %d", len(got), res.ContentLength)
			}
			if res.Trailer.Get("X-Amz-Checksum-Crc32") != c.trailer {
				t.Fatalf("trailer %v", res.Trailer)
			}
			if n, err := res.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("read after EOF: %d, %v", n, err)
			}
		})
	}
}

// Successful streams behave as io.Readers under any read pattern.
func TestChunkedReaderContract(t *testing.T) {
	data := bytes.Repeat([]byte("strongroom"), 3000)
	for _, mode := range []string{streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer} {
		t.Run(mode, func(t *testing.T) {
			c := newTestChain()
			var trailers []string
			if mode != streamingSigned {
				trailers = []string{"x-amz-checksum-crc32:AAAAAA=="}
			}
			body := c.encode(data, 7000, mode != streamingUnsignedTrailer, trailers...)
			for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader} {
				res := chunkedResult(t, newTestChain(), mode, len(data), "", nil)
				res.Body.(*chunkReader).src.Reset(wrap(bytes.NewReader(body)))
				if err := iotest.TestReader(res.Body, data); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestHashReader(t *testing.T) {
	const body = "payload"
	cases := []struct {
		name string
		src  io.Reader
		err  *errs.Error
	}{
		{"match", strings.NewReader(body), nil},
		{"mismatch", strings.NewReader("Payload"), errs.ContentSHA256Mismatch},
		{"truncated", io.MultiReader(strings.NewReader("pay"), iotest.ErrReader(io.ErrUnexpectedEOF)), errs.IncompleteBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/b/k", c.src)
			res := &Result{}
			if err := setBody(res, r, sha256Hex(body), nil); err != nil {
				t.Fatal(err)
			}
			_, err := io.ReadAll(iotest.OneByteReader(res.Body))
			wantErr(t, err, c.err)
		})
	}
}

func TestDispatchAndMalformed(t *testing.T) {
	now := docTime
	v := &Verifier{Creds: creds{docAK: docSecret}, Now: at(now)}
	const cred = "Credential=" + docAK + "/20130524/us-east-1/s3/aws4_request"
	const sig = "Signature=" + emptySHA256
	good := "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, " + sig
	cases := []struct {
		name   string
		target string
		header map[string]string
		body   string
		err    *errs.Error
		scheme Scheme
	}{
		{name: "anonymous", target: "/b/k", scheme: SchemeAnonymous},
		{name: "anonymous, unsigned aws-chunked", target: "/b/k", scheme: SchemeAnonymous, body: "3\r\nabc\r\n0\r\n\r\n",
			header: map[string]string{"X-Amz-Content-Sha256": streamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "3"}},
		{name: "anonymous, signed streaming claimed", target: "/b/k", err: errBadSHA256,
			header: map[string]string{"X-Amz-Content-Sha256": streamingSigned, "X-Amz-Decoded-Content-Length": "3"}},
		{name: "anonymous, bad decoded length", target: "/b/k", err: errDecodedLength,
			header: map[string]string{"X-Amz-Content-Sha256": streamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "-1"}},
		{name: "other dialect's header", target: "/b/k", header: map[string]string{"Authorization": "OSS2 AccessKeyId:ak,Signature:sig"}, err: errUnsupportedAuth},
		{name: "SigV4 and SigV2 queries", target: "/b/k?X-Amz-Signature=x&AWSAccessKeyId=y", err: errMultipleAuth},
		{name: "no date", target: "/b/k", header: map[string]string{"Authorization": good}, err: errMissingDate},
		{name: "bad X-Amz-Date", target: "/b/k", header: map[string]string{"Authorization": good, "X-Amz-Date": "2013-05-24"}, err: errMissingDate},
		{name: "credential date differs", target: "/b/k", header: map[string]string{"Authorization": good, "X-Amz-Date": "20130525T000000Z"}, err: errs.AuthorizationHeaderMalformed},
		{name: "body without x-amz-content-sha256", target: "/b/k", body: "x", header: map[string]string{"Authorization": good, "X-Amz-Date": "20130524T000000Z"}, err: errMissingSHA256},
		{name: "unknown key", target: "/b/k", header: map[string]string{"Authorization": strings.Replace(good, docAK, "NOBODY", 1), "X-Amz-Date": "20130524T000000Z"}, err: errs.InvalidAccessKeyID},
		{name: "signature mismatch", target: "/b/k", header: map[string]string{"Authorization": good, "X-Amz-Date": "20130524T000000Z"}, err: errs.SignatureDoesNotMatch},
		{name: "SigV2 without colon", target: "/b/k", header: map[string]string{"Authorization": "AWS " + docAK, "Date": now.Format(http.TimeFormat)}, err: errs.AuthorizationHeaderMalformed},
		{name: "SigV2 without date", target: "/b/k", header: map[string]string{"Authorization": "AWS " + docAK + ":c2lnbmF0dXJl"}, err: errMissingDate},
		{name: "SigV2 unknown key", target: "/b/k", header: map[string]string{"Authorization": "AWS NOBODY:c2lnbmF0dXJl", "Date": now.Format(http.TimeFormat)}, err: errs.InvalidAccessKeyID},
		{name: "SigV2 query incomplete", target: "/b/k?AWSAccessKeyId=" + docAK + "&Signature=x", err: errV2QueryMissing},
		{name: "SigV4 query incomplete", target: "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + docAK + "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request", err: errs.AuthorizationQueryMalformed},
		{name: "SigV4 query, other algorithm", target: "/b/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=a", err: errs.AuthorizationQueryMalformed},
	}
	malformed := []string{
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date",                                              // no signature
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, " + sig,                                           // host unsigned
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig,                                     // empty name
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=abc",                                          // short signature
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", " + sig,                                    // repeated
		"AWS4-HMAC-SHA256 Credential=" + docAK + "/20130524/us-east-1/sts/aws4_request, SignedHeaders=host, " + sig, // not s3
		"AWS4-HMAC-SHA256 Credential=" + docAK + "/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig,   // bad date
		"AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig,               // no key
		"AWS4-HMAC-SHA256 Credential=" + docAK + "/20130524/us-east-1/s3/aws4_request2, SignedHeaders=host, " + sig, // terminator
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", Extra=1",                                   // unknown part
	}
	for i, m := range malformed {
		cases = append(cases, struct {
			name   string
			target string
			header map[string]string
			body   string
			err    *errs.Error
			scheme Scheme
		}{name: fmt.Sprintf("malformed Authorization %d", i), target: "/b/k",
			header: map[string]string{"Authorization": m, "X-Amz-Date": "20130524T000000Z"}, err: errs.AuthorizationHeaderMalformed})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", c.target, strings.NewReader(c.body))
			for k, val := range c.header {
				r.Header.Set(k, val)
			}
			res, err := v.Verify(r, "")
			wantErr(t, err, c.err)
			if err == nil {
				if res.Scheme != c.scheme {
					t.Fatalf("scheme %s", res.Scheme)
				}
				if _, err := io.ReadAll(res.Body); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// A credential store failure is not an authentication verdict: it is passed
// on (the dialect answers 500), not turned into AccessDenied.
func TestCredentialStoreFailure(t *testing.T) {
	boom := errors.New("database unavailable")
	v := &Verifier{Creds: failingCreds{boom}, Now: at(docTime)}
	r := rawRequest(t, "GET /?lifecycle HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n"+
		"Authorization: AWS4-HMAC-SHA256 Credential="+docAK+"/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543\n"+
		"x-amz-date: 20130524T000000Z\nx-amz-content-sha256: "+emptySHA256)
	if _, err := v.Verify(r, ""); !errors.Is(err, boom) || errs.As(err) != nil {
		t.Fatalf("error %v", err)
	}
}

type failingCreds struct{ err error }

func (f failingCreds) SecretKey(_ context.Context, _ string) (string, error) { return "", f.err }
