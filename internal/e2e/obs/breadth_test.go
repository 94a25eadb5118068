package e2eobs

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// TestBreadth: OBS bucket tagging and CORS through the OBS SDK, in each of
// its signing modes.
func TestBreadth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "breadth-"+m.name)

		_, err := c.GetBucketTagging(b)
		wantObsErr(t, err, 404, "NoSuchTagSet")
		in := &obs.SetBucketTaggingInput{Bucket: b}
		in.Tags = []obs.Tag{{Key: "owner", Value: "ops"}, {Key: "cost", Value: "7"}}
		if _, err := c.SetBucketTagging(in); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetBucketTagging(b)
		if err != nil || len(got.Tags) != 2 || got.Tags[0].Key != "cost" || got.Tags[1].Value != "ops" {
			t.Fatalf("GetBucketTagging: %+v (%v)", got, err)
		}
		in.Tags = []obs.Tag{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}
		_, err = c.SetBucketTagging(in)
		wantObsErr(t, err, 400, "InvalidTag")
		if _, err := c.DeleteBucketTagging(b); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetBucketTagging(b)
		wantObsErr(t, err, 404, "NoSuchTagSet")

		_, err = c.GetBucketCors(b)
		wantObsErr(t, err, 404, "NoSuchCORSConfiguration")
		cin := &obs.SetBucketCorsInput{Bucket: b}
		cin.CorsRules = []obs.CorsRule{{ID: "r1", AllowedOrigin: []string{"https://a.example"}, AllowedMethod: []string{"GET", "HEAD"},
			AllowedHeader: []string{"*"}, MaxAgeSeconds: 60, ExposeHeader: []string{"ETag"}}}
		if _, err := c.SetBucketCors(cin); err != nil {
			t.Fatal(err)
		}
		cc, err := c.GetBucketCors(b)
		if err != nil || len(cc.CorsRules) != 1 || cc.CorsRules[0].ID != "r1" || cc.CorsRules[0].MaxAgeSeconds != 60 || len(cc.CorsRules[0].AllowedMethod) != 2 {
			t.Fatalf("GetBucketCors: %+v (%v)", cc, err)
		}
		cin.CorsRules[0].AllowedMethod = []string{"PATCH"}
		_, err = c.SetBucketCors(cin)
		wantObsErr(t, err, 400, "InvalidRequest")
		if _, err := c.DeleteBucketCors(b); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetBucketCors(b)
		wantObsErr(t, err, 404, "NoSuchCORSConfiguration")
	})
}
