package hostile

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// Browser form uploads (POST Object) take their credentials and the
// object's properties from a body an attacker writes: a signed form
// replayed elsewhere, fields smuggled after the file or repeated, header
// blocks that would make the server buffer, a body cut short.

type formNode struct {
	t *testing.T
	n *testnode.Node
}

func (f formNode) signed(method, path string, body []byte) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.n.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	auth.SignV4(req, f.n.AccessKey, f.n.SecretKey, "us-east-1", time.Now(), "")
	resp, err := f.n.Client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// form renders fields signed for bucket (each covered by an eq
// condition), the file, and after the file unsigned fields.
func (f formNode) form(bucket string, fields []e2eutil.FormField, file []byte, after ...e2eutil.FormField) (body []byte, contentType string) {
	conds := []any{map[string]string{"bucket": bucket}}
	for _, x := range fields {
		conds = append(conds, map[string]string{x.Name: x.Value})
	}
	fields = append(fields, e2eutil.SignPostV4(f.n.AccessKey, f.n.SecretKey, "us-east-1", time.Now(), time.Now().Add(time.Hour), conds)...)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, x := range fields {
		mw.WriteField(x.Name, x.Value)
	}
	fw, _ := mw.CreateFormFile("file", "f.bin")
	fw.Write(file)
	for _, x := range after {
		mw.WriteField(x.Name, x.Value)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func (f formNode) post(bucket, contentType string, body []byte) (int, string) {
	f.t.Helper()
	resp, err := f.n.Client.Post(f.n.URL+"/"+bucket, contentType, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f formNode) exists(bucket, key string) bool {
	f.t.Helper()
	return f.signed(http.MethodHead, "/"+bucket+"/"+key, nil).StatusCode == http.StatusOK
}

func TestPostObjectHostile(t *testing.T) {
	t.Parallel()
	f := formNode{t: t, n: testnode.Start(t, testnode.Options{})}
	for _, b := range []string{"form-a", "form-b"} {
		if resp := f.signed(http.MethodPut, "/"+b, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("create %s: %d", b, resp.StatusCode)
		}
	}
	key := func(k string) []e2eutil.FormField { return []e2eutil.FormField{{Name: "key", Value: k}} }

	t.Run("form signed for another bucket", func(t *testing.T) {
		body, ct := f.form("form-a", key("replayed"), []byte("x"))
		status, doc := f.post("form-b", ct, body)
		if status != http.StatusForbidden || !strings.Contains(doc, `Policy Condition failed: [&#34;eq&#34;, &#34;$bucket&#34;, &#34;form-a&#34;]`) {
			t.Errorf("replayed to another bucket: %d %s", status, doc)
		}
		if f.exists("form-b", "replayed") {
			t.Error("the replayed form was stored")
		}
	})

	// Fields the policy did not see never reach the write: those after the
	// file, and a repeated field's later values.
	for _, tc := range []struct {
		name, signed, smuggled string
		form                   func() ([]byte, string)
	}{
		{"fields after the file are ignored", "signed-key", "smuggled", func() ([]byte, string) {
			return f.form("form-a", key("signed-key"), []byte("x"),
				e2eutil.FormField{Name: "key", Value: "smuggled"}, e2eutil.FormField{Name: "x-amz-meta-smuggled", Value: "1"})
		}},
		{"a repeated field is the first, for the policy and the write", "first", "second", func() ([]byte, string) {
			body, ct := f.form("form-a", key("first"), []byte("x"))
			return insertFields(body, ct, e2eutil.FormField{Name: "KEY", Value: "second"}), ct
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := tc.form()
			if status, doc := f.post("form-a", ct, body); status != http.StatusNoContent {
				t.Fatalf("POST: %d %s", status, doc)
			}
			if !f.exists("form-a", tc.signed) || f.exists("form-a", tc.smuggled) {
				t.Errorf("%q was written instead of %q", tc.smuggled, tc.signed)
			}
		})
	}

	// The multipart reader accepts part headers of up to 10 MB: only the
	// gate on the raw body keeps the fields' memory bounded.
	t.Run("oversized part header", func(t *testing.T) {
		body, ct := f.form("form-a", key("big-header"), []byte("x"))
		pad := "X-Pad: " + strings.Repeat("a", 1<<20) + "\r\n"
		body = bytes.Replace(body, []byte("Content-Disposition: form-data; name=\"key\""), []byte(pad+"Content-Disposition: form-data; name=\"key\""), 1)
		status, doc := f.post("form-a", ct, body)
		if status != http.StatusBadRequest || !strings.Contains(doc, "<Code>MaxPostPreDataLengthExceededError</Code>") {
			t.Errorf("1 MiB part header: %d %s", status, doc)
		}
	})

	t.Run("many small fields", func(t *testing.T) {
		// 2000 bytes of values (under 20 KiB), but over 100 KiB of part
		// headers and boundaries, which S3 counts too.
		var pad []e2eutil.FormField
		for i := range 2000 {
			pad = append(pad, e2eutil.FormField{Name: fmt.Sprintf("x-ignore-%d", i), Value: "a"})
		}
		body, ct := f.form("form-a", key("many"), []byte("x"))
		body = insertFields(body, ct, pad...)
		status, doc := f.post("form-a", ct, body)
		if status != http.StatusBadRequest || !strings.Contains(doc, "<Code>MaxPostPreDataLengthExceededError</Code>") {
			t.Errorf("2000 fields: %d %s", status, doc)
		}
	})

	t.Run("body cut short", func(t *testing.T) {
		body, ct := f.form("form-a", key("cut"), bytes.Repeat([]byte("z"), 256<<10))
		conn, err := net.Dial("tcp", f.n.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /form-a HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", f.n.Addr, ct, len(body))
		conn.Write(body[:len(body)/2])
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, conn)
		if f.exists("form-a", "cut") {
			t.Error("a truncated upload was stored")
		}
	})
}

// insertFields adds fields after the form's first one, where a signed
// form cannot cover them.
func insertFields(body []byte, contentType string, fields ...e2eutil.FormField) []byte {
	_, boundary, _ := strings.Cut(contentType, "boundary=")
	delim := []byte("\r\n--" + boundary + "\r\n")
	i := bytes.Index(body, delim)
	var parts bytes.Buffer
	for _, x := range fields {
		fmt.Fprintf(&parts, "\r\n--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s", boundary, x.Name, x.Value)
	}
	return append(append(append([]byte(nil), body[:i]...), parts.Bytes()...), body[i:]...)
}
