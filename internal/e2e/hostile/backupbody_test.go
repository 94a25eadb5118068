package hostile

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// lines is an endless body of one long line repeated (n bytes in all):
// the server's set of base blob IDs stays one entry, so only the bound on
// the body stops it.
type lines struct{ n int64 }

var line = append(bytes.Repeat([]byte("b"), 32<<10-1), '\n')

func (l *lines) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	n := copy(p, line)
	if int64(n) > l.n {
		n = int(l.n)
	}
	l.n -= int64(n)
	return n, nil
}

// TestBackupBaseBodyBounded: the body of an increment's backup request
// (POST backup: the base archive's blob IDs) is bounded: past
// server.MaxBackupBase the request fails with 413, not after reading on
// and on.
func TestBackupBaseBodyBounded(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	req, _ := http.NewRequest(http.MethodPost, n.URL+server.AdminPrefix+"backup", &lines{n: server.MaxBackupBase + 1<<20})
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	auth.SignV4(req, n.AccessKey, n.SecretKey, "us-east-1", time.Now(), "UNSIGNED-PAYLOAD")
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized base list: %d %s, want 413", resp.StatusCode, body)
	}
}
