package hostile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestRemoteAdminHostile: the admin API that registers remote deployments
// (whose secrets the node will use to write elsewhere) accepts only root's
// signature over the very body it receives, and never answers a secret.
func TestRemoteAdminHostile(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	ctx := context.Background()
	const secret = "hostile-remote-secret-5d1e"
	body := func(name string) []byte {
		b, _ := json.Marshal(server.RemoteRequest{Name: name, URL: "http://127.0.0.1:1", AccessKey: "AK", SecretKey: secret})
		return b
	}
	send := func(ak, sk string, signed, sent []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, n.URL+server.AdminPrefix+"remotes/add", bytes.NewReader(sent))
		sum := sha256.Sum256(signed)
		auth.SignV4(req, ak, sk, "us-east-1", time.Now(), hex.EncodeToString(sum[:]))
		resp, err := n.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// A body swapped under a captured signature is refused.
	if st, _ := send(n.AccessKey, n.SecretKey, body("good"), body("evil")); st == http.StatusOK {
		t.Fatal("a body other than the signed one registered a remote")
	}
	if ok, _ := n.Service.Remotes().Exists(ctx, "evil"); ok {
		t.Fatal("the swapped body's remote is registered")
	}
	// A user that is not root is refused.
	u, err := n.IAM.CreateUser(ctx, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := send(u.AccessKey, u.SecretKey, body("m"), body("m")); st != http.StatusForbidden {
		t.Fatalf("a user's remote add: %d, want 403", st)
	}
	// Root's well-signed request works, and the answer holds no secret.
	st, out := send(n.AccessKey, n.SecretKey, body("good"), body("good"))
	if st != http.StatusOK || !strings.Contains(out, "good") || strings.Contains(out, secret) {
		t.Fatalf("root's remote add: %d %s", st, out)
	}
}
