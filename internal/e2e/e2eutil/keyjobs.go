package e2eutil

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// Admin calls the node's admin API signed with its root credentials, as
// the CLI does, and returns the body of a 200 (anything else fails t).
func Admin(t testing.TB, n *testnode.Node, method, path string, q url.Values) []byte {
	t.Helper()
	status, body := AdminStatus(t, n, method, path, q)
	if status != http.StatusOK {
		t.Fatalf("admin %s %s: %d %s", method, path, status, body)
	}
	return body
}

// AdminStatus is Admin answering any status, with the body.
func AdminStatus(t testing.TB, n *testnode.Node, method, path string, q url.Values) (int, []byte) {
	t.Helper()
	return AdminBody(t, n, method, path, q, nil)
}

// AdminBody is AdminStatus sending body (as the CLI sends key migrate's).
func AdminBody(t testing.TB, n *testnode.Node, method, path string, q url.Values, body []byte) (int, []byte) {
	t.Helper()
	u := n.URL + server.AdminPrefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	sum := sha256.Sum256(body)
	auth.SignV4(req, n.AccessKey, n.SecretKey, "us-east-1", time.Now(), hex.EncodeToString(sum[:]))
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// StartKeyJob starts key job op ("rewrap", "reencrypt") with the query q
// and returns a function that waits for its end and returns its status.
func StartKeyJob(t testing.TB, n *testnode.Node, op string, q url.Values) (wait func() service.KeyJobStatus) {
	t.Helper()
	var st service.KeyJobStatus
	if err := json.Unmarshal(Admin(t, n, http.MethodPost, "keys/"+op, q), &st); err != nil {
		t.Fatal(err)
	}
	return func() service.KeyJobStatus {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var st service.KeyJobStatus
			if err := json.Unmarshal(Admin(t, n, http.MethodGet, "keyjobs/"+jobName(op), nil), &st); err != nil {
				t.Fatal(err)
			}
			if !st.Running {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not end: %+v", op, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func jobName(op string) string {
	switch op {
	case "rewrap":
		return service.RewrapJob
	case "reencrypt":
		return service.ReencryptJob
	}
	return service.MigrateJob
}
