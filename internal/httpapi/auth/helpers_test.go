package auth

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// creds is an in-memory credential store.
type creds map[string]string

func (c creds) SecretKey(_ context.Context, ak string) (string, error) {
	if s, ok := c[ak]; ok {
		return s, nil
	}
	return "", errs.InvalidAccessKeyID
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// wantErr asserts that err carries exactly want (same code and message), or
// that err is nil when want is nil. Code alone would not do: AccessDenied,
// ExpiredToken and the refinements of package auth share a code.
func wantErr(t *testing.T, err error, want *errs.Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	got := errs.As(err)
	if got == nil || got.Code != want.Code || got.Message != want.Message {
		t.Fatalf("error = %v; want %s %q", err, want.Code, want.Message)
	}
}

// rawRequest parses a request as a server receives it (RequestURI, Host
// promoted out of Header, Content-Length in Header). Lines end with "\n" in
// s; the head is converted to CRLF and the body after the blank line is kept
// verbatim.
func rawRequest(t testing.TB, s string) *http.Request {
	t.Helper()
	head, body, _ := strings.Cut(s, "\n\n")
	wire := strings.ReplaceAll(strings.TrimSpace(head), "\n", "\r\n") + "\r\n\r\n" + body
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		t.Fatalf("parse request: %v", err)
	}
	return r
}

// verifyAndRead runs Verify and reads the whole body.
func verifyAndRead(v *Verifier, r *http.Request, vhost string) (*Result, []byte, error) {
	res, err := v.Verify(r, vhost)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

func hmacSHA1(secret, s string) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(s))
	return m.Sum(nil)
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
