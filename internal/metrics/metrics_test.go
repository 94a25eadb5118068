package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

func TestKMSErrorKinds(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{kms.ErrNotFound, "not_found"},
		{kms.ErrDisabled.WithMessage("Key x is disabled."), "disabled"},
		{kms.ErrUnavailable, "unavailable"},
		{kms.ErrDecrypt, "decrypt"},
		{errors.ErrUnsupported, "unsupported"},
		{errors.New("boom"), "other"},
	} {
		if got := kmsErrorKind(c.err); got != c.want {
			t.Errorf("kmsErrorKind(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestNilRegistryRecordsNothing(t *testing.T) {
	var r *Registry
	r.ObserveRequest(Request{Dialect: "s3", Operation: "GetObject", Status: 200}) // no panic
}

func TestHandlerToken(t *testing.T) {
	r := New()
	r.ObserveRequest(Request{Dialect: "s3", Operation: "GetObject", Status: 200, Duration: time.Millisecond})
	h := r.Handler("secret-token", nil)
	for _, c := range []struct {
		authz string
		want  int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer secret-toke", http.StatusUnauthorized},
		{"Bearer secret-token-and-more", http.StatusUnauthorized},
		{"Basic secret-token", http.StatusUnauthorized},
		{"Bearer secret-token", http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if c.authz != "" {
			req.Header.Set("Authorization", c.authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%q: %d, want %d", c.authz, w.Code, c.want)
		}
		if w.Code == http.StatusOK && !strings.Contains(w.Body.String(), `strongroom_requests_total{code="200",dialect="s3",operation="GetObject"} 1`) {
			t.Errorf("scrape:\n%s", w.Body.String())
		}
	}
}

// BenchmarkObserveRequest is what the metrics add to every request.
func BenchmarkObserveRequest(b *testing.B) {
	r := New()
	q := Request{Dialect: "s3", Operation: "GetObject", Status: 200, Received: 0, Sent: 4096, Duration: 300 * time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		r.ObserveRequest(q)
	}
}
