package e2eoss

import (
	"context"
	"net/http"
	"testing"
)

// TestBucketEncryption puts, gets and deletes every rule the seeds (001,
// 004) and the SDKs know: AES256, SM4 (SSE-OSS with SM4), KMS with the
// default key, KMS with a key id, KMS with SM4 data encryption; PUT is
// exactly 200, DELETE exactly 204 (the v1 SDK insists), and GetBucketInfo
// shows the same rule. Then every seed error, for each SDK and signature.
func TestBucketEncryption(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	if _, err := n.Keyring.CreateKey(ctx, "oss-rule-key"); err != nil {
		t.Fatal(err)
	}
	bob, err := n.IAM.CreateUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	bobs := map[string]client{}
	for _, c := range combos(t, n, bob.AccessKey, bob.SecretKey) {
		bobs[c.name()] = c
	}

	forEach(t, n, func(t *testing.T, c client) {
		b := bucketName("enc")
		must(t, c.createBucket(b, sseOpt{}))

		// No rule yet.
		_, err := c.getEnc(b)
		e := wantErr(t, err, http.StatusNotFound, "NoSuchServerSideEncryptionRule")
		if e.Message == "" || e.EC != "0005-00000004" {
			t.Errorf("message %q, EC %q (want 0005-00000004)", e.Message, e.EC)
		}
		info, err := c.bucketInfo(b)
		must(t, err)
		if info != (rule{}) {
			t.Errorf("bucket info rule without encryption = %+v", info)
		}

		for _, r := range []rule{
			{Alg: "AES256"},
			{Alg: "SM4"},
			{Alg: "KMS"},
			{Alg: "KMS", KeyID: "oss-rule-key"},
			{Alg: "KMS", DataEnc: "SM4"},
			{Alg: "KMS", KeyID: "oss-rule-key", DataEnc: "SM4"},
		} {
			must(t, c.putEnc(b, r))
			got, err := c.getEnc(b)
			must(t, err)
			if got != r {
				t.Errorf("put %+v, got %+v", r, got)
			}
			info, err := c.bucketInfo(b)
			must(t, err)
			if info != r {
				t.Errorf("put %+v, bucket info %+v", r, info)
			}
		}
		must(t, c.delEnc(b))
		_, err = c.getEnc(b)
		wantErr(t, err, http.StatusNotFound, "NoSuchServerSideEncryptionRule")
		must(t, c.delEnc(b)) // deleting none is not an error

		// Seed 004: an algorithm other than the supported ones.
		err = c.putEnc(b, rule{Alg: "DES"})
		e = wantErr(t, err, http.StatusBadRequest, "InvalidEncryptionAlgorithmError")
		if want := "The Encryption request you specified is not valid. Supported value: AES256/KMS."; e.Message != want {
			t.Errorf("message %q, want %q", e.Message, want)
		}
		// Seed 004: KMSMasterKeyID with AES256.
		err = c.putEnc(b, rule{Alg: "AES256", KeyID: "oss-rule-key"})
		e = wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
		if want := "KMSMasterKeyID is not applicable if the default sse algorithm is not KMS."; e.Message != want {
			t.Errorf("message %q, want %q", e.Message, want)
		}
		// Nothing was stored by the refused requests.
		_, err = c.getEnc(b)
		wantErr(t, err, http.StatusNotFound, "NoSuchServerSideEncryptionRule")

		// Seed 001/004: only the owner (403 AccessDenied otherwise).
		must(t, c.putEnc(b, rule{Alg: "AES256"}))
		other := bobs[c.name()]
		_, err = other.getEnc(b)
		wantErr(t, err, http.StatusForbidden, "AccessDenied")
		err = other.putEnc(b, rule{Alg: "KMS"})
		wantErr(t, err, http.StatusForbidden, "AccessDenied")
		err = other.delEnc(b)
		wantErr(t, err, http.StatusForbidden, "AccessDenied")
		got, err := c.getEnc(b)
		must(t, err)
		if got != (rule{Alg: "AES256"}) {
			t.Errorf("after refused changes: %+v", got)
		}

		// Missing bucket: NoSuchBucket, 404, with its EC.
		missing := bucketName("missing")
		for _, op := range []func() error{
			func() error { _, err := c.getEnc(missing); return err },
			func() error { return c.putEnc(missing, rule{Alg: "AES256"}) },
			func() error { return c.delEnc(missing) },
		} {
			e := wantErr(t, op(), http.StatusNotFound, "NoSuchBucket")
			if e.EC != "0015-00000101" {
				t.Errorf("NoSuchBucket EC %q", e.EC)
			}
		}
	})
}

// TestCreateBucketWithEncryption: x-oss-server-side-encryption and
// x-oss-server-side-data-encryption on PutBucket set the default (the v1
// SDK's own test: CreateBucket with KMS+SM4, then AES256).
func TestCreateBucketWithEncryption(t *testing.T) {
	n := startNode(t)
	if _, err := n.Keyring.CreateKey(context.Background(), "oss-create-key"); err != nil {
		t.Fatal(err)
	}
	forEach(t, n, func(t *testing.T, c client) {
		for _, o := range []sseOpt{
			{Alg: "KMS", DataEnc: "SM4"},
			{Alg: "AES256"},
			{Alg: "SM4"},
			{Alg: "KMS", KeyID: "oss-create-key"},
		} {
			b := bucketName("create")
			must(t, c.createBucket(b, o))
			got, err := c.getEnc(b)
			must(t, err)
			if want := (rule{o.Alg, o.KeyID, o.DataEnc}); got != want {
				t.Errorf("created with %+v, rule %+v", o, got)
			}
			must(t, c.deleteBucket(b))
		}
		b := bucketName("create")
		err := c.createBucket(b, sseOpt{Alg: "DES"})
		wantErr(t, err, http.StatusBadRequest, "InvalidEncryptionAlgorithmError")
		err = c.createBucket(b, sseOpt{Alg: "AES256", KeyID: "oss-create-key"})
		wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
		// Refused creations leave no bucket behind.
		_, err = c.getEnc(b)
		wantErr(t, err, http.StatusNotFound, "NoSuchBucket")
	})
}
