package oss

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// A malformed bucket policy is OSS's InvalidPolicyDocument (EC
// 0030-00000005) with the message that points at the problem;
// PutBucketPolicy succeeds with 200.
func TestPolicyErrorsAndStatus(t *testing.T) {
	msg := `Statement[0].Action: unknown action "oss:GetObjekt"`
	w := httptest.NewRecorder()
	Dialect{}.WriteError(w, httptest.NewRequest(http.MethodPut, "http://oss.test/bkt?policy", nil), errs.MalformedPolicy.WithMessage(msg), "/bkt", "RID")
	var b ErrorBody
	if err := xml.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusBadRequest || b.Code != "InvalidPolicyDocument" || b.Message != msg || b.EC != "0030-00000005" || w.Header().Get("x-oss-ec") != b.EC {
		t.Errorf("MalformedPolicy: %d %+v", w.Code, b)
	}
	if got := (Dialect{}).PutBucketPolicyStatus(); got != http.StatusOK {
		t.Errorf("PutBucketPolicyStatus = %d", got)
	}
}
