package all

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// TestKMSErrors: each dialect's code and status for a KMS outage (a
// retryable 503 ServiceUnavailable everywhere, never S3's permanent-looking
// KMS.KMSInternalException), a refused key use, and a key pending deletion
// or destroyed.
func TestKMSErrors(t *testing.T) {
	want := map[string]map[string]struct {
		status int
		code   string
	}{
		"s3":  {"outage": {503, "ServiceUnavailable"}, "denied": {403, "AccessDenied"}, "state": {400, "KMS.KMSInvalidStateException"}},
		"oss": {"outage": {503, "ServiceUnavailable"}, "denied": {403, "AccessDenied"}, "state": {400, "InvalidArgument"}},
		"cos": {"outage": {503, "ServiceUnavailable"}, "denied": {403, "AccessDenied"}, "state": {400, "InvalidArgument"}},
		"obs": {"outage": {503, "ServiceUnavailable"}, "denied": {403, "AccessDenied"}, "state": {400, "KMS.KMSInvalidStateException"}},
	}
	cases := map[string]*errs.Error{
		"outage": errs.KMSUnavailable,
		"denied": errs.KMSAccessDenied,
		"state":  errs.KMSInvalidState.WithMessage("The KMS key \"k\" was destroyed."),
	}
	for _, d := range Dialects() {
		for name, e := range cases {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/b/k", nil)
			d.WriteError(w, r, e, "/b/k", "req-1")
			var body struct{ Code, Message string }
			if err := xml.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s %s: %v", d.Name(), name, err)
			}
			got, exp := w.Code, want[d.Name()][name]
			if got != exp.status || body.Code != exp.code || body.Message == "" {
				t.Errorf("%s %s: %d %s %q, want %d %s", d.Name(), name, got, body.Code, body.Message, exp.status, exp.code)
			}
		}
	}
}
