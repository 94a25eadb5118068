package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// fakeProvider answers GenerateDataKey with its name as the key id.
type fakeProvider struct {
	kms.Provider
	name string
}

func (p fakeProvider) GenerateDataKey(context.Context, string, map[string]string) (kms.DataKey, error) {
	return kms.DataKey{KeyID: p.name}, nil
}

// fakeTarget is a migration target's provider that records its close.
type fakeTarget struct {
	fakeProvider
	kms.KeyAdmin
	kms.RootSealer
	closed bool
}

func (f *fakeTarget) GenerateDataKey(ctx context.Context, id string, c map[string]string) (kms.DataKey, error) {
	return f.fakeProvider.GenerateDataKey(ctx, id, c)
}
func (f *fakeTarget) Close() error { f.closed = true; return nil }

// TestMigrationStartFailureRollsBack: when the migrate job cannot be
// stored, the node does not keep sending new data keys to the target (with
// no job to move anything there, and the target closed on the next
// attempt), and no data key was made under the target meanwhile.
func TestMigrationStartFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	m := &migrating{Provider: fakeProvider{name: "old"}}
	ext := &fakeTarget{fakeProvider: fakeProvider{name: "target"}}
	tgt := &migrationTarget{external: ext, kind: KMSKMIP}
	during := make(chan string, 1)
	stored := errors.New("the job store refused")
	err := m.switchTo(tgt, func() error {
		go func() {
			dk, _ := m.GenerateDataKey(ctx, "k", nil)
			during <- dk.KeyID
		}()
		time.Sleep(20 * time.Millisecond) // the request above waits for the outcome
		return stored
	})
	if !errors.Is(err, stored) {
		t.Fatalf("switchTo: %v", err)
	}
	if m.current() != nil {
		t.Error("the target is still set after the job failed to start")
	}
	if !ext.closed {
		t.Error("the target was not closed")
	}
	if got := <-during; got != "old" {
		t.Errorf("a data key asked for while the job was being stored came from %q", got)
	}
	if dk, _ := m.GenerateDataKey(ctx, "k", nil); dk.KeyID != "old" {
		t.Errorf("new data keys come from %q after the rollback", dk.KeyID)
	}

	// A job that starts keeps the target.
	ext2 := &fakeTarget{fakeProvider: fakeProvider{name: "target"}}
	if err := m.switchTo(&migrationTarget{external: ext2, kind: KMSKMIP}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if dk, _ := m.GenerateDataKey(ctx, "k", nil); dk.KeyID != "target" || ext2.closed {
		t.Errorf("after a started job: key from %q, closed %v", dk.KeyID, ext2.closed)
	}
}
