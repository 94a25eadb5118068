package e2eobs

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// TestLifecycle sets, reads and deletes a lifecycle through the OBS SDK in
// each signing mode (OBS uses S3's document with a rule-level Prefix).
func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "lc-"+m.name)
		_, err := c.GetBucketLifecycleConfiguration(b)
		wantObsErr(t, err, 404, "NoSuchLifecycleConfiguration")

		in := &obs.SetBucketLifecycleConfigurationInput{Bucket: b}
		in.LifecycleRules = []obs.LifecycleRule{{
			ID: "logs", Prefix: "log/", Status: obs.RuleStatusEnabled,
			Expiration:                     obs.Expiration{Days: 30},
			NoncurrentVersionExpiration:    obs.NoncurrentVersionExpiration{NoncurrentDays: 7},
			AbortIncompleteMultipartUpload: obs.AbortIncompleteMultipartUpload{DaysAfterInitiation: 2},
		}}
		out, err := c.SetBucketLifecycleConfiguration(in)
		if err != nil {
			t.Fatal(err)
		}
		wantRequestID(t, out)
		got, err := c.GetBucketLifecycleConfiguration(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.LifecycleRules) != 1 {
			t.Fatalf("rules %+v", got.LifecycleRules)
		}
		r := got.LifecycleRules[0]
		if r.ID != "logs" || r.Prefix != "log/" || r.Status != obs.RuleStatusEnabled || r.Expiration.Days != 30 ||
			r.NoncurrentVersionExpiration.NoncurrentDays != 7 || r.AbortIncompleteMultipartUpload.DaysAfterInitiation != 2 {
			t.Fatalf("rule read back: %+v", r)
		}
		if _, err := c.DeleteBucketLifecycleConfiguration(b); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetBucketLifecycleConfiguration(b)
		wantObsErr(t, err, 404, "NoSuchLifecycleConfiguration")
	})
}
