package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/reqid"
)

func TestRecord(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	ctx, denied := Track(reqid.With(context.Background(), "REQ1"))

	Record(ctx, nil, Event{Type: TypeKey, Action: "create"}) // nil logger: nothing, no panic
	if denied() {
		t.Fatal("a key event marked a denial")
	}
	Record(ctx, w, Event{Type: TypeBucketConfig, Action: "PutBucketPolicy", Bucket: "b"})
	if denied() {
		t.Fatal("a config event marked a denial")
	}
	Record(ctx, w, Event{Type: TypeDenied, Action: "s3:GetObject"})
	if !denied() {
		t.Fatal("a denial was not tracked")
	}
	// Tracked without a logger too: the front end must not add a second
	// line for a refusal the service already logged.
	ctx2, denied2 := Track(context.Background())
	Record(ctx2, nil, Event{Type: TypeDenied})
	if !denied2() {
		t.Fatal("a denial with no logger was not tracked")
	}

	recs := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(recs) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(recs), buf.String())
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(recs[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e["request_id"] != "REQ1" || e["type"] != TypeBucketConfig || e["bucket"] != "b" || e["time"] == nil || e["key"] != nil {
		t.Errorf("record %v", e)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
