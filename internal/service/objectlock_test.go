package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

func TestLockRefusal(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		lock   meta.Lock
		bypass bool
		want   string
	}{
		{"none", meta.Lock{}, false, ""},
		{"compliance", meta.Lock{LockMode: LockCompliance, LockUntil: &later}, false, "compliance retention"},
		{"compliance ignores bypass", meta.Lock{LockMode: LockCompliance, LockUntil: &later}, true, "compliance retention"},
		{"compliance expired", meta.Lock{LockMode: LockCompliance, LockUntil: &earlier}, false, ""},
		{"compliance until now", meta.Lock{LockMode: LockCompliance, LockUntil: &now}, false, ""},
		{"governance", meta.Lock{LockMode: LockGovernance, LockUntil: &later}, false, "governance retention"},
		{"governance bypassed", meta.Lock{LockMode: LockGovernance, LockUntil: &later}, true, ""},
		{"legal hold", meta.Lock{LegalHold: true}, true, "legal hold"},
		{"legal hold outlives retention", meta.Lock{LockMode: LockGovernance, LockUntil: &earlier, LegalHold: true}, false, "legal hold"},
	} {
		if got := lockRefusal(tc.lock, now, tc.bypass); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRetentionRefusal(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time { v := now.Add(time.Duration(h) * time.Hour); return &v }
	comp := meta.Lock{LockMode: LockCompliance, LockUntil: at(2)}
	gov := meta.Lock{LockMode: LockGovernance, LockUntil: at(2)}
	for _, tc := range []struct {
		name   string
		cur    meta.Lock
		mode   string
		until  *time.Time
		bypass bool
		want   string
	}{
		{"first retention", meta.Lock{}, LockCompliance, at(1), false, ""},
		{"compliance extended", comp, LockCompliance, at(3), false, ""},
		{"compliance same date", comp, LockCompliance, at(2), false, ""},
		{"compliance shortened", comp, LockCompliance, at(1), true, "compliance retention"},
		{"compliance to governance", comp, LockGovernance, at(3), true, "compliance retention"},
		{"compliance removed", comp, "", nil, true, "compliance retention"},
		{"compliance expired", meta.Lock{LockMode: LockCompliance, LockUntil: at(-1)}, "", nil, false, ""},
		{"governance extended", gov, LockGovernance, at(3), false, ""},
		{"governance to compliance", gov, LockCompliance, at(2), false, ""},
		{"governance shortened", gov, LockGovernance, at(1), false, "governance retention"},
		{"governance shortened with bypass", gov, LockGovernance, at(1), true, ""},
		{"governance removed", gov, "", nil, false, "governance retention"},
		{"governance removed with bypass", gov, "", nil, true, ""},
	} {
		if got := retentionRefusal(tc.cur, tc.mode, tc.until, now, tc.bypass); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestObjectLockConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		c    ObjectLockConfig
		want error
	}{
		{ObjectLockConfig{}, nil},
		{ObjectLockConfig{Mode: LockGovernance, Days: 1}, nil},
		{ObjectLockConfig{Mode: LockCompliance, Years: 100}, nil},
		{ObjectLockConfig{Mode: "FOREVER", Days: 1}, errs.MalformedXML},
		{ObjectLockConfig{Mode: LockGovernance}, errs.MalformedXML},
		{ObjectLockConfig{Mode: LockGovernance, Days: 1, Years: 1}, errs.MalformedXML},
		{ObjectLockConfig{Mode: LockGovernance, Days: -1}, errs.InvalidArgument},
		{ObjectLockConfig{Mode: LockGovernance, Years: 101}, errs.InvalidArgument},
	} {
		if err := tc.c.Validate(); !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("%+v: %v, want %v", tc.c, err, tc.want)
		}
	}
}

// lockFixture is a lifecycle fixture whose bucket has object lock.
func lockFixture(t *testing.T) (*fixture, *fakeClock, func() map[string]int64) {
	f, clk, e := lifecycleFixture(t, 10)
	ctx := context.Background()
	if err := f.svc.EnableObjectLock(ctx, f.p, "bkt"); err != nil {
		t.Fatal(err)
	}
	return f, clk, func() map[string]int64 {
		t.Helper()
		j, err := e.RunPass(ctx, LifecycleJob)
		if err != nil {
			t.Fatal(err)
		}
		return j.Pass
	}
}

func (f *fixture) putLocked(t *testing.T, key, body string, lock *LockRequest) *meta.Object {
	t.Helper()
	o, err := f.svc.PutObject(context.Background(), f.p, PutObjectInput{Bucket: "bkt", Key: key, Lock: lock,
		Body: Body{Reader: bytes.NewReader([]byte(body)), Size: int64(len(body))}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestLifecycleRespectsObjectLock: noncurrent-version expiration keeps a
// locked version (counting it as "locked") until its retention ends or its
// legal hold is lifted; expiring a locked current version only adds a
// delete marker.
func TestLifecycleRespectsObjectLock(t *testing.T) {
	f, clk, pass := lockFixture(t)
	ctx := context.Background()
	until := clk.Now().Add(10 * 24 * time.Hour)
	old := f.putLocked(t, "k", "v1", &LockRequest{Mode: LockCompliance, Until: &until})
	held := f.putLocked(t, "h", "h1", &LockRequest{LegalHold: true})
	clk.Add(time.Hour)
	f.putLocked(t, "k", "v2", nil)
	f.putLocked(t, "h", "h2", nil)
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycle(t, `
<Rule><ID>all</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`)); err != nil {
		t.Fatal(err)
	}
	// Day 3: both noncurrent versions are due, both locked; the current
	// versions expire into delete markers, which a lock does not forbid.
	clk.Add(3 * 24 * time.Hour)
	if c := pass(); c["locked"] != 2 || c["noncurrent-expired"] != 0 || c["expired"] != 2 {
		t.Fatalf("pass while locked: %v", c)
	}
	if got := f.versions(t, "k"); fmt.Sprint(got) != "[marker v2 v1]" {
		t.Fatalf("k while locked: %v", got)
	}
	// The legal hold lifted: h1 goes; v1 stays until its date.
	if err := f.svc.PutObjectLegalHold(ctx, f.p, "bkt", "h", held.VersionID, false); err != nil {
		t.Fatal(err)
	}
	pass()
	if got := f.versions(t, "h"); fmt.Sprint(got) != "[marker h2]" {
		t.Fatalf("h after lifting the hold: %v", got)
	}
	if got := f.versions(t, "k"); fmt.Sprint(got) != "[marker v2 v1]" {
		t.Fatalf("k before its date: %v", got)
	}
	clk.Add(8 * 24 * time.Hour)
	pass()
	if _, err := f.meta.GetObjectVersion(ctx, "bkt", "k", old.VersionID); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Fatalf("v1 after its retention ended: %v", err)
	}
}

// TestObjectLockRefusalsAudited: a delete object lock refuses is
// AccessDenied with S3's message, and logged like any other denial.
func TestObjectLockRefusalsAudited(t *testing.T) {
	f, clk, _ := lockFixture(t)
	ctx := context.Background()
	var logs bytes.Buffer
	f.svc.log = slog.New(slog.NewTextHandler(&logs, nil))
	until := clk.Now().Add(time.Hour)
	o := f.putLocked(t, "k", "v", &LockRequest{Mode: LockGovernance, Until: &until})
	_, err := f.svc.DeleteObjectVersion(ctx, f.p, "bkt", "k", o.VersionID, false)
	if !errors.Is(err, errs.ObjectLocked) {
		t.Fatalf("delete of a locked version: %v", err)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`msg="access denied"`)) || !bytes.Contains(logs.Bytes(), []byte("object lock: governance retention")) {
		t.Fatalf("refusal not audited: %s", logs.String())
	}
	// The owner holds s3:BypassGovernanceRetention.
	if _, err := f.svc.DeleteObjectVersion(ctx, f.p, "bkt", "k", o.VersionID, true); err != nil {
		t.Fatalf("bypassed delete: %v", err)
	}
}
