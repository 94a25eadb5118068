package e2eobs

import (
	"encoding/xml"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// obsReplication sends ?replication to bucket on a URL the OBS SDK signed
// (the SDK has no replication call, but signs the sub-resource) and
// returns the status, the error code (x-obs-error-code or the body's) and
// the body.
func obsReplication(t *testing.T, e *env, c *obs.ObsClient, m mode, method obs.HttpMethodType, bucket string, body []byte) (int, string, []byte) {
	t.Helper()
	resp, b := signedDo(t, e, c, m, &obs.CreateSignedUrlInput{Method: method, Bucket: bucket, SubResource: obs.SubResourceType("replication"), Expires: 300}, body)
	code := resp.Header.Get("x-obs-error-code")
	if code == "" && resp.StatusCode >= 300 {
		var doc struct{ Code string }
		xml.Unmarshal(b, &doc)
		code = doc.Code
	}
	return resp.StatusCode, code, b
}

// TestReplicationOBS sets, reads and deletes an OBS replication
// configuration (Agency, rule-level Prefix, Destination Bucket with
// DeleteData) in every signing mode; OBS's versioning rule (the same state
// at both ends) and the error codes.
func TestReplicationOBS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		src, dst := e.bucket(t, c, "repl-src-"+m.name), e.bucket(t, c, "repl-dst-"+m.name)
		doc := func(dest string) []byte {
			return []byte(`<ReplicationConfiguration><Agency>repl-agency</Agency><Rule><ID>rule1</ID><Prefix>logs/</Prefix><Status>Enabled</Status>` +
				`<Destination><Bucket>` + dest + `</Bucket><StorageClass>STANDARD</StorageClass><DeleteData>Enabled</DeleteData></Destination>` +
				`<HistoricalObjectReplication>Disabled</HistoricalObjectReplication></Rule></ReplicationConfiguration>`)
		}
		want := func(what string, status int, code string, gotStatus int, gotCode string, body []byte) {
			t.Helper()
			if gotStatus != status || gotCode != code {
				t.Fatalf("%s: %d %s (%s), want %d %s", what, gotStatus, gotCode, body, status, code)
			}
		}

		st, code, body := obsReplication(t, e, c, m, obs.HttpMethodGet, src, nil)
		want("get before put", 404, "ReplicationConfigurationNotFoundError", st, code, body)
		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodPut, src, doc("no-such-obs-bucket"))
		want("missing destination", 400, "InvalidRequest", st, code, body)
		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodPut, src, []byte("<ReplicationConfiguration><Rule>"))
		want("malformed", 400, "MalformedXML", st, code, body)

		// Both unversioned: the same state, accepted.
		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodPut, src, doc(dst))
		want("put", 200, "", st, code, body)
		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodGet, src, nil)
		want("get", 200, "", st, code, body)
		var got struct {
			Agency string
			Rule   []struct {
				ID, Prefix, Status string
				Destination        struct{ Bucket, StorageClass, DeleteData string }
			}
		}
		if err := xml.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Agency != "repl-agency" || len(got.Rule) != 1 || got.Rule[0].ID != "rule1" || got.Rule[0].Prefix != "logs/" ||
			got.Rule[0].Status != "Enabled" || got.Rule[0].Destination.Bucket != dst || got.Rule[0].Destination.DeleteData != "Enabled" {
			t.Fatalf("read back: %s", body)
		}

		// Versioning must then stay the same at both ends.
		if _, err := c.SetBucketVersioning(&obs.SetBucketVersioningInput{Bucket: src, BucketVersioningConfiguration: obs.BucketVersioningConfiguration{Status: obs.VersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodPut, src, doc(dst))
		want("versioning differs", 400, "InvalidRequest", st, code, body)
		_, err := c.SetBucketVersioning(&obs.SetBucketVersioningInput{Bucket: src, BucketVersioningConfiguration: obs.BucketVersioningConfiguration{Status: obs.VersioningStatusSuspended}})
		wantObsErr(t, err, 409, "InvalidBucketState")

		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodDelete, src, nil)
		want("delete", 204, "", st, code, body)
		st, code, body = obsReplication(t, e, c, m, obs.HttpMethodGet, src, nil)
		want("get after delete", 404, "ReplicationConfigurationNotFoundError", st, code, body)
	})
}
